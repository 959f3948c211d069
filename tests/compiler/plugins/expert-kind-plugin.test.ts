// A plugin expert kind, end to end: docs/plugins.md's `gated_lowrank` copied as written into a
// directory outside the repository loads with --plugin, checks, counts and runs; its float64
// reference is held to hand arithmetic and the GPU (every schedule, and as a shared pool) to
// the reference. Then two programs whose plugins give the SAME stage name different meanings run
// in one process, each by its own plugin: stages travel with the program, not a global table.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExpertKindSpec, Plugin } from "@moec/plugin-api";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { checkProgram } from "../../helpers/moe-check.js";
import { compare } from "../../helpers/numerics.js";
import { normals, rng } from "../../helpers/random.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";

const DOC = fs.readFileSync(path.join(REPO_ROOT, "docs/plugins.md"), "utf8");
const file = (name: string): string => new RegExp("^```\\w+ file=" + name.replace(".", "\\.") + "\\n([\\s\\S]*?)^```$", "m").exec(DOC)![1]!;

let dir: string;
let plugin: Plugin;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-expert-kind-"));
  for (const f of ["gated_lowrank.mjs", "gated_lowrank.moe"]) fs.writeFileSync(path.join(dir, f), file(f));
  const api = await import("@moec/plugin-api");
  const mod = (await import(pathToFileURL(path.join(dir, "gated_lowrank.mjs")).href)) as { default: (a: typeof api) => Plugin };
  plugin = mod.default(api);
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

const routedLayer = (N: number, R: number) => `layer l(x: [T, D], D = 16) {
  experts E[${N}] = gated_lowrank(rank = ${R})
  router r = linear |> softmax |> topk(3) |> renorm
  return moe(x, r, E)
}`;
const sharedLayer = (N: number, R: number) => `layer l(x: [T, D], D = 16) {
  shared E[${N}] = gated_lowrank(rank = ${R})
  return E(x)
}`;

describe("a plugin expert kind (docs/plugins.md, gated_lowrank)", () => {
  itGpu("outside the repository: unknown without --plugin; checks, counts and runs with it", async () => {
    const without = await moec(["check", "gated_lowrank.moe"]);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain("unknown expert kind `gated_lowrank`");
    const check = await moec(["check", "gated_lowrank.moe", "--plugin", "./gated_lowrank.mjs"]);
    expect(check.code, check.stderr).toBe(0);
    const info = await moec(["info", "gated_lowrank.moe", "--plugin", "./gated_lowrank.mjs", "--json"]);
    expect(info.code, info.stderr).toBe(0);
    const j = JSON.parse(info.stdout) as { params: { total: number; active: number } };
    // 64 experts × 3 tensors × R·D = 8·64, plus the router's 64 × 64.
    expect(j.params.total).toBe(64 * 3 * 8 * 64 + 64 * 64);
    expect(j.params.active).toBe(4 * 3 * 8 * 64 + 64 * 64);
    const run = await moec(["run", "gated_lowrank.moe", "--plugin", "./gated_lowrank.mjs", "--random-weights", "--tokens", "4", "--set", "D=16", "N=8", "R=2"]);
    expect(run.code, run.stderr).toBe(0);
    const ir = await moec(["ir", "gated_lowrank.moe", "--plugin", "./gated_lowrank.mjs", "--set", "N=8"]);
    expect(ir.stdout).toContain("pool gated_lowrank count=8 dim=64 hidden=8 act=swiglu bias=false split=1 shared=false from=[gated_lowrank: \"gated-lowrank@1.0.0\"]");
  });

  it("its reference equals hand arithmetic for one expert", () => {
    const kind = plugin.expertKinds![0]! as ExpertKindSpec;
    // D = 2, R = 1: p = [1, 2], q = [0, 1], r = [3, -1]; x = [1, 1] → u = 3, g = 1,
    // h = silu(1)·3 = 3 / (1 + e⁻¹), y = r·h.
    const t: Record<string, number[]> = { p: [1, 2], q: [0, 1], r: [3, -1] };
    const y = kind.reference({ form: kind.form({ rank: 1 }), dim: 2, x: [1, 1], tensor: (n) => t[n]! });
    const h = 3 / (1 + Math.exp(-1));
    expect(Array.from(y)).toEqual([3 * h, -h].map((v) => expect.closeTo(v, 14)));
  });

  itGpu("the GPU equals its reference: routed under every schedule, and as a shared pool", async () => {
    const ctx = await testGpu();
    const routed = compile({ source: routedLayer(32, 4), plugins: [plugin] });
    expect(routed.ok, routed.formatDiagnostics()).toBe(true);
    const program = routed.program!;
    const moe = program.ops.find((o) => o.op === "moe");
    expect(moe?.op === "moe" && moe.pool.pluginKind?.source).toBe("gated-lowrank@1.0.0");
    const w = randomWeights(program, 5);
    const T = 9;
    const x = new Map([["x", Float32Array.from(normals(rng(3), T * 16))]]);
    for (const fineSchedule of ["auto", "token", "expert", "dense"] as const) {
      const r = await checkProgram(ctx, program, w, x, T, { fineSchedule });
      expect(r.selection.mismatches, fineSchedule).toEqual([]);
      expect(r.outputs.get("y")!.err.maxAbs, fineSchedule).toBeLessThan(2e-5);
    }
    const shared = compile({ source: sharedLayer(4, 3), plugins: [plugin] });
    expect(shared.ok, shared.formatDiagnostics()).toBe(true);
    const sw = randomWeights(shared.program!, 6);
    const exec = await createExecutor(ctx, shared.program!, sw);
    try {
      const gpu = (await exec.run(x, T)).get("y")!;
      const ref = interpretReference(shared.program!, sw, x, T).get("y")!;
      expect(compare(gpu, ref).maxAbs).toBeLessThan(2e-5);
    } finally {
      exec.dispose();
    }
  });
});

