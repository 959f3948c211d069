// `moec ir FILE`: prints the entry's verified IR (the reviewed goldens of tests/fixtures/ir are the
// expected text), `--set`/`--entry`/`--json`/`--plugin`, diagnostics exactly like `moec check`
// (exit 1), usage errors (exit 2). Runs the CLI in-process; tests/cli/cli.test.ts spawns every
// command's --help through bin/moec.js.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";
import { parseIr } from "../../../compiler/ir/parse.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";

const at = (...p: string[]) => path.join(REPO_ROOT, ...p);
const golden = (name: string) => fs.readFileSync(at("tests/fixtures/ir", `${name}.ir`), "utf8");

describe("moec ir", () => {
  it("prints the text form: the reviewed golden, on stdout, exit 0", async () => {
    for (const name of ["mixtral", "deepseek_v3", "mixed_pool"]) {
      const r = await moec(["ir", `tests/fixtures/ir/${name}.moe`], REPO_ROOT);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe(golden(name));
      expect(r.err).toBe("");
    }
  });
  it("--set binds hyper-parameters: Mixtral at D=8, N=2, I=4 has r.weight [N, D] and a 2-expert pool", async () => {
    const r = await moec(["ir", "examples/mixtral.moe", "--set", "D=8", "N=2", "I=4"], REPO_ROOT);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("\nweight r.weight: [2, 8] param\n");
    expect(r.out).toContain("\n  pool ffn count=2 dim=8 hidden=4 act=swiglu bias=false split=1 shared=false\n");
    expect(r.out).toContain('\n%0: f32[T, 8] "x" = input x\n');
  });
  it("--entry picks a graph: parallel |> mean over two agents", async () => {
    const r = await moec(["ir", "examples/agents.moe", "--entry", "ensemble", "--set", "D=8"], REPO_ROOT);
    expect(r.code, r.err).toBe(0);
    expect(r.out.startsWith("ir ensemble\n")).toBe(true);
    expect(r.out).toContain('\n%4: f32[T, 8] "mean" = scalar mul %3, 0.5\noutput y = %4\n');
  });
  it("--json prints the IrProgram itself", async () => {
    const r = await moec(["ir", "tests/fixtures/ir/split_pool.moe", "--json"], REPO_ROOT);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual(parseIr(golden("split_pool")));
  });
  it("--plugin loads router stages", async () => {
    const r = await moec(["ir", "examples/plugins/hash_layer.moe", "--plugin", at("plugins/hash-routing/index.js")], REPO_ROOT);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("\n    score hash(seed=7)\n    select topk(k=1)\n");
  });
});

describe("moec ir on bad input", () => {
  const bad = "tests/fixtures/check/router_two_moe.moe";
  it("prints located diagnostics exactly like moec check and exits 1", async () => {
    const ir = await moec(["ir", bad], REPO_ROOT);
    const check = await moec(["check", bad], REPO_ROOT);
    expect(ir.code).toBe(1);
    expect(check.code).toBe(1);
    expect(ir.out).toBe("");
    expect(ir.err.split("\n")[0]).toBe(`${bad}:8:18: error[E0298]: router \`r\` already feeds a \`moe\` call; a router feeds exactly one`);
    expect(ir.err).toBe(check.err);
  });
  it("with --json, the diagnostics as JSON on stdout", async () => {
    const r = await moec(["ir", bad, "--json"], REPO_ROOT);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { diagnostics: { code: string; line: number; column: number }[] };
    expect(j.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(["E0298 8:18"]);
  });
  it("an entry that needs choosing, and a construct the runtime cannot run yet, exit 1", async () => {
    const several = await moec(["ir", "examples/agents.moe"], REPO_ROOT);
    expect(several.code).toBe(1);
    expect(several.err).toContain("error[E0401]: agents.moe has 2 possible entry points; choose one with --entry NAME");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-ir-"));
    try {
      const file = path.join(dir, "dense_lowrank.moe");
      fs.writeFileSync(file, "layer l(x: [T, D], D = 8) {\n  let m = lowrank(x, rank = 2)\n  return m\n}\n");
      const dense = await moec(["ir", file], REPO_ROOT);
      expect(dense.code).toBe(1);
      expect(dense.out).toBe("");
      expect(dense.err).toContain("dense_lowrank.moe: cannot lower to IR yet: running `lowrank` is not supported yet");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("usage errors exit 2", async () => {
    for (const [args, message] of [
      [["ir"], /`moec ir` needs a \.moe file/],
      [["ir", "examples/mixtral.moe", "--frob"], /unknown option `--frob` for `moec ir`/],
      [["ir", "examples/mixtral.moe", "--set", "D"], /--set takes NAME=VALUE, found `D`/],
      [["ir", "examples/mixtral.moe", "examples/qwen_moe.moe"], /unexpected argument `examples\/qwen_moe\.moe`/],
    ] as [string[], RegExp][]) {
      const r = await moec(args, REPO_ROOT);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toContain("Run `moec ir --help` for usage.");
    }
  });
  it("--help describes the command", async () => {
    const r = await moec(["ir", "--help"], REPO_ROOT);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Usage: moec ir FILE|DIR|CONFIG [--entry NAME] [--set NAME=VALUE ...] [--json]");
    expect((await moec(["--help"], REPO_ROOT)).out).toMatch(/^ {2}ir +print the IR of a layer or graph/m);
  });
});
