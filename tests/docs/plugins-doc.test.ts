// docs/plugins.md's "write your own router in fifteen minutes", taken at its word: the plugin and
// the layer are copied, exactly as the doc shows them, into a directory OUTSIDE the repository;
// the plugin loads with --plugin, checks, runs with statistics, and `moec stats` reads them; the
// RouterTester then holds the plugin's WGSL to its float64 reference, which is itself checked
// against a hand-computed value.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RouterTester } from "../../cli/testing/router-tester.js";
import { itGpu, releaseTestGpu, testGpu } from "../helpers/gpu-context.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";

const DOC = fs.readFileSync(path.join(REPO_ROOT, "docs/plugins.md"), "utf8");

/** Code blocks whose info string names a file: ```js file=sharpen.mjs */
function docFiles(md: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^```\w+ file=(\S+)\n([\s\S]*?)^```$/gm;
  for (const m of md.matchAll(re)) out.set(m[1]!, m[2]!);
  return out;
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-fifteen-minutes-"));
  expect(path.relative(REPO_ROOT, dir).startsWith("..")).toBe(true);
  for (const [name, text] of docFiles(DOC)) fs.writeFileSync(path.join(dir, name), text);
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await releaseTestGpu();
});

function moec(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin/moec.js"), ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("docs/plugins.md, fifteen minutes", () => {
  it("the doc has the plugin and the layer as files", () => {
    expect([...docFiles(DOC).keys()].sort()).toEqual(["gated_lowrank.mjs", "gated_lowrank.moe", "sharpen.mjs", "sharpen.moe"]);
  });

  itGpu("outside the repository: --plugin loads it; check, run --stats, stats", async () => {
    const without = await moec(["check", "sharpen.moe"]);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain("unknown router stage `sharpen`");
    const check = await moec(["check", "sharpen.moe", "--plugin", "./sharpen.mjs"]);
    expect(check.code, check.stderr).toBe(0);
    const run = await moec(["run", "sharpen.moe", "--plugin", "./sharpen.mjs", "--random-weights", "--tokens", "8", "--stats", "s.json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/r: maxvio [\d.]+, entropy [\d.]+, active_k 2\.00, drop_rate 0\.0%/);
    const stats = JSON.parse(fs.readFileSync(path.join(dir, "s.json"), "utf8"));
    expect(stats.routers.r.load.reduce((a: number, b: number) => a + b, 0)).toBe(16);
    expect(stats.routers.r.active_k.histogram).toEqual([0, 0, 8]);
    const summary = await moec(["stats", "s.json"]);
    expect(summary.code).toBe(0);
    expect(summary.stdout).toContain("sharp_moe: 8 tokens, 1 router(s)");
    const plot = await moec(["stats", "s.json", "--plot"]);
    expect(plot.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "s.svg"), "utf8")).toContain("<svg");
    const list = await moec(["plugins", "--plugin", "./sharpen.mjs"]);
    expect(list.stdout).toContain("sharpen 1.0.0");
    expect(list.stdout).toContain("sharpen(power: number = 2)  transform");
  });

  itGpu("its check rule, its reference against hand arithmetic, its WGSL against its reference (RouterTester)", async () => {
    const mod = (await import(pathToFileURL(path.join(dir, "sharpen.mjs")).href)) as { default: unknown };
    const tester = await RouterTester.create({ plugins: [mod.default as never], gpu: await testGpu() });
    const c = tester.program("linear |> softmax |> sharpen(60) |> topk(2)", 8, 8);
    expect(c.error).toMatch(/sharpen\(60\) over 8 experts underflows f32/);
    // Reference: [0.5, 0.25, 0.25, 0] at power 2 → [0.25, 0.0625, 0.0625, 0] / 0.375.
    const api = await import("@moec/plugin-api");
    const plugin = (mod.default as (a: typeof api) => { stages: { reference: { transform: (z: Float64Array, c: unknown) => ArrayLike<number> } }[] })(api);
    const out = Array.from(plugin.stages[0]!.reference.transform(Float64Array.of(0.5, 0.25, 0.25, -1), { args: { power: 2 }, E: 4 }));
    [2 / 3, 1 / 6, 1 / 6, 0].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 12));
    const r = await tester.run({ pipeline: "linear |> softmax |> sharpen(2.0) |> topk(2)", seeds: 1 });
    expect(r.compared).toBeGreaterThan(0.8 * r.tokens);
    await tester.run({ pipeline: "linear |> sigmoid |> sharpen(0.5) |> topp(0.6) |> renorm", experts: [8, 64], seeds: 1 });
  });
});
