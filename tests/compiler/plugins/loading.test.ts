// Loading router plugins: from --plugin (path or package), moec.config.json and package.json's
// "moec" field, for `moec check/info/run/plugins`; never from a .moe file. Every failure — API
// version, a stage registered twice (two plugins, or a plugin and std), a plugin that throws,
// an invalid plugin — is a diagnostic naming the plugin (and stage), never a crash.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, loadPlugins } from "../../../compiler/index.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";

const BIN = path.join(REPO_ROOT, "bin/moec.js");
const HASH = path.join(REPO_ROOT, "plugins/hash-routing/index.js");
const HASH_EXAMPLE = path.join(REPO_ROOT, "examples/plugins/hash_layer.moe");

interface Run { code: number | null; stdout: string; stderr: string }
function moec(args: string[], cwd = REPO_ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", MOEC_DEBUG: "" } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
function expectNoCrash(r: Run): void {
  expect(r.stderr + r.stdout).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.code).not.toBe(70);
}

// A plugin module as text: one transform stage named `name`.
const plugin = (o: { name?: string; version?: string; stage?: string; api?: number; extra?: string; check?: string }) => `
export default {
  apiVersion: ${o.api ?? 1}, name: ${JSON.stringify(o.name ?? "demo")}, version: ${JSON.stringify(o.version ?? "0.1.0")},
  stages: [{
    name: ${JSON.stringify(o.stage ?? "halve")}, kind: "transform", doc: "halves both streams",
    ${o.check ? `check: ${o.check},` : ""}
    reference: { transform: (z) => z.map((v) => v / 2) },
    wgsl: { transform: { expr: "z * 0.5" } },
    ${o.extra ?? ""}
  }],
};
`;

