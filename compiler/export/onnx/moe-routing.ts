// Which moec routers ONNX Runtime's com.microsoft.MoE computes, and with which attributes. The
// operator takes router logits, applies a softmax over all experts, keeps the top k, and with
// normalize_routing_weights = 1 divides the kept weights by their sum. So it expresses
//   linear |> softmax |> topk(k)            (normalize 0, see below)
//   linear |> softmax |> topk(k) |> renorm  (normalize 1)
//   linear |> topk(k) |> softmax            (normalize 1: the softmax of the kept logits)
// each optionally followed by `scale(s)` (a factor on the weighted sum, applied after the operator).
import type { IrRouter } from "../../ir/ir.js";

export interface MoeRouting {
  k: number;
  /** The score stage's bias `${key}.bias`, added to the logits before the operator. */
  bias: boolean;
  /** Renormalize the top-k weights to sum to 1. */
  normalize: boolean;
  /** `scale(s)` after selection, 1 without. */
  scale: number;
}

/** The operator's form of `router`, or why it has none (naming the first stage that does not fit). */
export function moeRouting(router: IrRouter): MoeRouting | { refused: string } {
  const st = router.stages;
  const names = st.map((s) => s.name);
  const shown = names.join(" |> ");
  const refused = (why: string) => ({ refused: `router \`${router.key}\` (${shown}): ${why}` });
  if (names[0] !== "linear") return refused(`score stage \`${names[0]}\` is not \`linear\`; com.microsoft.MoE takes linear router logits`);
  let scale = 1;
  let end = st.length;
  if (names[end - 1] === "scale") {
    scale = Number(st[end - 1]!.params.s);
    end--;
  }
  const body = names.slice(1, end).join(" ");
  const topk = st.find((s) => s.name === "topk");
  const k = Number(topk?.params.k);
  const base = { k, bias: st[0]!.params.bias === true, scale };
  if (body === "softmax topk") return { ...base, normalize: false };
  if (body === "softmax topk renorm" || body === "topk softmax") return { ...base, normalize: true };
  const odd = names.slice(1, end).find((n) => !["softmax", "topk", "renorm"].includes(n));
  return refused(odd
    ? `stage \`${odd}\` has no counterpart in com.microsoft.MoE, which routes by softmax top-k (renormalized or not), optionally scaled`
    : "the stages are not in an order com.microsoft.MoE computes (softmax |> topk(k) [|> renorm], or topk(k) |> softmax, then an optional scale)");
}
