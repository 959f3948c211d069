// The compiler's own POSIX source paths against Node's path.posix, an independent implementation,
// over hand-picked and generated paths (dot segments, repeated and trailing slashes).
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { baseName, dirName, isAbsolutePath, relativePath, resolvePath, workingDirectory } from "../../../compiler/semantic/source-paths.js";
import { Prng } from "../../helpers/frontend/prng.js";

const CASES = ["/a/b/c.moe", "/a//b/./c.moe", "/a/b/../c.moe", "/", "/x/", "a/b.moe", "./a.moe", "../a.moe", "/a/b/../../..", "/a.moe/", "b", ""];

function randomPath(r: Prng): string {
  const segs = ["a", "b", "..", ".", "", "c.moe", "d e", "ß"];
  const n = 1 + r.int(6);
  return (r.int(2) ? "/" : "") + Array.from({ length: n }, () => segs[r.int(segs.length)]).join("/");
}

describe("source paths", () => {
  const r = new Prng(7);
  const all = [...CASES, ...Array.from({ length: 400 }, () => randomPath(r))];

  it("resolve like path.posix.resolve (from `/` and from the working directory)", () => {
    for (const p of all) {
      expect(resolvePath("/", p), p).toBe(path.posix.resolve("/", p));
      expect(resolvePath("/base/dir", p), p).toBe(path.posix.resolve("/base/dir", p));
      expect(resolvePath(p), p).toBe(path.posix.resolve(workingDirectory(), p));
    }
  });

  it("dirName, baseName and isAbsolutePath agree with path.posix on normalised paths", () => {
    for (const p of all.filter(Boolean).map((q) => path.posix.resolve("/", q))) {
      expect(dirName(p), p).toBe(path.posix.dirname(p));
      expect(baseName(p), p).toBe(path.posix.basename(p));
      expect(isAbsolutePath(p)).toBe(true);
    }
    expect(isAbsolutePath("a/b")).toBe(false);
    expect(dirName("a.moe")).toBe(".");
  });

  it("relativePath like path.posix.relative", () => {
    for (let i = 0; i + 1 < all.length; i += 2) {
      const a = path.posix.resolve("/", all[i]!), b = path.posix.resolve("/", all[i + 1]!);
      expect(relativePath(a, b), `${a} → ${b}`).toBe(path.posix.relative(a, b));
    }
  });
});
