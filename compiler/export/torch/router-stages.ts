// Routers in PyTorch (LANGUAGE.md §5): each stage's `torch` reference (std stages in
// stdlib/stages/, a plugin's on its StageSpec) becomes one Python function over all tokens, and
// each router one method that runs its pipeline on the two streams — selection and weight — and
// returns the dense gates [T, E] (the selected weights, zero elsewhere) with the mask of selected
// experts. A stage with no PyTorch reference is refused by name.
import type { StageSpec } from "@moec/plugin-api";
import type { IrRouter, IrStage } from "../../ir/ir.js";
import { runtimeStage, weightStreamCanBeNegative } from "../../../stdlib/stage-table.js";
import { indentPy, pyDict, pyIdent, pyStr, type PyWriter } from "./python-source.js";

type Role = "score" | "transform" | "select" | "post";

/** The helpers every stage body may call: ranking with ties to the lower index, and its inverse. */
export const PRELUDE_ROUTER = String.raw`
# ---- routers (LANGUAGE.md §5): stages over all tokens, dense gates [T, E] ----


class StageContext:
    """What a stage reads: its arguments, E, D, and its tensors under the router's prefix."""

    def __init__(self, module, key, E, D, args):
        self.module, self.key, self.E, self.D, self.args = module, key, E, D, args

    def weight(self, name):
        return self.module.tensor(f"{self.key}.{name}")

    def state(self, name):
        return self.module.tensor(f"{self.key}.{name}")


def ranked(v):
    """Indices of v [T, n] by value, highest first, ties to the lower index (a stable sort)."""
    return torch.sort(v, dim=-1, descending=True, stable=True).indices


def unrank(order, take):
    """The mask [T, n] of the entries whose rank slot take [T, n] (or [n]) marks."""
    take = take.expand_as(order)
    return torch.zeros_like(take).scatter(-1, order, take)


def slots(v):
    """0, 1, …, n − 1 over the last dimension of v."""
    return torch.arange(v.shape[-1], device=v.device)
`.trimStart();

export class TorchExportRefusal extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** The stage functions a program needs, keyed `ROLE_NAME`, with their Python source. */
export class StageFunctions {
  private readonly defs = new Map<string, string>();
  readonly problems: string[] = [];

  /** The Python function name of stage `s` in `role`, defining it on first use. */
  use(s: IrStage, role: Role, r: IrRouter): string {
    const fn = `${role}_${pyIdent(s.name)}`;
    if (this.defs.has(fn)) return fn;
    const rs = runtimeStage(s.name, r.pluginStages);
    const body = rs?.spec.torch?.[role];
    if (!rs || body === undefined) {
      const who = rs ? (rs.source === "std" ? "the standard library" : `plugin ${rs.source}`) : "no loaded plugin";
      this.problems.push(`router '${r.key}': stage '${s.name}' (${role}, from ${who}) has no PyTorch reference (StageSpec.torch.${role})`);
      this.defs.set(fn, "");
      return fn;
    }
    const params = { score: "x, ctx", transform: "z, ctx", select: "sel, w, ctx", post: "w, mask, ctx" }[role];
    const from = rs.source === "std" ? "" : `  # from plugin ${rs.source}`;
    this.defs.set(fn, `def ${fn}(${params}):${from}\n${indentPy(dedent(body), 1)}\n`);
    return fn;
  }

  source(): string {
    return [...this.defs.values()].filter((d) => d !== "").join("\n\n");
  }
}

/** Removes the common leading indentation of a plugin's body. */
function dedent(text: string): string {
  const lines = text.replace(/\t/g, "    ").split("\n");
  const pad = Math.min(...lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(pad)).join("\n");
}

const stageText = (s: IrStage): string => {
  const args = Object.entries(s.params).map(([k, v]) => `${k} = ${String(v)}`);
  return args.length ? `${s.name}(${args.join(", ")})` : s.name;
};

export function routerMethodName(r: IrRouter): string {
  return `route_${pyIdent(r.key)}`;
}

/** `def route_KEY(self, x, stats)`: the pipeline as written; records §10 statistics when asked. */
export function emitRouterMethod(w: PyWriter, r: IrRouter, fns: StageFunctions): void {
  const specOf = (s: IrStage): StageSpec | undefined => runtimeStage(s.name, r.pluginStages)?.spec;
  w.line(`def ${routerMethodName(r)}(self, x, stats=None):`).indent();
  w.line(`"""router ${r.key}: ${r.stages.map(stageText).join(" |> ")}, over ${r.numExperts} experts."""`);
  const ctx = (s: IrStage) => `StageContext(self, ${pyStr(r.key)}, ${r.numExperts}, ${r.dim}, ${pyDict(s.params)})`;
  if (r.unit === "sequence") {
    // §11.1 `per sequence`: one decision from the mean of the run's rows, given to every token.
    w.comment("per sequence: the pipeline runs once on the mean of x over the run's tokens");
    w.line("tokens = x.shape[0]");
    w.line("x = x.mean(dim=0, keepdim=True) if tokens > 0 else x");
  }
  let selected = false;
  for (const s of r.stages) {
    if (s.role === "score") {
      w.call(`z = ${fns.use(s, "score", r)}`, ["x", ctx(s)]);
      w.line("sel, w = z, z");
    } else if (s.role === "transform") {
      const fn = fns.use(s, "transform", r);
      const stream = specOf(s)?.stream ?? "both";
      w.line(`ctx = ${ctx(s)}`);
      if (stream !== "weight") w.line(`sel = ${fn}(sel, ctx)`);
      if (stream !== "selection") w.line(`w = ${fn}(w, ctx)`);
    } else if (s.role === "select") {
      w.call(`mask = ${fns.use(s, "select", r)}`, ["sel", "w", ctx(s)]);
      w.line("gates = torch.where(mask, w, torch.zeros_like(w))");
      selected = true;
    } else {
      w.call(`gates = ${fns.use(s, "post", r)}`, ["gates", "mask", ctx(s)]);
    }
  }
  if (!selected) fns.problems.push(`router '${r.key}' has no select stage`);
  if (r.unit === "sequence") {
    w.comment("every token gets the one decision and its weights (statistics count each token)");
    w.line("w, mask, gates = (v.expand(tokens, -1) for v in (w, mask, gates))");
  }
  const soft = weightStreamCanBeNegative(r.stages, r.pluginStages);
  const coef = r.balanceCoef === undefined ? "None" : String(r.balanceCoef);
  w.line("if stats is not None:").indent();
  w.line(`stats.record(${pyStr(r.key)}, w, mask, gates, soft=${soft ? "True" : "False"}, coef=${coef}, max_k=${r.maxPerToken})`).dedent();
  w.line("return gates, mask").dedent();
}
