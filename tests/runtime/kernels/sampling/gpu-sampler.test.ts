// The GPU sampler against independently computed answers: greedy picks by hand; each filter's
// draws against a hand-derived probability table and the combined pipeline against the float64
// reference (runtime/reference/ref-sampling.ts), by χ² goodness of fit at α = 0.001 over thousands
// of draws (one row per draw, each row its own Philox stream; the seed is fixed, so the outcome is
// deterministic on an adapter); reproducibility; a 151,936-token vocabulary; where the id lands,
// the seen bit and the stop flag; and setup errors. All cases share one pipeline (sampler[f32]).
import { afterAll, describe, expect, it } from "vitest";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import { GpuSampler, SamplerSetupError, type SamplerBuffers } from "../../../../runtime/kernels/sampling/gpu-sampler.js";
import type { SamplingOptions } from "../../../../runtime/kernels/sampling/sampling-options.js";
import { SamplingOptionsError } from "../../../../runtime/kernels/sampling/sampling-options.js";
import { referenceSampling } from "../../../../runtime/reference/ref-sampling.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";
import { rng } from "../../../helpers/random.js";
import { runSampler } from "./sampler-harness.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

/** χ² critical values at α = 0.001 by degrees of freedom (standard tables, e.g. NIST/SEMATECH 1.3.6.7.4). */
const CHI2_CRIT_001 = [NaN, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588, 31.264, 32.909, 34.528, 36.123, 37.697];

/** `rows` copies of one logits row. */
const repeatRow = (row: number[], rows: number): Float32Array => {
  const out = new Float32Array(rows * row.length);
  for (let b = 0; b < rows; b++) out.set(row, b * row.length);
  return out;
};

const table = (weights: number[]): number[] => {
  const s = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / s);
};

/**
 * Draws `n` tokens (one per row) and checks them against `probs`: no draw outside the support,
 * and Pearson's χ² over the support below the α = 0.001 critical value for (support − 1) df.
 */
async function expectDistribution(logits: number[], probs: ArrayLike<number>, options: SamplingOptions, n: number, prompt: number[] = []): Promise<number> {
  const V = logits.length;
  const run = await runSampler(gpu, repeatRow(logits, n), V, { options }, { prompts: Array.from({ length: n }, () => prompt) });
  const counts = new Array<number>(V).fill(0);
  for (const id of run.ids[0]!) counts[id]!++;
  const support = Array.from({ length: V }, (_, i) => i).filter((i) => probs[i]! > 0);
  for (let i = 0; i < V; i++) if (probs[i] === 0) expect(counts[i], `token ${i} has probability 0`).toBe(0);
  let chi2 = 0;
  for (const i of support) chi2 += (counts[i]! - n * probs[i]!) ** 2 / (n * probs[i]!);
  const df = support.length - 1;
  if (df > 0) expect(chi2, `χ² = ${chi2.toFixed(2)} with ${df} df; counts ${counts.join(" ")}`).toBeLessThan(CHI2_CRIT_001[df]!);
  return chi2;
}

// Weights 8:4:2:2:1:1:1:1: probabilities .4 .2 .1 .1 .05 .05 .05 .05 at τ = 1.
const W8 = [8, 4, 2, 2, 1, 1, 1, 1];
const L8 = W8.map(Math.log);
const DRAWS = 3000;

