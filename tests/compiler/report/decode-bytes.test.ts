// Bytes a decode step reads (compiler/report/decode-bytes.ts) against hand arithmetic on small
// models: one embedding row instead of the table, a tied head reading the whole table, windows.
import { describe, expect, it } from "vitest";
import { entryInfo } from "../../../compiler/driver.js";
import { attentionGroups } from "../../../compiler/report/attention.js";
import { decodeWeightRead, kvReadBytes, positionsRead } from "../../../compiler/report/decode-bytes.js";
import { mkdtempSync, writeFileSync } from "node:fs";
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
  const file = join(mkdtempSync(join(tmpdir(), "moec-decode-bytes-")), "m.moe");
  writeFileSync(file, source);
  const r = entryInfo([file]);
  if (!r.info) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.info;
}

describe("bytes read per decode token", () => {
  it("weights: one embedding row, every other active parameter, a tied head's whole table", () => {
    // wq 16·16 + wk 8·16 + wv 8·16 + wo 16·16 = 768, two norms 2·16, embedding row 16.
    expect(decodeWeightRead(info(model(0, false)))).toEqual({ params: 768 + 32 + 16 + 40 * 16, label: "exact" });
    // Tied: no head weight of its own, but the head reads the embedding's [40, 16].
    expect(decodeWeightRead(info(model(0, true)))).toEqual({ params: 768 + 32 + 16 + 40 * 16, label: "exact" });
  });

  it("a pool reads its k selected experts (Mixtral-style, examples/models/mixtral_8x7b.moe)", () => {
    const r = entryInfo([join(__dirname, "../../../examples/models/mixtral_8x7b.moe")], { set: { V: 48, D: 32, L: 2, H: 4, KV: 2, N: 4, I: 16 } });
    // Per layer: attention 32·32 + 2·(16·32) + 32·32 = 3072, 2 norms 64, router 32·4, top-2 of
    // SwiGLU experts 2·3·32·16 = 3072; then the embedding row 32, final norm 32, lm_head 48·32.
    expect(decodeWeightRead(r.info!).params).toBe(2 * (3072 + 64 + 128 + 3072) + 32 + 32 + 48 * 32);
  });

  it("KV: the positions read (all, or the window's), each 2·KV·head_dim elements per layer", () => {
    expect([positionsRead(0, 0), positionsRead(9, 0), positionsRead(9, 3), positionsRead(1, 3)]).toEqual([1, 10, 3, 2]);
    // 2 KV heads of head_dim 4: 16 elements per position, 4 bytes each.
    expect(kvReadBytes(attentionGroups(info(model(0, false)).instance), 4, 9)).toBe(10 * 16 * 4);
    expect(kvReadBytes(attentionGroups(info(model(3, false)).instance), 2, 9)).toBe(3 * 16 * 2);
  });
});
