// Accumulates an IrProgram while the elaborator walks an entry point at concrete bindings.
import type { IrOp, IrProgram, IrValue, IrWeight, ValueId } from "./ir.js";
import type { Span } from "../syntax/ast.js";

export interface Unsupported {
  message: string;
  file: string;
  span: Span;
}

export class IrBuilder {
  readonly values: IrValue[] = [];
  readonly ops: IrOp[] = [];
  readonly weights: IrWeight[] = [];
  readonly inputs: { name: string; value: ValueId }[] = [];
  readonly outputs: { name: string; value: ValueId }[] = [];
  /** Constructs the elaborator checked but the runtime cannot execute yet. */
  readonly unsupported: Unsupported[] = [];
  private weightNames = new Set<string>();

  value(width: number, name: string, dtype: "f32" | "i32" = "f32"): ValueId {
    const id = this.values.length;
    this.values.push({ id, width, dtype, name });
    return id;
  }

  op(op: IrOp): void {
    this.ops.push(op);
  }

  weight(w: IrWeight): void {
    if (this.weightNames.has(w.name)) return;
    this.weightNames.add(w.name);
    this.weights.push(w);
  }

  build(entry: string, model = false): IrProgram {
    return { entry, ...(model ? { model: true } : {}), values: this.values, inputs: this.inputs, outputs: this.outputs, weights: this.weights, ops: this.ops };
  }
}
