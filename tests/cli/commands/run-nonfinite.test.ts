// moec run and non-finite values: an input with NaN/Inf is refused by tensor, count and position
// (exit 1) unless --allow-nonfinite; a weight with them is a warning naming it; an output with them
// is said on stderr. Counts are of the values the test itself poisoned.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lowerEntry } from "../../../compiler/driver.js";
import { canonicalToFile, randomWeights, writeSafetensors } from "../../../runtime/index.js";
import { moec } from "../../helpers/cli.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";
import { itGpu } from "../../helpers/gpu-context.js";

const MIXTRAL = path.join(REPO_ROOT, "examples/mixtral.moe");
const SMALL = ["--set", "D=16", "I=8"];
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-nonfinite-"));
  // x [2, 16]: +Inf at [0, 0], NaN at [1, 2].
  const x = new Float32Array(32).map((_, i) => Math.sin(i));
  x[0] = Infinity;
  x[16 + 2] = NaN;
  writeSafetensors(path.join(dir, "bad-x.safetensors"), { x: { dtype: "F32", shape: [2, 16], data: x } });
  writeSafetensors(path.join(dir, "x.safetensors"), { x: { dtype: "F32", shape: [2, 16], data: new Float32Array(32).map((_, i) => Math.cos(i)) } });
  // The weights with every value of E.w_down +Inf (8 experts × 16 × 8): every token's output is non-finite.
  const lowered = lowerEntry([MIXTRAL], { set: { D: "16", I: "8" } });
  const w = randomWeights(lowered.program!, 1);
  w.get("E.w_down")!.fill(Infinity);
  writeSafetensors(path.join(dir, "w.safetensors"), canonicalToFile(lowered.program!, w, "stacked"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("moec run with non-finite values", () => {
  it("an input file with NaN/Inf is refused before any weights or GPU (exit 1), by tensor, count and first position", async () => {
    const r = await moec(["run", MIXTRAL, ...SMALL, "--random-weights", "--input", "bad-x.safetensors"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe("moec run: input `x` has 2 non-finite values (1 NaN, 1 +Inf), the first at [0, 0] in bad-x.safetensors; give --allow-nonfinite to run on them anyway\n");
  });

  itGpu("weights with Inf: a warning naming the weight and count; the output's non-finite values are said too", async () => {
    const r = await moec(["run", MIXTRAL, ...SMALL, "--weights", "w.safetensors", "--input", "x.safetensors"], dir);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("moec run: warning: weight `E.w_down` has 1024 non-finite values (1024 +Inf), the first at [0]\n");
    expect(r.err).toMatch(/^moec run: warning: output `y` has 32 non-finite values \(/m);
  }, 120_000);

  itGpu("--allow-nonfinite runs on the input and drops the weight warning; the output is still said", async () => {
    const r = await moec(["run", MIXTRAL, ...SMALL, "--weights", "w.safetensors", "--input", "bad-x.safetensors", "--allow-nonfinite"], dir);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain("warning: weight");
    expect(r.err).toMatch(/^moec run: warning: output `y` has \d+ non-finite values/m);
  }, 120_000);
});
