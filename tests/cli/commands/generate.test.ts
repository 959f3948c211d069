// `moec generate` on a tiny checkpoint directory with a tokenizer (Hugging Face layout, the tiny
// hand-written tokenizer of tests/fixtures/tokenizers/tiny): the prompt's ids are the tokenizer's
// hand-derived ones, the greedy continuation equals the float64 reference's (the hand-written
// example program on the same weights), the streamed text is the tokenizer's decoding of those ids,
// and every bad request is a named error raised before the GPU is touched.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { loadTokenizer } from "../../../runtime/text/load-tokenizer.js";
import { moec } from "../../helpers/cli.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint } from "../../helpers/hf-layout.js";
import { canonicalFromHf } from "../../helpers/hf-to-moec.js";
import { FAMILIES } from "../../helpers/tiny-families.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-generate-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const tiny = path.resolve("tests/fixtures/tokenizers/tiny");
const mixtral = FAMILIES.find((f) => f.hf.model_type === "mixtral")!;

// A tiny Mixtral checkpoint (V = 48 ≥ the tokenizer's 43 ids) with the tiny tokenizer beside it.
// Random weights give flat logits; the LM head is scaled so greedy's argmax is well separated.
const dir = path.join(root, "ckpt");
const hf = hfWeights(mixtral.hf, 21);
for (const v of hf.get("lm_head.weight")!.data.keys()) hf.get("lm_head.weight")!.data[v]! *= 8;
writeHfCheckpoint(dir, mixtral.hf, hf);
for (const f of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) copyFileSync(path.join(tiny, f), path.join(dir, f));

