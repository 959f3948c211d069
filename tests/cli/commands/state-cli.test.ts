// Router state through the CLI (LANGUAGE.md §7): `moec run --state-out FILE` writes the updated
// e_bias; `--state FILE` feeds it to the next run, which continues the rule
// e_bias ← e_bias + γ·sign(mean_load − load); a plugin's state (elastic k) comes from --state too.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readSafetensors, writeSafetensors } from "../../../runtime/safetensors/index.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";
import { describeGpu } from "../../helpers/gpu-context.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-state-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function moec(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin/moec.js"), ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

const V3 = path.join(REPO_ROOT, "examples/deepseek_v3.moe");
const small = ["--set", "D=32", "I=16", "--random-weights", "--tokens", "64"];

describeGpu("router state on the command line", () => {
  it("--state-out, then --state: the bias update continues from the saved state", async () => {
    const a = await moec(["run", V3, ...small, "--state-out", "s1.safetensors", "--stats", "a.json"]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toContain("wrote router state (r.e_bias)");
    const s1 = readSafetensors(path.join(dir, "s1.safetensors")).getF32("r.e_bias");
    const load1: number[] = JSON.parse(fs.readFileSync(path.join(dir, "a.json"), "utf8")).routers.r.load;
    const mean1 = load1.reduce((x, y) => x + y, 0) / 256;
    // From zeros, one update: γ·sign(mean − load), γ = 0.001.
    s1.forEach((v, e) => expect(v).toBeCloseTo(0.001 * Math.sign(mean1 - load1[e]!), 7));
    expect(s1.some((v) => v !== 0)).toBe(true);
    const b = await moec(["run", V3, ...small, "--state", "s1.safetensors", "--state-out", "s2.safetensors", "--stats", "b.json"]);
    expect(b.code, b.stderr).toBe(0);
    const s2 = readSafetensors(path.join(dir, "s2.safetensors")).getF32("r.e_bias");
    const load2: number[] = JSON.parse(fs.readFileSync(path.join(dir, "b.json"), "utf8")).routers.r.load;
    const mean2 = load2.reduce((x, y) => x + y, 0) / 256;
    s2.forEach((v, e) => expect(v).toBeCloseTo(s1[e]! + 0.001 * Math.sign(mean2 - load2[e]!), 6));
  });

  it("a plugin's state from --state: elastic k per run", async () => {
    writeSafetensors(path.join(dir, "k5.safetensors"), { "r.elastic_k": { dtype: "F32", shape: [1], data: Float32Array.of(5) } });
    const ex = path.join(REPO_ROOT, "examples/plugins/elastic_k.moe");
    const plug = path.join(REPO_ROOT, "plugins/elastic-k/index.js");
    const r = await moec(["run", ex, "--plugin", plug, "--set", "D=32", "I=16", "--random-weights", "--tokens", "8", "--state", "k5.safetensors", "--stats", "k.json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "k.json"), "utf8")).routers.r.active_k).toEqual({ mean: 5, histogram: [0, 0, 0, 0, 0, 8, 0, 0, 0] });
    const bad = await moec(["run", ex, "--plugin", plug, "--set", "D=32", "I=16", "--random-weights", "--tokens", "8", "--state", "s1.safetensors"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("`r.e_bias` is not router state of `elastic_moe` (its state: r.elastic_k)");
  });
});
