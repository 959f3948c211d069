// Prefill FLOPs (compiler/report/prefill-flops.ts) against hand arithmetic on a small model.
import { describe, expect, it } from "vitest";
import { entryInfo } from "../../../compiler/driver.js";
import { causalPairs, prefillFlops } from "../../../compiler/report/prefill-flops.js";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const model = (window: number, tied: boolean) => `model m(tokens: [T], V = 40, D = 16) {
  let e = embed(tokens, vocab = V, dim = D)
  let n1 = rmsnorm(e)
  let attn = attention(n1, heads = 4, kv_heads = 2, window = ${window})
  let h = e + attn
  let norm = rmsnorm(h)
  let logits = lm_head(norm, ${tied ? "tied = e" : "vocab = V"})
  return logits
}`;

function info(source: string) {
  const file = join(mkdtempSync(join(tmpdir(), "moec-prefill-")), "m.moe");
  writeFileSync(file, source);
  const r = entryInfo([file]);
  if (!r.info) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.info;
}

describe("prefill FLOPs", () => {
  it("causal pairs: T(T+1)/2, and with a window W: W(W+1)/2 + (T−W)·W", () => {
    expect(causalPairs(5, 0)).toBe(15);
    expect(causalPairs(5, 2)).toBe(1 + 2 + 2 + 2 + 2);
    expect(causalPairs(5, 9)).toBe(15);
  });

  it("weights × T + attention's products over the causal pairs − the skipped LM head rows", () => {
    // Per token: wq 16·16 + wk 8·16 + wv 8·16 + wo 16·16 = 768 multiply-adds, lm_head 40·16 = 640;
    // 2 × 1408 = 2816 FLOPs. Per (query, key) pair: score 2·4·4 + value 2·4·4 = 64 FLOPs.
    for (const tied of [false, true]) {
      const full = prefillFlops(info(model(0, tied)), 5);
      expect(full).toMatchObject({ tokens: 5, weights: 5 * 2816, attention: 15 * 64, lmHeadSkipped: 0, total: 5 * 2816 + 15 * 64, label: "exact" });
      const last = prefillFlops(info(model(0, tied)), 5, { lastLogits: true });
      expect(last.lmHeadSkipped).toBe(4 * 2 * 640);
      expect(last.total).toBe(5 * 2816 + 15 * 64 - 4 * 1280);
    }
    expect(prefillFlops(info(model(2, false)), 5).attention).toBe(9 * 64);
  });
});