describeGpu("stages travel with the program", () => {
  // Two plugins both define a transform `tilt`, with different meanings.
  const tilt = (name: string, factor: number): Plugin => ({
    apiVersion: 1,
    name,
    version: "1.0.0",
    stages: [
      {
        name: "tilt",
        kind: "transform",
        doc: `w_e ← w_e · (1 + ${factor}·e)`,
        reference: { transform: (z) => z.map((v, e) => v * (1 + factor * e)) },
        wgsl: { transform: { expr: `z * (1.0 + ${factor.toFixed(1)} * f32(e))` } },
      },
    ],
  });
  const source = `layer l(x: [T, D], D = 16) {
  experts E[8] = ffn(hidden = 8)
  router r = linear |> softmax |> tilt |> topk(2)
  return moe(x, r, E)
}`;

  it("two programs whose plugins define the same stage differently run side by side in one process", async () => {
    const ctx = await testGpu();
    const a = compile({ source, plugins: [tilt("tilt-up", 1)] });
    const b = compile({ source, plugins: [tilt("tilt-down", -0.1)] });
    expect(a.ok && b.ok).toBe(true);
    const T = 7;
    const x = new Map([["x", Float32Array.from(normals(rng(11), T * 16))]]);
    const w = randomWeights(a.program!, 2);
    const outs: Float32Array[] = [];
    for (const p of [a.program!, b.program!] as IrProgram[]) {
      const r = await checkProgram(ctx, p, w, x, T);
      expect(r.selection.mismatches).toEqual([]);
      expect(r.outputs.get("y")!.err.maxAbs).toBeLessThan(2e-5);
      outs.push(r.outputs.get("y")!.gpu);
    }
    // Different meanings, so different results: each program ran its own plugin's stage.
    expect(compare(outs[0]!, Float64Array.from(outs[1]!)).maxAbs).toBeGreaterThan(1e-3);
  });

  it("a router whose plugin stage travels without an implementation names the stage", async () => {
    const ctx = await testGpu();
    const a = compile({ source, plugins: [tilt("tilt-up", 1)] });
    const p: IrProgram = { ...a.program!, ops: a.program!.ops.map((o) => (o.op === "moe" ? { ...o, router: { ...o.router, pluginStages: undefined } } : o)) };
    await expect(createExecutor(ctx, p, randomWeights(p, 1))).rejects.toThrow(/stage 2 'tilt': no implementation is loaded/);
  });
});

describe("invalid plugin expert kinds are named, never a crash", () => {
  const base = (k: Partial<ExpertKindSpec>): Plugin => ({
    apiVersion: 1,
    name: "bad",
    version: "0.1.0",
    stages: [],
    expertKinds: [{ ...(plugin.expertKinds![0] as ExpertKindSpec), ...k }],
  });
  it("E0902 for a GPU form naming a tensor it does not list, a bad layout, a bad schedule, a reserved name", async () => {
    const { validatePlugin } = await import("../../../compiler/plugins/register.js");
    const msgs = (p: Plugin) => validatePlugin(p, "bad").map((e) => `${e.code} ${e.message}`);
    expect(msgs(base({ gpu: () => ({ as: "ffn", up: "p", down: "s", act: "identity" }) }))).toEqual([
      "E0902 plugin bad@0.1.0: expert kind 'gated_lowrank': gpu() names tensor 's', which tensors() does not list",
    ]);
    expect(msgs(base({ tensors: () => [{ name: "p", layout: "diagonal" as never, fanIn: 1 }] }))[0]).toMatch(/tensors\(\) must list \{ name, layout \(rows, cols, hvec, ovec, dvec\), fanIn > 0 \}/);
    expect(msgs(base({ schedule: "fast" as never }))).toEqual(["E0902 plugin bad@0.1.0: expert kind 'gated_lowrank': schedule must be \"expert\" or \"token\""]);
    expect(msgs(base({ name: "mixed" }))).toEqual(["E0902 plugin bad@0.1.0: `mixed` is reserved (heterogeneous pools)"]);
    expect(msgs(base({ form: () => { throw new Error("boom"); } }))).toEqual(["E0902 plugin bad@0.1.0: expert kind 'gated_lowrank': its functions threw on the default arguments: boom"]);
  });
  it("E0903 for a kind that takes a standard kind's name, naming both sources", () => {
    const c = compile({ source: routedLayer(8, 2), plugins: [base({ name: "lowrank" })] });
    expect(c.ok).toBe(false);
    expect(c.formatDiagnostics()).toContain("expert kind `lowrank` is registered twice: by std and by bad@0.1.0");
  });
});
