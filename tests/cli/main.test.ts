// The CLI's front door: a mistyped command gets "did you mean", `--help` documents the exit
// statuses that occur (0, 1, 2, 70), and hostile inputs of issue 17 end in a named error (exit 1)
// within a time bound, not an internal error (70) or a crash.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { moec } from "../helpers/cli.js";

const REPO = path.resolve(import.meta.dirname, "../..");
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-main-"));
  fs.writeFileSync(path.join(dir, "zero.moe"), 'import { l } from "/dev/zero"\n');
  fs.writeFileSync(path.join(dir, "environ.moe"), 'import { l } from "/proc/self/environ"\n');
  execFileSync("mkfifo", [path.join(dir, "pipe.moe")]);
  fs.writeFileSync(path.join(dir, "fifo-import.moe"), 'import { l } from "./pipe.moe"\n');
  fs.writeFileSync(path.join(dir, "esc.moe"), "layer l(x: [T, D], D = 16) {\n  return x\x1b]0;owned\x07\n}\n");
  fs.mkdirSync(path.join(dir, "src/sub"), { recursive: true });
  fs.writeFileSync(path.join(dir, "src/a.moe"), "layer a(x: [T, D], D = 16) {\n  return x\n}\n");
  fs.writeFileSync(path.join(dir, "src/sub/b.moe"), "layer b(x: [T, D], D = 16) {\n  return y\n}\n");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("moec main", () => {
  it("a mistyped command: exit 2 with a suggestion", async () => {
    const r = await moec(["chekc", "x.moe"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command `chekc` (did you mean `check`?)");
  });

  it("--help documents exits 0, 1, 2 and 70", async () => {
    const r = await moec(["--help"]);
    expect(r.out).toMatch(/Exit status: 0 ok, 1 errors in the input .*2 usage errors,\n70 a bug in moec/);
  });

  it.each([
    ["zero.moe", "E0205"],
    ["environ.moe", "E0205"],
    ["fifo-import.moe", "E0203"],
  ])("check %s: exit 1 with %s, quickly, printing no environment", async (file, code) => {
    const t0 = Date.now();
    const r = await moec(["check", path.join(dir, file)], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error[${code}]`);
    expect(r.err).not.toContain("PATH=");
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("check and fmt of a FIFO given directly: exit 1 naming it, no hang", async () => {
    expect((await moec(["check", "pipe.moe"], dir)).err).toContain("it is a FIFO (named pipe), not a regular file");
    const f = await moec(["fmt", "--check", "pipe.moe"], dir);
    expect(f.code).toBe(1);
    expect(f.err).toContain("cannot read `pipe.moe`: it is a FIFO (named pipe), not a regular file");
  });

  it("ESC and BEL from a source are escaped in the code frame", async () => {
    const r = await moec(["check", "esc.moe"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain("return x\\x1b]0;owned\\x07");
    // eslint-disable-next-line no-control-regex
    expect(r.err).not.toMatch(/[\x00-\x08\x0b-\x1f]/);
  });

  it("check DIR checks every .moe file below it, as fmt DIR formats them", async () => {
    const r = await moec(["check", "src"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/src\/sub\/b\.moe:2:10: error\[E0\d+\]/);
    expect((await moec(["check", path.join(REPO, "examples/granularity")], dir)).err).toBe("checked 2 files: no errors\n");
  });

  it("run --tokens 1e9: a usage error naming the limit before any weight is drawn", async () => {
    const r = await moec(["run", path.join(REPO, "examples/mixtral.moe"), "--random-weights", "--tokens", "1e9", "--set", "D=64", "I=96"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--tokens takes at most 1,048,576, found `1e9`");
  });

  it("info --weights of peer.moe (65,536 atoms) lists every atom's tensors without overflowing", async () => {
    const r = await moec(["info", path.join(REPO, "examples/granularity/peer.moe"), "--weights"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}A\.65535\.u +\[1024\]$/m);
    expect(r.out).toMatch(/^ {2}A\.65535\.v +\[1024\]$/m);
  });
});