/** The reference's greedy continuation (argmax of a full forward each step), stopping at eos 4 or 2. */
function referenceGreedy(prompt: number[], n: number): number[] {
  const c = compile(mixtral.moec);
  if (!c.ok) throw new Error(c.formatDiagnostics());
  const w = canonicalFromHf(c.program!, c.info!.instance, mixtral.map, hf);
  const V = 48, seq = [...prompt], out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = interpretReference(c.program!, w, new Map([["tokens", Int32Array.from(seq)]]), seq.length).get("logits")!.subarray((seq.length - 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
    out.push(best);
    seq.push(best);
    if (best === 4 || best === 2) break;
  }
  return out;
}

describeGpu("moec generate DIR", () => {
  itGpu("greedy: the reference's continuation, streamed as the tokenizer's text; --json says the same", async () => {
    const j = await moec(["generate", dir, "--prompt", "hello world", "--max-new-tokens", "8", "--json"]);
    expect(j.code, j.err).toBe(0);
    const r = JSON.parse(j.out);
    expect(r.prompt_tokens).toBe(3); // "hello world" → [1 (<s>), 37, 42], by hand in tests/runtime/text
    const want = referenceGreedy([1, 37, 42], 8);
    expect(r.tokens).toEqual(want);
    expect(r.stop).toBe(want.length < 8 ? "eos" : "length");
    const tok = loadTokenizer(dir);
    expect(r.text).toBe(tok.decode(want, { skipSpecialTokens: true }));
    for (const k of ["time_to_first_token_ms", "prefill_tokens_per_s", "decode_tokens_per_s"]) expect(r[k]).toBeGreaterThan(0);

    const s = await moec(["generate", dir, "--prompt", "hello world", "--max-new-tokens", "8"]);
    expect(s.code, s.err).toBe(0);
    expect(s.out).toBe(r.text + "\n");
    expect(s.err).toMatch(new RegExp(`^moec generate: ${want.length} tokens? \\(stop: ${r.stop}\\); first after \\d+ ms \\(prompt of 3 at [\\d.]+ tokens/s\\), then [\\d.]+ tokens/s\\n$`, "m"));
  }, 300_000);

  itGpu("--prompts FILE: one batch, each line's greedy continuation the reference's; id lines without a tokenizer", async () => {
    // "hello world" → [1, 37, 42], "hello" → [1, 37], "world hello" → [1, 42, 37] (hand-derived merges, tests/runtime/text).
    const file = path.join(root, "prompts.txt");
    writeFileSync(file, "hello world\nhello\r\nworld hello\n");
    const j = await moec(["generate", dir, "--prompts", file, "--max-new-tokens", "6", "--json"]);
    expect(j.code, j.err).toBe(0);
    const r = JSON.parse(j.out);
    const prompts = [[1, 37, 42], [1, 37], [1, 42, 37]];
    expect(r.results.map((x: { line: number }) => x.line)).toEqual([1, 2, 3]);
    r.results.forEach((x: { tokens: number[]; prompt_tokens: number; stop: string; text: string }, i: number) => {
      const want = referenceGreedy(prompts[i]!, 6);
      expect(x.prompt_tokens).toBe(prompts[i]!.length);
      expect(x.tokens, `line ${i + 1}`).toEqual(want);
      expect(x.stop).toBe(want.length < 6 ? "eos" : "length");
      // The continuation's text as it reads after the prompt (a leading ▁ is a space there).
      const tok = loadTokenizer(dir), opt = { skipSpecialTokens: true };
      expect(x.text).toBe(tok.decode([...prompts[i]!, ...want], opt).slice(tok.decode(prompts[i]!, opt).length));
    });
    const text = await moec(["generate", dir, "--prompts", file, "--max-new-tokens", "6"]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toBe(r.results.map((x: { text: string; stop: string }, i: number) => `--- prompt ${i} (${file}:${i + 1}, stop: ${x.stop})\n${x.text}\n`).join(""));
    expect(text.err).toMatch(/^moec generate: 3 prompts, \d+ tokens; first step after \d+ ms \(8 prompt tokens at [\d.]+ tokens\/s\), then [\d.]+ tokens\/s over all rows\n$/m);

    // Without a tokenizer a line is ids (commas or spaces): the same continuations as the text lines.
    const ids = path.join(root, "ids.txt");
    writeFileSync(ids, "1, 37, 42\n1 37\n");
    const bare = path.join(root, "ckpt-no-tokenizer");
    writeHfCheckpoint(bare, mixtral.hf, hf);
    const k = await moec(["generate", bare, "--prompts", ids, "--max-new-tokens", "6", "--stop", "4,2", "--json"]);
    expect(k.code, k.err).toBe(0);
    const rk = JSON.parse(k.out);
    expect(rk.results.map((x: { tokens: number[] }) => x.tokens)).toEqual([r.results[0].tokens, r.results[1].tokens]);
    expect(rk.results[0].text).toBeUndefined();
  }, 300_000);

  itGpu("token ids in, ids out without a tokenizer; seeded sampling repeats itself", async () => {
    const model = path.resolve(mixtral.moec.file!);
    const set = Object.entries(mixtral.moec.set!).map(([k, v]) => `${k}=${v}`);
    const a = await moec(["generate", model, "--set", ...set, "--random-weights", "--input-ids", "3,9,27", "--max-new-tokens", "5", "--temperature", "1.2", "--seed", "5", "--json"]);
    expect(a.code, a.err).toBe(0);
    const b = await moec(["generate", model, "--set", ...set, "--random-weights", "--input-ids", "3,9,27", "--max-new-tokens", "5", "--temperature", "1.2", "--seed", "5", "--json"]);
    const ra = JSON.parse(a.out), rb = JSON.parse(b.out);
    expect(ra.text).toBeUndefined();
    expect(ra.tokens).toHaveLength(5);
    expect(rb.tokens).toEqual(ra.tokens);
    const streamed = await moec(["generate", model, "--set", ...set, "--random-weights", "--input-ids", "3,9,27", "--max-new-tokens", "5", "--temperature", "1.2", "--seed", "5"]);
    expect(streamed.out).toBe(ra.tokens.join(" ") + "\n");
  }, 300_000);
});

describe("moec generate: bad requests are named before any GPU work", () => {
  const model = path.resolve("examples/models/mixtral_8x7b.moe");
  const set = ["--set", "V=48", "D=32", "L=2", "H=4", "KV=2", "N=4", "I=16"];
  it("text without a tokenizer, a prompt over the context, an id outside the vocabulary", async () => {
    const noTok = await moec(["generate", model, ...set, "--random-weights", "--prompt", "hi"]);
    expect(noTok.code).toBe(1);
    expect(noTok.err).toMatch(/a text prompt needs a tokenizer/);
    const long = await moec(["generate", dir, "--prompt", "hello world", "--max-new-tokens", "8", "--context", "6"]);
    expect(long.code).toBe(1);
    expect(long.err).toMatch(/the prompt \(3 tokens\) plus 8 new tokens is 11, above the context of 6 positions/);
    const bad = await moec(["generate", model, ...set, "--random-weights", "--input-ids", "1,99"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/prompt token 1 is 99, outside the vocabulary 0…47/);
    for (const r of [noTok, long, bad]) expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("--prompts: an empty line, a missing file, a bad id line, a graph, and another prompt flag each named", async () => {
    const empty = path.join(root, "empty-line.txt");
    writeFileSync(empty, "hello\n\nworld\n");
    const e = await moec(["generate", dir, "--prompts", empty]);
    expect(e.code).toBe(1);
    expect(e.err).toContain(`${empty}:2: the line is empty; every line is one prompt`);
    const missing = await moec(["generate", dir, "--prompts", path.join(root, "nope.txt")]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read prompts file .*nope\.txt: no such file/);
    const idsBad = path.join(root, "ids-bad.txt");
    writeFileSync(idsBad, "1 2 3\n4 five\n");
    const bad = await moec(["generate", model, ...set, "--random-weights", "--prompts", idsBad]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${idsBad}:2: item 1 is \`five\`, not a token id`);
    const over = path.join(root, "ids-over.txt");
    writeFileSync(over, "1 2 3\n4 99\n");
    const o = await moec(["generate", model, ...set, "--random-weights", "--prompts", over]);
    expect(o.code).toBe(1);
    expect(o.err).toContain(`${over}:2: prompt token 1 is 99, outside the vocabulary 0…47`);
    expect((await moec(["generate", dir, "--prompts", empty, "--prompt", "hi"])).err).toMatch(/--prompt and --prompts exclude each other/);
    const graph = await moec(["generate", "examples/topologies/chain.moe", "--random-weights", "--prompts", idsBad]);
    expect(graph.code).toBe(2);
    expect(graph.err).toMatch(/--prompts decodes several prompts through one model; a decoding graph takes one prompt/);
    for (const r of [e, missing, bad, o]) expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("usage errors (exit 2) name the flag", async () => {
    const p = await moec(["generate", dir, "--prompt", "hi", "--top-p", "2"]);
    expect(p.code).toBe(2);
    expect(p.err).toMatch(/--top-p must be in \(0, 1\]/);
    expect((await moec(["generate", dir, "--input-ids", "1", "--chat"])).err).toMatch(/--chat applies the chat template to a text prompt/);
    expect((await moec(["generate", dir, "--prompt", "hi", "--system", "x"])).err).toMatch(/--system is a chat turn's system message; add --chat/);
    expect((await moec(["generate", dir])).code).toBe(2);
  });
});
