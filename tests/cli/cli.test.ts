// End-to-end tests of the `moec` executable: spawns `node bin/moec.js` (dist/ is built by `npm
// test`'s `tsc -b`) from the repository root and checks exit codes, the first line of each
// rendered diagnostic, the JSON shapes of `check --json` and `info --json`, `--set`, `--entry`,
// `--help`, and usage errors. Numbers are computed by hand from LANGUAGE.md §4/§9.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/frontend/paths.js";

const BIN = path.join(REPO_ROOT, "bin/moec.js");

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

/** No stack trace and no "internal error": a user mistake is reported as such. */
function expectNoCrash(r: Run): void {
  expect(r.stderr + r.stdout).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.code).not.toBe(70);
  expect(r.stderr + r.stdout).not.toContain("\x1b[");
}

/** `FILE:LINE:COL: SEVERITY[CODE]: message` — the first line of every rendered diagnostic. */
const HEADER = /^(\S+?):(\d+):(\d+): (error|warning)\[([EW]\d{4})\]: (.+)$/;

const mixtral = path.join("examples", "mixtral.moe");
const S12 = path.join("tests", "fixtures", "contract", "section12.moe");

// Mixtral (§12) by hand: N experts × 3 matrices × I × D, router N × D; top-2 active.
const mixtralCounts = (D: number, N: number, I: number) => ({
  total: N * 3 * I * D + N * D,
  active: 2 * 3 * I * D + N * D,
  flops: 2 * (2 * 3 * I * D + N * D),
});