describeGpu("GPU sampler", () => {
  itGpu("greedy takes the highest logit, the lowest id on a tie, after the penalty; the id lands at the offset, the seen bit and the stop flag are set", async () => {
    const V = 8;
    const rows = [
      [1, 3, 3, 2, 0, 0, 0, 0], // tie 1/2 → 1
      [0, 0, 0, 0, 0, 0, 0, 5], // the last id
      [-3, -1, -2, -1, -9, -9, -9, -9], // negative, tie → 1
      [1, 3, 3, 2, 0, 0, 0, 0], // 1 and 2 seen, R = 2: 1.5, 1.5 < 2 → 3
    ];
    const prompts = [[], [], [], [1, 2]];
    const run = await runSampler(gpu, Float32Array.from(rows.flat()), V, { options: { temperature: 0, repetitionPenalty: 2 }, stopIds: [7, 3], idsStride: 2 }, { prompts, outOffset: 5, idsElements: 16 });
    // Rows at 5, 7, 9, 11; every other element untouched (-7).
    expect(Array.from(run.ids[0]!)).toEqual([-7, -7, -7, -7, -7, 1, -7, 7, -7, 1, -7, 3, -7, -7, -7, -7]);
    expect(Array.from(run.done)).toEqual([0, 1, 0, 1]);
    // One seen word per row: the prompt's bits plus the drawn id's.
    expect(Array.from(run.seen)).toEqual([1 << 1, 1 << 7, 1 << 1, (1 << 1) | (1 << 2) | (1 << 3)]);
  }, 120_000);

  itGpu("logitsStride: rows of 6 drawable ids at a stride of 8 (a padded vocabulary); the padding's larger logits are never drawn", async () => {
    // Row b's logits start at 8·b; ids 6 and 7 of each row hold the row's largest values.
    const rows = [
      [0, 4, 1, 0, 0, 0, 9, 9],
      [2, 0, 0, 0, 0, 3, 9, 9],
      [0, 0, 7, 0, 0, 0, 9, 9],
    ];
    const run = await runSampler(gpu, Float32Array.from(rows.flat()), 6, { options: { temperature: 0 } }, { logitsStride: 8 });
    expect(Array.from(run.ids[0]!)).toEqual([1, 5, 2]);
  }, 120_000);

  describe("each filter's draws follow its hand-derived table", () => {
    itGpu("temperature 1 and 2", async () => {
      await expectDistribution(L8, [0.4, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05], { temperature: 1, seed: 1 }, DRAWS);
      await expectDistribution(L8, table(W8.map(Math.sqrt)), { temperature: 2, seed: 2 }, DRAWS);
    }, 120_000);

    itGpu("top-k (ties to the lower id)", async () => {
      await expectDistribution(L8, table([8, 4, 2, 0, 0, 0, 0, 0]), { temperature: 1, topK: 3, seed: 3 }, DRAWS);
      await expectDistribution(L8, table([8, 4, 2, 2, 1, 0, 0, 0]), { temperature: 1, topK: 5, seed: 4 }, DRAWS);
    }, 120_000);

    itGpu("top-p (the shortest prefix reaching P, renormalized after top-k, ties to the lower id)", async () => {
      await expectDistribution(L8, table([8, 4, 2, 2, 0, 0, 0, 0]), { temperature: 1, topP: 0.75, seed: 5 }, DRAWS);
      // After top-k = 6: 8/18, 12/18, 14/18, 16/18 ≥ .87 → four (unrenormalized masses would keep five).
      await expectDistribution(L8, table([8, 4, 2, 2, 0, 0, 0, 0]), { temperature: 1, topK: 6, topP: 0.87, seed: 6 }, DRAWS);
      await expectDistribution(L8, table([8, 4, 2, 0, 0, 0, 0, 0]), { temperature: 1, topP: 0.65, seed: 7 }, DRAWS);
    }, 120_000);

    itGpu("min-p", async () => {
      await expectDistribution(L8, table([8, 4, 0, 0, 0, 0, 0, 0]), { temperature: 1, minP: 0.3, seed: 8 }, DRAWS);
      await expectDistribution(L8, table([8, 4, 2, 2, 0, 0, 0, 0]), { temperature: 1, minP: 0.2, seed: 9 }, DRAWS);
    }, 120_000);

    itGpu("repetition penalty", async () => {
      const l = [1, 2, -1, 0.5, 0, 0, 0, 0];
      await expectDistribution(l, table([Math.E, Math.E, Math.exp(-2), Math.exp(0.5), 1, 1, 1, 1]), { temperature: 1, repetitionPenalty: 2, seed: 10 }, DRAWS, [1, 2]);
    }, 120_000);
  });

  itGpu("20,000 draws of the whole pipeline fit the float64 reference (χ², α = 0.001)", async () => {
    const r = rng(1234);
    const logits = Array.from({ length: 16 }, () => 3 * r() - 1);
    const prompt = [0, 3, 5, 9];
    const options: SamplingOptions = { temperature: 0.8, repetitionPenalty: 1.3, topK: 12, topP: 0.9, minP: 0.08, seed: 42 };
    const ref = referenceSampling(Float32Array.from(logits), prompt, options);
    const support = Array.from(ref.probs).filter((p) => p > 0).length;
    // The filters bite: fewer than top-k's 12 survive, more than one.
    expect(support).toBeGreaterThan(3);
    expect(support).toBeLessThan(12);
    const chi2 = await expectDistribution(logits, ref.probs, options, 20_000, prompt);
    console.log(`sampler χ² = ${chi2.toFixed(2)} over ${support} tokens (${support - 1} df, critical ${CHI2_CRIT_001[support - 1]} at α = 0.001)`);
  }, 300_000);

  itGpu("the same seed gives the same ids, step after step; another seed or step gives others", async () => {
    const rows = 64;
    const logits = repeatRow(Array.from({ length: 8 }, (_, i) => Math.cos(i)), rows);
    const cfg = (seed: number) => ({ options: { temperature: 1, seed, repetitionPenalty: 1.2 } });
    const a = await runSampler(gpu, logits, 8, cfg(7), { steps: 3 });
    const b = await runSampler(gpu, logits, 8, cfg(7), { steps: 3 });
    const c = await runSampler(gpu, logits, 8, cfg(8), { steps: 3 });
    expect(a.ids.map((x) => Array.from(x))).toEqual(b.ids.map((x) => Array.from(x)));
    expect(Array.from(a.seen)).toEqual(Array.from(b.seen));
    const differ = (x: Int32Array, y: Int32Array): number => x.reduce((n, v, i) => n + (v !== y[i] ? 1 : 0), 0);
    expect(differ(a.ids[0]!, c.ids[0]!)).toBeGreaterThan(rows / 4);
    expect(differ(a.ids[0]!, a.ids[1]!)).toBeGreaterThan(rows / 4);
    // Rows are separate streams: the 64 draws of one step are not all one token.
    expect(new Set(a.ids[0]!).size).toBeGreaterThan(3);
  }, 120_000);

  itGpu("a 151,936-token vocabulary: only the allowed top tokens are drawn, with the tie rules", async () => {
    const V = 151_936;
    const rows = 16;
    const row = new Float32Array(V);
    for (let i = 0; i < V; i++) row[i] = Math.sin(i * 0.37) - 10;
    row[151_935] = 10;
    row[77_777] = 9;
    row[5] = 9; // ties 77,777; the lower id wins where only one fits
    const logits = new Float32Array(rows * V);
    for (let b = 0; b < rows; b++) logits.set(row, b * V);
    const drawn = async (options: SamplingOptions): Promise<number[]> => Array.from((await runSampler(gpu, logits, V, { options }, { steps: 2 })).ids.flatMap((x) => Array.from(x)));
    expect(new Set(await drawn({}))).toEqual(new Set([151_935]));
    const k2 = await drawn({ temperature: 1, topK: 2, seed: 1 });
    expect(new Set(k2)).toEqual(new Set([151_935, 5]));
    // p ≈ .576, .212, .212, the rest ~2e-4: .788 ≥ .7 keeps two, the tie to id 5.
    expect(new Set(await drawn({ temperature: 1, topP: 0.7, seed: 2 }))).toEqual(new Set([151_935, 5]));
    // e^9 / e^10 = .37 ≥ .3 keeps both ties; the rest (≤ e^-19 of p_max) goes.
    const m = await drawn({ temperature: 1, minP: 0.3, seed: 3 });
    expect(m.every((id) => id === 151_935 || id === 5 || id === 77_777)).toBe(true);
    expect(new Set(m).size).toBe(3);
  }, 300_000);
});

