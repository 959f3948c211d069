// Router declarations: a `|>` pipeline of registry stages, each given its role (score, transform,
// select, post) by its position, with its arguments bound.
import type * as A from "../../syntax/ast.js";
import type { Registry } from "../../../stdlib/registry.js";
import { PER_UNITS_LATER, PER_UNITS_SUPPORTED } from "../../../stdlib/registry.js";
import type { RouterValue, StageUse } from "../values.js";
import { bindArgs } from "../bind-args.js";
import { didYouMean } from "../suggest.js";
import type { Frame } from "./context.js";
import { declareLocal, ownerName, err, sink, exprWhat } from "./context.js";
import { evalCompileTime } from "./expressions.js";

/** `router r = STAGE |> … [per UNIT]`: roles follow from position, exactly one select stage. */
export function routerDecl(s: A.RouterDecl, frame: Frame): void {
  const stages: StageUse[] = [];
  let valid = true;
  const flat = flattenPipeline(s.pipeline);
  for (const op of flat.badOps) {
    err(frame, "E0240", "a router pipeline joins stages with `|>`; `->` feeds agents in graphs", op, { label: "use `|>`" });
    valid = false;
  }
  let selectSeen: StageUse | undefined;
  for (const item of flat.items) {
    if (item.kind === "ErrorExpr") { valid = false; continue; }
    if (item.kind !== "Call") {
      err(frame, "E0241", `a router pipeline is made of stages such as \`linear\`, \`softmax\`, \`topk(2)\`; found ${exprWhat(item)}`, item.span);
      valid = false;
      continue;
    }
    const def = frame.ctx.registry.stages.get(item.callee.name);
    if (!def) {
      const kindNamed = frame.ctx.registry.expertKinds.has(item.callee.name);
      const declNamed = frame.ctx.unit.scopes.get(frame.file)?.names.get(item.callee.name);
      err(frame, "E0242", `unknown router stage \`${item.callee.name}\``, item.callee.span, {
        label: "not a router stage",
        help: didYouMean(item.callee.name, frame.ctx.registry.stages.keys()) ??
          (kindNamed ? `\`${item.callee.name}\` is an expert kind; it goes in a pool (\`experts E[8] = ${item.callee.name}(…)\`), not in a router pipeline`
            : declNamed ? `\`${item.callee.name}\` is a ${declNamed.decl.kind === "Const" ? "constant" : declNamed.decl.kind.toLowerCase()}; a pipeline is made of stages: ${[...frame.ctx.registry.stages.keys()].join(", ")}`
            : `stages: ${[...frame.ctx.registry.stages.keys()].join(", ")}`),
      });
      valid = false;
      continue;
    }
    // The stage's role follows from its position: before the select it scores or transforms.
    let role: StageUse["role"] | undefined;
    const isFirst = item === flat.items[0];
    if (isFirst && def.roles.includes("score")) {
      role = "score";
    } else if (isFirst) {
      err(frame, "E0243", `a router pipeline starts with a score stage (${scoreNames(frame.ctx.registry)}), found \`${def.name}\``, item.callee.span, {
        label: "not a score stage",
        help: `start the pipeline with a score stage: \`router ${s.name.name} = linear |> ${def.name} |> …\``,
      });
      valid = false;
    }
    if (role) {
      // classified above
    } else if (def.roles.includes("score")) {
      err(frame, "E0244", `score stage \`${def.name}\` can only come first in a pipeline`, item.callee.span, { label: "a second score stage" });
      valid = false;
    } else if (!selectSeen) {
      if (def.roles.includes("select")) role = "select";
      else if (def.roles.includes("transform")) role = "transform";
      else {
        err(frame, "E0245", `\`${def.name}\` acts on selected weights, so it must come after the select stage`, item.callee.span, {
          label: "before the select stage",
          help: `select stages: ${selectNames(frame.ctx.registry)}`,
        });
        valid = false;
      }
    } else if (def.roles.includes("select")) {
      err(frame, "E0246", `a router has exactly one select stage; \`${def.name}\` is a second one`, item.callee.span, {
        label: "second select stage",
        secondary: [{ file: frame.file, span: selectSeen.call.callee.span, message: "first select stage" }],
      });
      valid = false;
    } else if (def.roles.includes("post")) role = "post";
    else {
      err(frame, "E0247", `\`${def.name}\` cannot follow the select stage; after selection only ${postNames(frame.ctx.registry)} apply`, item.callee.span, {
        label: "after the select stage",
      });
      valid = false;
    }
    const bound = bindArgs(item.args ?? [], def.params, item, `router stage \`${def.name}\``, (x) => evalCompileTime(x, frame), sink(frame));
    if (!bound.complete) valid = false;
    if (role) {
      const use: StageUse = { def, role, args: bound.values, call: item, argSpans: bound.spans };
      stages.push(use);
      if (role === "select") selectSeen = use;
    }
  }
  if (valid && !selectSeen && flat.items.length > 0) {
    const last = flat.items[flat.items.length - 1]!;
    err(frame, "E0248", `router \`${s.name.name}\` has no select stage`, last.span, {
      label: "the pipeline ends here without selecting experts",
      help: `add one of ${selectNames(frame.ctx.registry)}, e.g. \`|> topk(2)\``,
    });
    valid = false;
  }
  let unit: RouterValue["unit"];
  if (s.per && s.per.name === "sequence") {
    unit = "sequence";
    // `choose` already decides over the whole run: one decision per sequence has nothing to choose among.
    if (selectSeen && selectSeen.def.scope === "run") {
      err(frame, "E0320", `\`${selectSeen.def.name}\` selects tokens over the whole run, so it cannot route \`per sequence\` (one decision for every token)`, s.per.span, {
        label: "one decision per sequence",
        secondary: [{ file: frame.file, span: selectSeen.call.callee.span, message: "selects over the run's tokens" }],
        help: "route per sequence with a per-token select stage (`topk`, `topp`, `threshold`, `group_topk`, `dense`), or drop `per sequence`",
      });
      valid = false;
    }
  } else if (s.per && s.per.name !== "token") {
    const later = (PER_UNITS_LATER as readonly string[]).includes(s.per.name);
    err(frame, "E0249", later ? `\`per ${s.per.name}\` routing is not supported yet; only \`per token\` and \`per sequence\` are` : `unknown routing unit \`${s.per.name}\`; the units are \`per token\` and \`per sequence\``, s.per.span, {
      help: later ? undefined : didYouMean(s.per.name, [...PER_UNITS_SUPPORTED, ...PER_UNITS_LATER]),
    });
  }
  const router: RouterValue = { name: s.name.name, key: "", stages, decl: s, valid, iterSuffix: frame.iterSuffix, ...(unit ? { unit } : {}) };
  router.key = ownerName(s.name.name, frame, s.name.span);
  frame.routers.push(router);
  if (!frame.ctx.routersByDecl.has(s)) frame.ctx.routersByDecl.set(s, router);
  if (!declareLocal(s.name, { value: { t: "router", router }, span: s.name.span, kind: "router" }, frame)) router.duplicate = true;
}

function flattenPipeline(e: A.Expr): { items: A.Expr[]; badOps: A.Span[] } {
  const items: A.Expr[] = [];
  const badOps: A.Span[] = [];
  const walk = (x: A.Expr) => {
    if (x.kind === "Binary" && (x.op === "|>" || x.op === "->")) {
      walk(x.left);
      if (x.op === "->") badOps.push(x.opSpan);
      walk(x.right);
    } else items.push(x);
  };
  walk(e);
  return { items, badOps };
}

function scoreNames(reg: Registry): string {
  return [...reg.stages.values()].filter((s) => s.roles.includes("score")).map((s) => "`" + s.name + "`").join(", ");
}

function selectNames(reg: Registry): string {
  return [...reg.stages.values()].filter((s) => s.roles.includes("select")).map((s) => "`" + s.name + "`").join(", ");
}

function postNames(reg: Registry): string {
  return [...reg.stages.values()].filter((s) => s.roles.includes("post")).map((s) => "`" + s.name + "`").join(", ");
}