describe.concurrent("moec --help", () => {
  it("prints the commands and exits 0 (also with -h and with no arguments)", async () => {
    for (const args of [["--help"], ["-h"], []]) {
      const r = await moec(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Usage: moec COMMAND");
      expect(r.stdout).toMatch(/^\s+check\s+\S/m);
      expect(r.stdout).toMatch(/^\s+info\s+\S/m);
      expectNoCrash(r);
    }
  });
  it("every listed command has its own --help", async () => {
    const main = await moec(["--help"]);
    const section = main.stdout.split("Commands:")[1]!.split("\n\n")[0]!;
    const names = [...section.matchAll(/^\s{2}(\w[\w-]*)\s/gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(["check", "info"]));
    const runs = await Promise.all(names.map((n) => moec([n, "--help"])));
    runs.forEach((r, i) => {
      expect(r.code, names[i]).toBe(0);
      expect(r.stdout.startsWith(`moec ${names[i]} — `), names[i]).toBe(true);
      expect(r.stdout).toContain(`Usage: moec ${names[i]}`);
      expectNoCrash(r);
    });
  });
  it("documents the exit statuses of check", async () => {
    const r = await moec(["check", "--help"]);
    expect(r.stdout).toMatch(/0 when there are no errors, 1 when there are, 2 for usage errors/);
    expect(r.stdout).toContain("--json");
  });
});

describe.concurrent("usage errors exit 2 with a pointer to --help", () => {
  const cases: [string, string[], RegExp][] = [
    ["an unknown command", ["frobnicate"], /unknown command `frobnicate`/],
    ["an unknown flag for check", ["check", "--bogus", mixtral], /unknown option `--bogus`/],
    ["an unknown flag for info", ["info", mixtral, "--frob"], /unknown option `--frob`/],
    ["check without files", ["check"], /needs at least one \.moe file/],
    ["info without a file", ["info"], /needs a \.moe file/],
    ["--entry without a value", ["info", S12, "--entry"], /--entry needs a value/],
    ["--set without NAME=VALUE", ["info", mixtral, "--set", "D"], /--set takes NAME=VALUE/],
    ["a flag with a value it does not take", ["check", "--json=yes", mixtral], /takes no value/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await moec(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expectNoCrash(r);
    });
  }
});

describe.concurrent("moec check", () => {
  it("exits 0 on valid files, says so on stderr, prints nothing on stdout", async () => {
    const r = await moec(["check", mixtral, S12, path.join("examples", "agents.moe")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^checked 3 files \(and \d+ imported\): no errors$/m);
  });
  it("exits 1 on errors; each diagnostic starts with FILE:LINE:COL: error[CODE]: message", async () => {
    const file = path.join("tests", "fixtures", "check", "router_two_moe.moe");
    const r = await moec(["check", file]);
    expect(r.code).toBe(1);
    expectNoCrash(r);
    // router_two_moe.moe line 8 `  let b = moe(x, r, F)`: the second use of `r`, column 18.
    const first = r.stderr.split("\n")[0]!;
    expect(first).toBe(`${file}:8:18: error[E0298]: router \`r\` already feeds a \`moe\` call; a router feeds exactly one`);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe("1 error");
  });
  it("reports every file's errors in one run, with paths relative to the working directory", async () => {
    const a = path.join("tests", "fixtures", "check", "pool_size.moe");
    const b = path.join("tests", "fixtures", "check", "missing_return.moe");
    const r = await moec(["check", a, b]);
    expect(r.code).toBe(1);
    const headers = r.stderr.split("\n").filter((l) => HEADER.test(l)).map((l) => HEADER.exec(l)!);
    // pool_size.moe has 6 errors, missing_return.moe 2 (their //~ expectations).
    expect(headers.filter((m) => m[1] === a).length).toBe(6);
    expect(headers.filter((m) => m[1] === b).map((m) => `${m[2]}:${m[3]} ${m[5]}`)).toEqual(["4:1 E0220", "7:3 E0220"]);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe("8 errors");
  });
  it("exits 0 when there are only warnings", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-cli-"));
    const f = path.join(dir, "warn.moe");
    // An expert pool that nothing routes to: a warning (W0002), not an error.
    fs.writeFileSync(f, "layer w(x: [T, D], D = 8) {\n  experts E[2] = ffn(hidden = 4)\n  return x\n}\n");
    const r = await moec(["check", f], dir);
    expect(r.code).toBe(0);
    expect(r.stderr.split("\n")[0]).toMatch(/^warn\.moe:2:11: warning\[W0002\]: /);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  it("a missing file is a clear error, not a stack trace", async () => {
    const r = await moec(["check", "no/such/file.moe"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no\/such\/file\.moe: error\[E0003\]: cannot read file/);
    expectNoCrash(r);
  });
  it("--json prints { files, diagnostics } on stdout with 1-based positions", async () => {
    const file = path.join("tests", "fixtures", "check", "router_two_moe.moe");
    const r = await moec(["check", file, "--json"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const j = JSON.parse(r.stdout) as { files: string[]; diagnostics: Record<string, unknown>[] };
    expect(Object.keys(j).sort()).toEqual(["diagnostics", "files"]);
    expect(j.files).toEqual([file]);
    expect(j.diagnostics).toHaveLength(1);
    const d = j.diagnostics[0]!;
    expect(d).toMatchObject({ file, line: 8, column: 18, endLine: 8, endColumn: 19, severity: "error", code: "E0298" });
    expect(typeof d.message).toBe("string");
    // The secondary label points at the first use, `moe(x, r, E)` on line 7 (columns 11 to 23).
    expect(d.secondary).toEqual([{ file, line: 7, column: 11, endLine: 7, endColumn: 23, message: "first used here" }]);
  });
  it("--json on a valid file: no diagnostics, exit 0", async () => {
    const r = await moec(["check", "--json", mixtral]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ files: [mixtral], diagnostics: [] });
  });
});

describe.concurrent("moec info", () => {
  it("--json has the documented shape and the hand-computed numbers", async () => {
    const r = await moec(["info", mixtral, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { entry: string; params: { total: number; active: number }; flops_per_token: number; weights: { name: string; shape: number[] }[] };
    expect(j).toHaveProperty("entry", "mixtral_moe");
    const c = mixtralCounts(4096, 8, 14336);
    expect(j.params).toMatchObject({ total: c.total, active: c.active });
    expect(j.flops_per_token).toBe(c.flops);
    expect(j.weights).toHaveLength(8 * 3 + 1);
    for (const w of j.weights) {
      expect(Object.keys(w).sort()).toEqual(["name", "shape"]);
      expect(w.shape.every((n) => Number.isInteger(n) && n > 0)).toBe(true);
    }
    expect(j.weights).toContainEqual({ name: "E.7.w_down", shape: [4096, 14336] });
    expect(j.weights).toContainEqual({ name: "r.weight", shape: [8, 4096] });
  });
  it("--set overrides hyper-parameters of the entry", async () => {
    const r = await moec(["info", mixtral, "--set", "D=32", "I=24", "N=4", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { params: { total: number; active: number }; flops_per_token: number; weights: { name: string; shape: number[] }[] };
    const c = mixtralCounts(32, 4, 24);
    expect([j.params.total, j.params.active, j.flops_per_token]).toEqual([c.total, c.active, c.flops]);
    expect(j.weights).toContainEqual({ name: "E.3.w_gate", shape: [24, 32] });
    // The comma form is accepted too.
    const r2 = await moec(["info", mixtral, "--set", "D=32,I=24,N=4", "--json"]);
    expect(JSON.parse(r2.stdout)).toEqual(j);
  });
  it("--set for a name the entry does not declare is ignored with a warning (§8)", async () => {
    const r = await moec(["info", mixtral, "--set", "Q=3", "D=32", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning\[W0010\]: --set Q=3 is ignored: `mixtral_moe` has no hyper-parameter `Q`/);
    const j = JSON.parse(r.stdout) as { params: { total: number } };
    expect(j.params.total).toBe(mixtralCounts(32, 8, 14336).total);
  });
  it("an error that --set causes is reported, with the values, and exits 1", async () => {
    // topk(2) over N = 1 expert (§5: k > E).
    const r = await moec(["info", mixtral, "--set", "N=1"]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toMatch(HEADER);
    expect(r.stderr).toMatch(/error\[E0299\]: with --set N=1: topk\(2\) selects more experts than the pool has \(1\)/);
    expectNoCrash(r);
  });
  it("--entry is required when the file has several entry points", async () => {
    const r = await moec(["info", S12]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[E0401\]: section12\.moe has \d+ possible entry points; choose one with --entry NAME/);
    expect(r.stderr).toMatch(/help: entry points: .*deepseek_moe/);
    expectNoCrash(r);
  });
  it("an unknown --entry is an error that lists the entry points", async () => {
    const r = await moec(["info", S12, "--entry", "mixtral"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[E0400\]: no layer, model or graph named `mixtral` in section12\.moe/);
    expect(r.stderr).toMatch(/help: .*mixtral_moe/);
    expectNoCrash(r);
  });
  it("--entry selects the entry; a graph's weights carry agent prefixes", async () => {
    const r = await moec(["info", S12, "--entry", "ensemble", "--set", "D=16", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { entry: string; weights: { name: string; shape: number[] }[] };
    expect(j.entry).toBe("ensemble");
    expect(j.weights).toContainEqual({ name: "0.E.0.w_gate", shape: [1024, 16] });
    expect(j.weights).toContainEqual({ name: "1.E.7.w_up", shape: [1024, 16] });
  });
  it("a file with errors: the diagnostics, exit 1, no numbers", async () => {
    const r = await moec(["info", path.join("tests", "fixtures", "check", "missing_return.moe"), "--entry", "no_return"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toMatch(/^tests\/fixtures\/check\/missing_return\.moe:4:1: error\[E0220\]: /);
  });
  it("a missing file is a clear error", async () => {
    const r = await moec(["info", "nowhere.moe"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nowhere\.moe: error\[E0003\]: cannot read file/);
    expectNoCrash(r);
  });
  it("the text report shows the same totals", async () => {
    const r = await moec(["info", mixtral]);
    expect(r.code).toBe(0);
    const c = mixtralCounts(4096, 8, 14336);
    expect(r.stdout).toContain(c.total.toLocaleString("en-US"));
    expect(r.stdout).toContain(c.active.toLocaleString("en-US"));
  });
});