let dir: string;
const w = (rel: string, text: string) => {
  const f = path.join(dir, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
};
const LAYER = (stage: string) => `layer l(x: [T, D], D = 16) {\n  experts E[4] = ffn(hidden = 8)\n  router r = linear |> ${stage} |> topk(2)\n  return moe(x, r, E)\n}\n`;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-plugins-"));
  w("halve.mjs", plugin({}));
  w("layer.moe", LAYER("halve"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("where plugins come from", () => {
  it("--plugin PATH: check and info know the stage; without it, E0242", async () => {
    const without = await moec(["check", HASH_EXAMPLE]);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain("error[E0242]: unknown router stage `hash`");
    const withIt = await moec(["check", HASH_EXAMPLE, "--plugin", HASH]);
    expect(withIt.code, withIt.stderr).toBe(0);
    const info = await moec(["info", HASH_EXAMPLE, "--plugin", HASH, "--json", "--set", "D=32", "I=48"]);
    expect(info.code, info.stderr).toBe(0);
    // 16 experts × 3 × 48 × 32; the hash router owns no weights.
    expect(JSON.parse(info.stdout).params.total).toBe(16 * 3 * 48 * 32);
  });

  it("moec.config.json (paths relative to it), found from a subdirectory", async () => {
    const proj = path.join(dir, "proj");
    fs.mkdirSync(path.join(proj, "src"), { recursive: true });
    fs.writeFileSync(path.join(proj, "moec.config.json"), JSON.stringify({ plugins: ["../halve.mjs"] }));
    fs.writeFileSync(path.join(proj, "src", "l.moe"), LAYER("halve"));
    const r = await moec(["check", "l.moe"], path.join(proj, "src"));
    expect(r.code, r.stderr).toBe(0);
    const list = await moec(["plugins", "--json"], path.join(proj, "src"));
    const j = JSON.parse(list.stdout);
    expect(j.api_version).toBe(1);
    expect(j.config).toBe(path.join(proj, "moec.config.json"));
    expect(j.plugins).toEqual([{ name: "demo", version: "0.1.0", file: path.join(dir, "halve.mjs"), requested_by: path.join(proj, "moec.config.json"), stages: [{ name: "halve", kind: ["transform"], scope: "token", params: [], state: [], gpu: true }] }]);
  });

  it("a \"moec\" field in package.json, and a package name resolved from node_modules", async () => {
    const proj = path.join(dir, "pkgproj");
    w("pkgproj/node_modules/moec-plugin-demo/package.json", JSON.stringify({ name: "moec-plugin-demo", type: "module", exports: { ".": { import: "./main.js" } } }));
    w("pkgproj/node_modules/moec-plugin-demo/main.js", plugin({ name: "demo-pkg", version: "2.0.0" }));
    w("pkgproj/package.json", JSON.stringify({ name: "x", moec: { plugins: ["moec-plugin-demo"] } }));
    w("pkgproj/l.moe", LAYER("halve"));
    const r = await moec(["check", "l.moe"], proj);
    expect(r.code, r.stderr).toBe(0);
    const list = await moec(["plugins"], proj);
    expect(list.stdout).toContain("demo-pkg 2.0.0");
    expect(list.stdout).toContain("halve()  transform");
  });

  it("never from a .moe file: an import of a module is not executed", async () => {
    const marker = path.join(dir, "evil-ran");
    w("evil.mjs", `import * as fs from "node:fs"; fs.writeFileSync(${JSON.stringify(marker)}, "x"); export default {};`);
    w("imports.moe", `import { halve } from "./evil.mjs"\n${LAYER("topk(3) |> renorm |> scale(1)").replace("|> topk(2)", "")}`);
    const r = await moec(["check", path.join(dir, "imports.moe")]);
    expectNoCrash(r);
    expect(r.code).toBe(1);
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe("clear errors, never a crash", () => {
  const run = async (files: Record<string, string>, args: string[]) => {
    const paths = Object.entries(files).map(([n, t]) => w(n, t));
    const r = await moec(["check", path.join(dir, "layer.moe"), ...paths.flatMap((p) => ["--plugin", p]), ...args]);
    expectNoCrash(r);
    return r;
  };

  it("E0901: a plugin written for another API version", async () => {
    const r = await run({ "v2.mjs": plugin({ name: "future", api: 2 }) }, []);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[E0901]: plugin future was written for plugin API version 2, but this moec implements version 1");
  });

  it("E0903: the same stage from two plugins, and a plugin redefining a std stage — naming both sources", async () => {
    const r = await run({ "a.mjs": plugin({ name: "alpha", version: "1.0.0" }), "b.mjs": plugin({ name: "beta", version: "3.1.4" }) }, []);
    expect(r.stderr).toContain("error[E0903]: router stage `halve` is registered twice: by alpha@1.0.0 and by beta@3.1.4");
    const s = await run({ "std.mjs": plugin({ name: "clash", stage: "softmax" }) }, []);
    expect(s.stderr).toContain("error[E0903]: router stage `softmax` is registered twice: by std and by clash@0.1.0");
  });

  it("E0900: a plugin that throws while loading, or whose default export throws; a missing one", async () => {
    const r = await run({ "boom.mjs": `throw new Error("kaboom");` }, []);
    expect(r.stderr).toMatch(/error\[E0900\]: plugin '.*boom\.mjs' threw while loading: kaboom/);
    const f = await run({ "fboom.mjs": `export default () => { throw new Error("no"); };` }, []);
    expect(f.stderr).toMatch(/error\[E0900\]: plugin '.*fboom\.mjs': its default export threw: no/);
    const m = await moec(["check", path.join(dir, "layer.moe"), "--plugin", "./does-not-exist.mjs"], dir);
    expect(m.stderr).toContain("error[E0900]: cannot load plugin './does-not-exist.mjs' (--plugin): no file");
  });

  it("E0902: invalid plugins are described precisely", async () => {
    const r = await run({ "noref.mjs": `export default { apiVersion: 1, name: "n", version: "1", stages: [{ name: "s", kind: "transform", doc: "", reference: {} }] };` }, []);
    expect(r.stderr).toContain("error[E0902]: plugin n@1, stage 's': reference.transform is missing");
    const wg = await run({ "bar.mjs": plugin({ name: "bars", stage: "b2", extra: "" }).replace('"z * 0.5"', '"z; workgroupBarrier()"') }, []);
    expect(wg.stderr).toContain("stage 'b2': wgsl.transform.expr may not use barriers");
  });

  it("a plugin's check that throws is reported at the stage, naming plugin and stage", async () => {
    w("checky.mjs", plugin({ name: "checky", stage: "twice", check: "() => { throw new Error(\"bad pool\"); }" }));
    w("twice.moe", LAYER("twice"));
    const r = await moec(["check", path.join(dir, "twice.moe"), "--plugin", path.join(dir, "checky.mjs")]);
    expectNoCrash(r);
    expect(r.stderr).toMatch(/twice\.moe:3:\d+: error\[E0299\]: plugin checky@0\.1\.0, stage `twice`: its check threw: bad pool/);
  });
});

describe("library", () => {
  it("compile({ plugins }) and loadPlugins; problems are diagnostics", async () => {
    const { plugins, diagnostics } = await loadPlugins([HASH]);
    expect(diagnostics).toEqual([]);
    expect(plugins.map((p) => `${p.name}@${p.version}`)).toEqual(["hash-routing@1.0.0"]);
    const c = compile({ file: HASH_EXAMPLE, plugins, set: { D: 32, I: 48 } });
    expect(c.ok, c.formatDiagnostics()).toBe(true);
    expect(c.program!.ops.some((o) => o.op === "moe" && o.router.stages[0]!.name === "hash")).toBe(true);
    const bad = compile({ file: HASH_EXAMPLE, plugins: [{ ...plugins[0]!, apiVersion: 0 }] });
    expect(bad.ok).toBe(false);
    expect(bad.diagnostics[0]!.code).toBe("E0901");
  });
});
