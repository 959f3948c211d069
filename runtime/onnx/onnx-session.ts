// A program exported by `moec export onnx`, run by ONNX Runtime's CPU kernels (onnxruntime-node,
// an optional dependency imported only here, on first use). Inputs and outputs are the program's,
// [T, width] by name, token ids int64 [T]; ids are range-checked first so a bad id is named here,
// not by ORT's Gather.
import type { IrProgram } from "../../compiler/ir/ir.js";

/** onnxruntime-node is not installed (or does not load); the message says how to install it. */
export class OnnxRuntimeUnavailableError extends Error {
  override name = "OnnxRuntimeUnavailableError";
}

/** The part of onnxruntime-node's API used here (typed locally, so moec builds without it). */
interface OrtTensor {
  data: unknown;
  dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: BigInt64Array | Float32Array, dims: number[]) => OrtTensor;
}

let ortModule: Promise<OrtModule> | undefined;

async function loadOrt(): Promise<OrtModule> {
  ortModule ??= (async () => {
    try {
      const name = "onnxruntime-node"; // a variable: bundlers and tsc do not resolve it
      const m = (await import(name)) as OrtModule & { default?: OrtModule };
      return m.InferenceSession ? m : m.default!;
    } catch (e) {
      ortModule = undefined;
      throw new OnnxRuntimeUnavailableError(
        `--backend onnxruntime needs the onnxruntime-node package, which did not load (${(e as Error).message.split("\n")[0]}); install it with \`npm install onnxruntime-node\` (moec lists it as an optional dependency)`,
      );
    }
  })();
  return ortModule;
}

/** A run's input that does not fit the program (an id outside the vocabulary, a wrong length). */
export class OnnxInputError extends Error {
  override name = "OnnxInputError";
}

export class OnnxProgramSession {
  private constructor(readonly program: IrProgram, private readonly ort: OrtModule, private readonly session: OrtSession) {}

  /** Loads ONNX Runtime and the model `bytes` (the export of `program`). */
  static async create(program: IrProgram, bytes: Uint8Array): Promise<OnnxProgramSession> {
    const ort = await loadOrt();
    return new OnnxProgramSession(program, ort, await ort.InferenceSession.create(bytes));
  }

  /** The vocabulary of each token-id input: the embed ops that read it. */
  private vocabOf(value: number): number | undefined {
    for (const op of this.program.ops) if (op.op === "embed" && op.ids === value) return op.vocab;
    return undefined;
  }

  /** Runs T tokens; outputs by name, [T, width] row-major f32. */
  async run(inputs: Map<string, Int32Array | Float32Array>, T: number): Promise<Map<string, Float32Array>> {
    const feeds: Record<string, OrtTensor> = {};
    for (const inp of this.program.inputs) {
      const v = this.program.values[inp.value]!;
      const data = inputs.get(inp.name);
      if (!data) throw new OnnxInputError(`input \`${inp.name}\` of \`${this.program.entry}\` is missing`);
      const want = v.dtype === "i32" ? T : T * v.width;
      if (data.length !== want) throw new OnnxInputError(`input \`${inp.name}\` has ${data.length} values, expected ${want} (T = ${T}${v.dtype === "i32" ? "" : ` × ${v.width}`})`);
      if (v.dtype === "i32") {
        const vocab = this.vocabOf(inp.value);
        for (let t = 0; t < T; t++) {
          const id = data[t]!;
          if (vocab !== undefined && (id < 0 || id >= vocab)) throw new OnnxInputError(`token ${t} of \`${inp.name}\` is ${id}, outside the vocabulary 0…${vocab - 1}`);
        }
        feeds[inp.name] = new this.ort.Tensor("int64", BigInt64Array.from(data, (x) => BigInt(x)), [T]);
      } else feeds[inp.name] = new this.ort.Tensor("float32", Float32Array.from(data), [T, v.width]);
    }
    const out = await this.session.run(feeds);
    return new Map(this.program.outputs.map((o) => [o.name, out[o.name]!.data as Float32Array]));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
