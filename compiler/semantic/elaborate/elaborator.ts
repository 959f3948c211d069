// The checker's core: evaluates a layer/model/graph body at concrete hyper-parameter bindings.
// One walk resolves names by position (LANGUAGE.md §2), computes shapes, validates pools and
// router pipelines, collects weight owners for counting, and — when an IrBuilder is given —
// emits the IR. Checking a layer "at its defaults" and "at the bindings of a call" are the same
// walk with different bindings (§2). This file is the public face; the walk lives in its siblings.
import type * as A from "../../syntax/ast.js";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { Registry } from "../../../stdlib/registry.js";
import type { Unit } from "../module-loader.js";
import type { Value, PoolValue, RouterValue } from "../values.js";
import type { ElabResult, ElabContext, ElabOptions } from "./context.js";
import { checkAtDefaults, elaborate } from "./declarations.js";
import { checkConst } from "./expressions.js";

export class Elaborator {
  private readonly ctx: ElabContext;
  /** Pools and routers as first elaborated (at defaults when checking), for editor hovers. */
  readonly poolsByDecl = new Map<A.PoolDecl, PoolValue>();
  readonly routersByDecl = new Map<A.RouterDecl, RouterValue>();

  constructor(readonly unit: Unit, readonly registry: Registry) {
    this.ctx = {
      unit, registry, constCache: new Map(), callCache: new Map(), defaultsCache: new Map(), inProgress: [],
      poolsByDecl: this.poolsByDecl, routersByDecl: this.routersByDecl,
    };
  }

  /** Checks a declaration at its defaults (cached). */
  checkAtDefaults(decl: A.LayerDecl | A.GraphDecl, file: string): ElabResult {
    return checkAtDefaults(this.ctx, decl, file);
  }

  /**
   * Elaborates a declaration at explicit bindings. With `emit`, also lowers it to IR: tensor
   * parameters become IR inputs unless `inputs` provides their IR values.
   */
  elaborate(decl: A.LayerDecl | A.GraphDecl, file: string, bindings: Map<string, Value>, opts: ElabOptions = {}): ElabResult {
    return elaborate(this.ctx, decl, file, bindings, opts);
  }

  /** Checks a top-level constant on its own (so unused constants are still checked). */
  checkConst(decl: A.ConstDecl, file: string): Diagnostic[] {
    return checkConst(this.ctx, decl, file);
  }
}

export { UNKNOWN_DIM, dimEq } from "./shapes.js";
export type { ElabResult, LayerOutput } from "./context.js";
export type { StageDef } from "../../../stdlib/registry.js";
