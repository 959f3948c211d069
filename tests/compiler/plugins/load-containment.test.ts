// Plugins contained at load (compiler/plugins/loader.ts, load-probe.ts): a module that loops, waits
// forever, calls process.exit, prints on stdout, has throwing getters or an async factory is an
// E0900/E0902 diagnostic naming it; the command goes on to report it (exit 1, never a hang, a
// false exit 0 or an internal error), and `--json` stays parseable.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPlugins } from "../../../compiler/plugins/loader.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";

const BIN = path.join(REPO_ROOT, "bin/moec.js");
const GOOD = `export default { apiVersion: 1, name: "good", version: "1.0.0", stages: [{ name: "halve", kind: "transform", doc: "halves",
  reference: { transform: (z) => z.map((v) => v / 2) }, wgsl: { transform: { expr: "z * 0.5" } } }] };\n`;

let dir: string;
const plugin = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-plugin-contain-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function loadOne(file: string, timeoutMs = 2000) {
  const set = await loadPlugins([{ specifier: file, baseDir: dir, requestedBy: "--plugin" }], [], timeoutMs);
  return set;
}

describe("a plugin module that misbehaves at load", () => {
  it("an endless loop: E0900 after the load time limit, not a hang", async () => {
    const t0 = Date.now();
    const set = await loadOne(plugin("loop.mjs", "for (;;) {}\n" + GOOD), 1000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(set.plugins).toEqual([]);
    expect(set.diagnostics.map((d) => [d.code, d.message])).toEqual([["E0900", `plugin '${path.join(dir, "loop.mjs")}' (--plugin) did not finish loading within 1 s (an endless loop or a wait at load?)`]]);
  }, 20_000);

  it("a top-level await that never settles: E0900 at once", async () => {
    const set = await loadOne(plugin("await.mjs", "await new Promise(() => {});\n" + GOOD));
    expect(set.diagnostics.map((d) => [d.code, d.message])).toEqual([["E0900", `plugin '${path.join(dir, "await.mjs")}' (--plugin) never finished loading: its top-level await does not settle`]]);
  });

  it.each([[0], [3]])("process.exit(%i) at load is refused (E0900), and this process goes on", async (code) => {
    const set = await loadOne(plugin(`exit${code}.mjs`, `process.exit(${code});\n` + GOOD));
    expect(set.diagnostics.map((d) => [d.code, d.message])).toEqual([["E0900", `plugin '${path.join(dir, `exit${code}.mjs`)}' (--plugin) called process.exit(${code}) while loading; a plugin may not end the process`]]);
  });

  it("throwing getters: E0902 naming the plugin, not an internal error", async () => {
    const set = await loadOne(plugin("getter.mjs", `export default { apiVersion: 1, get name() { throw new Error("no name today"); }, version: "1", stages: [] };\n`));
    expect(set.diagnostics.map((d) => [d.code, d.message])).toEqual([["E0902", `plugin '${path.join(dir, "getter.mjs")}': reading its fields threw: no name today`]]);
    const stages = await loadOne(plugin("stages.mjs", `export default { apiVersion: 1, name: "s", version: "1", get stages() { throw new Error("stages gone"); } };\n`));
    expect(stages.diagnostics.map((d) => d.code)).toEqual(["E0902"]);
    expect(stages.diagnostics[0]!.message).toMatch(/stages gone/);
  });

  it("an async factory (a Promise as the plugin): E0902 saying so", async () => {
    const set = await loadOne(plugin("async.mjs", `export default async (api) => (${GOOD.replace("export default ", "").replace(/;\n$/, "")});\n`));
    expect(set.diagnostics.map((d) => [d.code, d.message])).toEqual([["E0902", `plugin '${path.join(dir, "async.mjs")}': its default export is a Promise (an async function?); a plugin is an object, or a synchronous function of the plugin API returning one`]]);
  });

  it("a well-behaved plugin still loads", async () => {
    const set = await loadOne(plugin("good.mjs", GOOD));
    expect(set.diagnostics).toEqual([]);
    expect(set.plugins.map((p) => p.source)).toEqual(["good@1.0.0"]);
  });
});

function moec(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("through the CLI", () => {
  it("a plugin's console.log at load goes to stderr: check --json's stdout is JSON", async () => {
    plugin("chatty.mjs", `console.log("hello from the plugin");\nprocess.stdout.write("and more\\n");\n` + GOOD);
    plugin("l.moe", "layer l(x: [T, D], D = 16) {\n  experts E[4] = ffn(hidden = 8)\n  router r = linear |> halve |> topk(2)\n  return moe(x, r, E)\n}\n");
    const r = await moec(["check", "l.moe", "--plugin", "./chatty.mjs", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ diagnostics: [] });
    expect(r.stderr.match(/hello from the plugin/g)).toHaveLength(1); // once: the probe in the worker prints nothing
  });
  it("process.exit(0) at load: exit 1 with E0900, not a silent 0", async () => {
    plugin("quit.mjs", "process.exit(0);\n" + GOOD);
    const r = await moec(["check", "l.moe", "--plugin", "./quit.mjs"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[E0900\]: plugin '\.\/quit\.mjs' \(--plugin\) called process\.exit\(0\) while loading/);
  });
});
