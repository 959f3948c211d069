// Imports and command-line sources read only regular `.moe` files of bounded size in UTF-8:
// devices, FIFOs, directories, other extensions, oversized and UTF-16 files are refused by name,
// within a bounded time (a FIFO must not block, /dev/zero must not be read to exhaustion).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFiles, fsHost } from "../../../compiler/driver.js";
import { MAX_SOURCE_BYTES, encodingProblem, readSourceFile } from "../../../compiler/semantic/source-file.js";

const LAYER = "layer l(x: [T, D], D = 16) {\n  return x\n}\n";
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-source-"));
  fs.writeFileSync(path.join(dir, "lib.moe"), LAYER);
  fs.writeFileSync(path.join(dir, "lib.txt"), LAYER);
  fs.mkdirSync(path.join(dir, "folder.moe"));
  fs.writeFileSync(path.join(dir, "big.moe"), Buffer.alloc(MAX_SOURCE_BYTES + 10, 0x20));
  fs.writeFileSync(path.join(dir, "utf16.moe"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(LAYER, "utf16le")]));
  fs.writeFileSync(path.join(dir, "utf16-nobom.moe"), Buffer.from(LAYER, "utf16le"));
  execFileSync("mkfifo", [path.join(dir, "pipe.moe")]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Checks a root that imports `from`, returning the diagnostics as `CODE message`. */
function importing(from: string): string[] {
  const root = path.join(dir, `root-${Math.random().toString(36).slice(2)}.moe`);
  fs.writeFileSync(root, `import { l } from ${JSON.stringify(from)}\n`);
  const c = checkFiles([root]);
  return c.diagnostics.map((d) => `${d.code} ${d.message}`);
}

describe("readSourceFile", () => {
  it("reads a regular .moe file", () => {
    expect(readSourceFile(path.join(dir, "lib.moe"))).toEqual({ text: LAYER });
  });
  it.each([
    ["lib.txt", "not a `.moe` file"],
    ["missing.moe", "no such file"],
    ["folder.moe", "a directory, not a regular file"],
    ["pipe.moe", "a FIFO (named pipe), not a regular file"],
    ["big.moe", `${MAX_SOURCE_BYTES + 10} bytes; a .moe source is at most ${MAX_SOURCE_BYTES} bytes`],
    ["utf16.moe", "UTF-16 encoded"],
    ["utf16-nobom.moe", "not UTF-8 text"],
  ])("refuses %s: %s", (name, why) => {
    const r = readSourceFile(path.join(dir, name));
    expect("problem" in r && r.problem).toContain(why);
  });
  it("refuses a character device without reading it (bounded time)", () => {
    const t0 = Date.now();
    // /dev/zero is not named .moe: the extension alone refuses it; a device named .moe is refused by stat.
    expect(readSourceFile("/dev/zero")).toEqual({ problem: expect.stringContaining("not a `.moe` file") });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
  it("counts NUL bytes: a few are left to the lexer, mostly-NUL content is an encoding error", () => {
    expect(encodingProblem(Buffer.from("layer\0 l"))).toBeUndefined();
    expect(encodingProblem(Buffer.from("l\0a\0y\0"))).toContain("3 of its 6 bytes are NUL");
    expect(encodingProblem(Buffer.from([0xfe, 0xff, 0, 0x6c]))).toContain("UTF-16");
  });
});

describe("imports", () => {
  it("import a regular .moe file", () => {
    expect(importing("./lib.moe")).toEqual([]);
  });
  it.each([
    ["/dev/zero", "E0205 imports read only `.moe` files, not `/dev/zero`"],
    ["/dev/urandom", "E0205 imports read only `.moe` files, not `/dev/urandom`"],
    ["/proc/self/environ", "E0205 imports read only `.moe` files, not `/proc/self/environ`"],
    ["./lib.txt", "E0205 imports read only `.moe` files, not `./lib.txt`"],
  ])("refuses %s by extension", (from, expected) => {
    expect(importing(from)).toEqual([expected]);
  });
  it.each([
    ["./pipe.moe", "it is a FIFO (named pipe), not a regular file"],
    ["./folder.moe", "it is a directory, not a regular file"],
    ["./utf16.moe", "it is UTF-16 encoded"],
    ["./missing.moe", "no such file"],
  ])("refuses %s as E0203 naming why", (from, why) => {
    const ds = importing(from);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatch(/^E0203 cannot read `/);
    expect(ds[0]).toContain(why);
  });
  it("a UTF-16 root gives one encoding error, not one E0001 per character", () => {
    const c = checkFiles([path.join(dir, "utf16.moe")]);
    expect(c.diagnostics.map((d) => d.code)).toEqual(["E0003"]);
    expect(c.diagnostics[0]!.message).toContain("UTF-16");
    expect(fsHost.problem?.(path.join(dir, "utf16.moe"))).toContain("UTF-16");
  });
});
