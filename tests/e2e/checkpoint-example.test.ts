// examples/checkpoints/tiny-mixtral, the shipped Hugging Face directory the README's tour uses:
// it imports (config.json), binds under transformers' names with nothing left over, and
// `moec generate` streams text from its tokenizer, drawing only ids the tokenizer has.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { moec } from "../helpers/cli.js";
import { itGpu } from "../helpers/gpu-context.js";

const dir = path.resolve(__dirname, "../../examples/checkpoints/tiny-mixtral");

describe("examples/checkpoints/tiny-mixtral", () => {
  it("imports as a 2-layer Mixtral of 34,208 parameters", async () => {
    const r = await moec(["info", dir, "--json"]);
    expect(r.code, r.err).toBe(0);
    // By hand: embed and lm_head 2·48·32, final norm 32; per layer q, o 32·32, k, v 32·16, two norms
    // 2·32, router 4·32, experts 4·3·32·32.
    expect(JSON.parse(r.out).params.total).toBe(2 * 48 * 32 + 32 + 2 * (2 * 1024 + 2 * 512 + 64 + 128 + 4 * 3 * 32 * 32));
  });

  itGpu("moec generate streams text from its tokenizer (the README tour's command)", async () => {
    const r = await moec(["generate", dir, "--prompt", "hello world", "--max-new-tokens", "12", "--json"]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/warning/);
    const j = JSON.parse(r.out);
    expect(j.prompt_tokens).toBe(3);
    expect(j.tokens.length).toBeGreaterThan(0);
    expect(j.tokens.every((id: number) => id < 43)).toBe(true);
    expect(typeof j.text).toBe("string");
  }, 240_000);
});
