// Output files as one unit (cli/output-files.ts): paths refused by name before any work, staged
// files renamed together, and a failure writing any one leaves none of them (nor a temporary file);
// `moec run` refuses a bad --output/--stats/--state-out before compiling anything.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OutputWriteError, outputPathProblem, StagedOutputs } from "../../cli/output-files.js";
import { moec } from "../helpers/cli.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-outputs-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("outputPathProblem", () => {
  it("accepts a new file in an existing directory and an existing file", () => {
    expect(outputPathProblem(path.join(dir, "y.safetensors"), "--output", dir)).toBeUndefined();
    fs.writeFileSync(path.join(dir, "old.json"), "{}");
    expect(outputPathProblem(path.join(dir, "old.json"), "--stats", dir)).toBeUndefined();
  });
  it("names the flag, the path and the problem: a missing directory, a file as directory, a directory as file", () => {
    expect(outputPathProblem(path.join(dir, "no", "y.safetensors"), "--output", dir)).toBe("--output no/y.safetensors: the directory no does not exist");
    fs.writeFileSync(path.join(dir, "f"), "");
    expect(outputPathProblem(path.join(dir, "f", "s.json"), "--stats", dir)).toBe("--stats f/s.json: f is not a directory");
    fs.mkdirSync(path.join(dir, "d"));
    expect(outputPathProblem(path.join(dir, "d"), "-o", dir)).toBe("-o d: is a directory; give the file to write");
  });
});

describe("StagedOutputs", () => {
  it("writes nothing at the targets until commit, then all of them", () => {
    const staged = new StagedOutputs(dir);
    staged.write(path.join(dir, "a.txt"), (t) => fs.writeFileSync(t, "A"));
    staged.write(path.join(dir, "b.txt"), (t) => fs.writeFileSync(t, "B"));
    expect(fs.existsSync(path.join(dir, "a.txt"))).toBe(false);
    staged.commit();
    expect(fs.readFileSync(path.join(dir, "a.txt"), "utf8")).toBe("A");
    expect(fs.readFileSync(path.join(dir, "b.txt"), "utf8")).toBe("B");
    expect(fs.readdirSync(dir).sort()).toEqual(["a.txt", "b.txt"]);
  });
  it("a failing second output: a named OutputWriteError, and after discard neither output nor a temporary file, an older file untouched", () => {
    fs.writeFileSync(path.join(dir, "a.txt"), "old");
    const staged = new StagedOutputs(dir);
    staged.write(path.join(dir, "a.txt"), (t) => fs.writeFileSync(t, "new"));
    let caught: unknown;
    try {
      staged.write(path.join(dir, "b.txt"), (t) => {
        fs.writeFileSync(t, "partial");
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(OutputWriteError);
    expect((caught as Error).message).toBe("cannot write b.txt: no space left on the device");
    staged.discard();
    expect(fs.readdirSync(dir)).toEqual(["a.txt"]);
    expect(fs.readFileSync(path.join(dir, "a.txt"), "utf8")).toBe("old");
  });
});

describe("moec run's output paths, checked before any work", () => {
  // A program that does not even parse: the output's problem is reported first, so nothing is compiled.
  const broken = () => {
    fs.writeFileSync(path.join(dir, "broken.moe"), "experts E[8] = ffn(hidden = \n");
    return path.join(dir, "broken.moe");
  };
  it.each([
    [["--output", "no/y.safetensors"], "moec run: --output no/y.safetensors: the directory no does not exist"],
    [["-o", "y.safetensors", "--stats", "no/s.json"], "moec run: --stats no/s.json: the directory no does not exist"],
    [["--state-out", "."], "moec run: --state-out .: is a directory; give the file to write"],
  ])("%j is refused with exit 1, naming the flag and path", async (flags, message) => {
    const r = await moec(["run", broken(), "--random-weights", "--tokens", "2", ...flags], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(message + "\n");
    expect(fs.readdirSync(dir)).toEqual(["broken.moe"]);
  });
  it("--save-weights without --random-weights is a usage error (exit 2); its path is checked like the others", async () => {
    const r = await moec(["run", broken(), "--weights", "w.safetensors", "--tokens", "2", "--save-weights", "v.safetensors"], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^moec run: --save-weights writes drawn weights; use it with --random-weights\n/);
    const bad = await moec(["run", broken(), "--random-weights", "--tokens", "2", "--save-input", "no/x.safetensors"], dir);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe("moec run: --save-input no/x.safetensors: the directory no does not exist\n");
  });
  it("two outputs naming one file is a usage error (exit 2)", async () => {
    const r = await moec(["run", broken(), "--random-weights", "--tokens", "2", "-o", "y.safetensors", "--stats", "./y.safetensors"], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^moec run: --output and --stats name the same file, y\.safetensors\n/);
  });
});

describe("moec draw's -o, checked before any work", () => {
  it("a missing directory is named before the program is compiled (exit 1, no file)", async () => {
    fs.writeFileSync(path.join(dir, "broken.moe"), "experts E[8] = ffn(hidden = \n");
    const r = await moec(["draw", "broken.moe", "-o", "no/d.svg"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe("moec draw: -o no/d.svg: the directory no does not exist\n");
    expect(fs.readdirSync(dir)).toEqual(["broken.moe"]);
  });
});

describe("upcycle and quantize check their output before reading anything", () => {
  it.each([
    [["upcycle", "dense.safetensors", "moe.moe", "--output", "no/w.safetensors"], "moec upcycle: --output no/w.safetensors: the directory no does not exist\n"],
    [["quantize", "ckpt", "--to", "q8_0", "-o", "no/m.gguf"], "moec quantize: -o no/m.gguf: the directory no does not exist\n"],
  ])("%j: exit 1 naming the path, though its inputs do not exist either", async (args, message) => {
    const r = await moec(args, dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(message);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("moec export hf/torch check -o before any work", () => {
  it.each(["hf", "torch"])("export %s: a missing parent, a file, a non-empty directory without --force: exit 1, named, though the program does not exist", async (format) => {
    const run = (o: string, ...more: string[]) => moec(["export", format, "missing.moe", "--random-weights", "-o", o, ...more], dir);
    const missing = await run("no/out");
    expect([missing.code, missing.err]).toEqual([1, "moec export: -o no/out: the directory no does not exist\n"]);
    fs.writeFileSync(path.join(dir, "file"), "x");
    const file = await run("file");
    expect([file.code, file.err]).toEqual([1, "moec export: -o file: exists and is not a directory\n"]);
    fs.mkdirSync(path.join(dir, "full"));
    fs.writeFileSync(path.join(dir, "full", "keep.txt"), "x");
    const full = await run("full");
    expect([full.code, full.err]).toEqual([1, "moec export: -o full: exists and is not empty; give --force to replace it\n"]);
    // With --force the check passes and the next problem is the missing program.
    const forced = await run("full", "--force");
    expect(forced.code).toBe(1);
    expect(forced.err).not.toMatch(/-o full/);
    expect(fs.readFileSync(path.join(dir, "full", "keep.txt"), "utf8")).toBe("x");
  });
});