describe("GpuSampler setup errors (no GPU work)", () => {
  const fakeGpu = {} as GpuContext;
  const buf = (size: number) => ({ size }) as GPUBuffer;
  const buffers = (logitsBytes = 2 * 10 * 4): SamplerBuffers => ({ logits: buf(logitsBytes), seen: buf(8), ids: buf(8), done: buf(8) });
  const create = (over: Partial<Parameters<typeof GpuSampler.create>[2]> = {}, b = buffers()) =>
    GpuSampler.create(fakeGpu, { rows: 2, vocab: 10 }, { options: { temperature: 1 }, ...over }, b);

  it("bad options, stop ids and buffer sizes are named", async () => {
    await expect(create({ options: { topP: 2 } })).rejects.toThrow(SamplingOptionsError);
    await expect(create({ stopIds: [3, 10] })).rejects.toThrow(new SamplerSetupError("sampler: stop id 10 (position 1) is outside the vocabulary [0, 10)"));
    await expect(create({}, buffers(40))).rejects.toThrow("sampler: buffer 'logits' has 40 bytes, needs 80 for 2 rows × 10 ids");
    await expect(GpuSampler.create(fakeGpu, { rows: 1, vocab: 2 ** 24 }, { options: {} }, buffers())).rejects.toThrow("vocab must be an integer in [1, 2^24)");
  });
});
