// Built-in blocks (`linear`, `attention`, `embed`, `lm_head`, …), expert kinds applied as dense
// layers, and elementwise functions: their arguments, output shapes and weight owners.
import type * as A from "../../syntax/ast.js";
import type { TensorShape } from "../../../stdlib/registry.js";
import type { Value, Owner, OwnerCategory } from "../values.js";
import { describeValue, shapeText, product } from "../values.js";
import { bindArgs } from "../bind-args.js";
import { BLOCKS } from "../blocks.js";
import type { UnaryFn } from "../../ir/ir.js";
import { UNKNOWN_DIM, symbolicWeightError } from "./shapes.js";
import type { Frame } from "./context.js";
import { ownerName, err, sink } from "./context.js";
import { requireLetOwner, positionalTensors } from "./calls.js";
import { expectFloatTensor, evalCompileTime } from "./expressions.js";
import * as emit from "./emit-ir.js";
import { checkOwnerTensors } from "./size-limits.js";

/** A built-in block or an expert kind applied as a dense layer: `let NAME = BLOCK(x, …)`. */
export function callBlock(e: A.Call, frame: Frame, owner: A.Ident | undefined): Value {
  const name = e.callee.name;
  const block = BLOCKS[name];
  const kind = frame.ctx.registry.expertKinds.get(name);
  const isOwner = requireLetOwner(e, frame, owner, block ? `\`${name}\`` : `expert kind \`${name}\` applied as a dense layer`);
  const got = positionalTensors(e, frame, 1, `\`${name}\``);
  if (!got) return { t: "error" };
  const x = got.values[0]!;
  const argSpan = e.args!.find((a) => !a.name)!.span;
  const wantsIds = block?.input === "ids";
  if (x.t === "error" || x.t === "unknown") return { t: "error" };
  if (x.t !== "tensor") {
    err(frame, "E0288", `the first argument of \`${name}\` must be a tensor, found ${describeValue(x)}`, argSpan);
    return { t: "error" };
  }
  if (wantsIds && x.width !== undefined) {
    err(frame, "E0289", `\`${name}\` takes token ids [T], found ${shapeText(x)}`, argSpan);
    return { t: "error" };
  }
  if (!wantsIds && x.width === undefined) {
    err(frame, "E0274", `\`${name}\` takes a [T, D] tensor; token ids [T] go through \`embed\` first`, argSpan);
    return { t: "error" };
  }
  // `lm_head(x, tied = NAME)`: NAME is an embedding binding, not a value.
  let tiedTo: string | undefined;
  let tiedVocab: number | undefined;
  let tiedWritten = false;
  const named = got.named.filter((a) => {
    if (name === "lm_head" && a.name!.name === "tied") {
      tiedWritten = true;
      if (a.value.kind === "Call" && a.value.args === undefined) {
        const b = frame.scope.lookup(a.value.callee.name)?.binding;
        if (!b?.embeddingOf) {
          err(frame, "E0290", `\`tied\` names an embedding declared with \`let NAME = embed(…)\`; \`${a.value.callee.name}\` is not one`, a.value.span);
        } else {
          tiedTo = b.embeddingOf;
          const emb = frame.instance.owners.find((o) => o.category === "embedding" && o.prefix === b.embeddingOf + frame.iterSuffix);
          tiedVocab = emb?.members[0]?.[0]?.shape[0];
        }
      } else err(frame, "E0290", "`tied` names an embedding: `lm_head(x, tied = emb)`", a.value.span);
      return false;
    }
    return true;
  });
  const specs = block ? block.params : kind!.params;
  const bound = bindArgs(named, specs, e, `\`${name}\``, (v) => evalCompileTime(v, frame), sink(frame));
  if (!bound.complete) return { t: "error" };
  const D = x.width;
  if (name === "lm_head") {
    if (tiedWritten && bound.spans.vocab) {
      err(frame, "E0291", "`lm_head` takes `vocab = V` (its own weight) or `tied = EMBEDDING` (the embedding's), not both", bound.spans.vocab, {
        help: "a tied head has the embedding's vocabulary; drop `vocab`",
      });
      return { t: "error" };
    }
    if (tiedWritten && tiedTo === undefined) return { t: "error" }; // E0290 said why
    if (tiedTo === undefined && bound.values.vocab === undefined) {
      err(frame, "E0304", "`lm_head` needs `vocab = V` or `tied = EMBEDDING`", e.span);
      return { t: "error" };
    }
    if (tiedTo !== undefined) {
      bound.values.tied = tiedTo;
      if (tiedVocab !== undefined) bound.values.vocab = tiedVocab;
    }
  }
  if (D !== undefined && typeof D !== "number") {
    if (D !== UNKNOWN_DIM) symbolicWeightError(frame, D, e.span, `\`${name}\``);
    return { t: "tensor", tokens: x.tokens, width: block ? UNKNOWN_DIM : D };
  }
  const dim = D ?? 0;
  if (block) {
    for (const msg of block.check?.(bound.values, dim) ?? []) {
      err(frame, "E0291", msg, e.span);
      return { t: "error" };
    }
    if (name === "attention" && bound.values.head_dim === undefined && dim % (bound.values.heads as number) !== 0) return { t: "error" };
  }
  const weights = block ? block.weights(bound.values, dim) : kind!.weights(bound.values, dim);
  const outWidth = block ? block.outWidth(bound.values, dim) : dim;
  if (isOwner && owner) {
    const category: OwnerCategory = block ? block.category : "dense_ffn";
    const o = addOwner(frame, owner.name, category, [weights], owner.span);
    o.info = { kind: name, args: [bound.values] };
    if (name === "lm_head" && tiedTo !== undefined) o.macs = [(bound.values.vocab as number) * dim];
    if (block?.attention) frame.instance.attention.push({ owner: o, shape: block.attention(bound.values, dim) });
  }
  const out: Value = { t: "tensor", tokens: x.tokens, width: outWidth };
  const tiedKey = tiedTo !== undefined ? frame.irPath + tiedTo + frame.iterSuffix : undefined;
  out.ir = emit.block(frame, { name, kind, args: bound.values, x, dim, outWidth, owner, span: e.span, tiedKey });
  return out;
}

/** An elementwise function (`gelu(x)`, …): same shape out, no weights. */
export function callElementwise(e: A.Call, frame: Frame): Value {
  const got = positionalTensors(e, frame, 1, `\`${e.callee.name}\``);
  if (!got) return { t: "error" };
  if (got.named.length) err(frame, "E0300", `\`${e.callee.name}\` takes no named arguments`, got.named[0]!.span);
  const x = got.values[0]!;
  if (!expectFloatTensor(x, e.args![0]!.span, frame, `the argument of \`${e.callee.name}\``)) return x.t === "unknown" ? x : { t: "error" };
  if (x.t !== "tensor") return { t: "error" };
  const out: Value = { t: "tensor", tokens: x.tokens, width: x.width };
  out.ir = emit.unary(frame, e.callee.name as UnaryFn, x);
  return out;
}

function addOwner(frame: Frame, name: string, category: OwnerCategory, members: TensorShape[][], span: A.Span): Owner {
  const prefix = ownerName(name, frame, span);
  const macs = members.map((m) => m.filter((t) => t.matmul).reduce((s, t) => s + product(t.shape), 0));
  const owner: Owner = { prefix, category, members, macs, span, file: frame.file, applications: 1 };
  checkOwnerTensors(owner, frame);
  frame.instance.owners.push(owner);
  return owner;
}
