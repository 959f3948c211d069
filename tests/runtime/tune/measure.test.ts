// The measurement: the median of the timed runs after warm-up; a candidate whose output differs
// from the first's is rejected however fast it is; a non-finite reference is an error.
import { expect, it } from "vitest";
import { measureCandidates, outputMismatch, type OpenCandidate } from "../../../runtime/tune/measure.js";
import type { TunedShape } from "../../../runtime/tune/tuned-shape.js";

const a: TunedShape = { kind: "gemv", rows: 1, lanes: 4, cols: 2 };
const b: TunedShape = { kind: "gemv", rows: 1, lanes: 16, cols: 2 };
const wrong: TunedShape = { kind: "gemv", rows: 1, lanes: 1, cols: 4 };
const tile: TunedShape = { kind: "tile" };

/** Candidates that return scripted times and outputs; counts runs and closes. */
function scripted(times: Map<TunedShape, number[]>, outputs: Map<TunedShape, Float32Array>) {
  const log = { runs: new Map<TunedShape, number>(), closed: [] as TunedShape[], order: [] as TunedShape[] };
  const open = async (s: TunedShape): Promise<OpenCandidate> => ({
    async run() {
      log.order.push(s);
      const n = log.runs.get(s) ?? 0;
      log.runs.set(s, n + 1);
      return { output: outputs.get(s)!, ms: times.get(s)![n]! };
    },
    close: () => void log.closed.push(s),
  });
  return { open, log };
}

const right = Float32Array.of(1, 2, 3);
const opts = { warmup: 1, reps: 3, rtol: 1e-3, atol: 1e-4, margin: 0.05 };

it("picks the fastest median among candidates that agree with the first; rejects a wrong one", async () => {
  const { open, log } = scripted(
    new Map([
      [a, [99, 5, 7, 6]], // warm-up 99, then 5 7 6: median 6
      [b, [99, 4, 9, 3]], // median 4
      [wrong, [99, 0.1, 0.1, 0.1]],
      [tile, [99, 8, 8, 8]],
    ]),
    new Map([[a, right], [b, Float32Array.of(1.0005, 2, 3)], [wrong, Float32Array.of(1, 2, 3.1)], [tile, right]]),
  );
  const m = await measureCandidates([a, b, wrong, tile, a], open, opts);
  expect(m.best).toEqual({ shape: b, ms: 4 });
  expect(m.candidates).toEqual([
    { shape: a, ms: 6 },
    { shape: b, ms: 4 },
    { shape: wrong, rejected: "output[2] = 3.0999999046325684, the first candidate's 3" },
    { shape: tile, ms: 8 },
  ]);
  // The duplicate is measured once; a rejected candidate is not timed (closed at once); the rest
  // are timed round-robin and closed at the end.
  expect([log.runs.get(a), log.runs.get(b), log.runs.get(wrong), log.runs.get(tile)]).toEqual([4, 4, 1, 4]);
  expect(log.closed).toEqual([wrong, a, b, tile]);
  expect(log.order.slice(-9)).toEqual([a, b, tile, a, b, tile, a, b, tile]);
});

it("a candidate within the margin of the first (the fallback) does not displace it", async () => {
  const times = (ms: number) => [ms, ms, ms, ms];
  const { open } = scripted(new Map([[a, times(10)], [b, times(9.6)]]), new Map([[a, right], [b, right]]));
  expect((await measureCandidates([a, b], open, opts)).best).toEqual({ shape: a, ms: 10 });
  const faster = scripted(new Map([[a, times(10)], [b, times(9.4)]]), new Map([[a, right], [b, right]]));
  expect((await measureCandidates([a, b], faster.open, opts)).best).toEqual({ shape: b, ms: 9.4 });
});

it("a reference that is not finite is an error, not a choice", async () => {
  const { open } = scripted(new Map([[a, [1, 1, 1, 1]], [b, [1, 1, 1, 1]]]), new Map([[a, Float32Array.of(NaN)], [b, Float32Array.of(1)]]));
  await expect(measureCandidates([a, b], open, opts)).rejects.toThrow("produced a non-finite output");
});

it("outputMismatch: tolerance |a − b| ≤ atol + rtol·|b|, lengths", () => {
  expect(outputMismatch(Float32Array.of(100.05), Float32Array.of(100), 1e-3, 0)).toBeUndefined();
  expect(outputMismatch(Float32Array.of(100.2), Float32Array.of(100), 1e-3, 0)).toContain("output[0]");
  expect(outputMismatch(Float32Array.of(1, 2), Float32Array.of(1), 1e-3, 0)).toBe("output has 2 values, the first candidate's 1");
});
