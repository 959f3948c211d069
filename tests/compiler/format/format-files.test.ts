// formatFiles: what `moec fmt` calls for writing, `--check` and `--stdout`.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatFiles } from "../../../compiler/format/format-files.js";

const messy = "layer a(x:[T,D]){return x}\n";
const clean = "layer a(x: [T, D]) {\n  return x\n}\n";

describe("formatFiles", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "moec-fmt-"));
    mkdirSync(join(dir, "sub"));
    mkdirSync(join(dir, "node_modules"));
    writeFileSync(join(dir, "messy.moe"), messy);
    writeFileSync(join(dir, "sub", "clean.moe"), clean);
    writeFileSync(join(dir, "node_modules", "skipped.moe"), messy);
    writeFileSync(join(dir, "notes.txt"), messy);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("rewrites unformatted files in place and expands directories to their .moe files", async () => {
    const { results, exitCode } = await formatFiles({ files: [dir] });
    expect(exitCode).toBe(0);
    expect(results.map((r) => [r.file.slice(dir.length + 1), r.status])).toEqual([
      ["messy.moe", "formatted"],
      ["sub/clean.moe", "unchanged"],
    ]);
    expect(readFileSync(join(dir, "messy.moe"), "utf8")).toBe(clean);
    expect(readFileSync(join(dir, "node_modules", "skipped.moe"), "utf8")).toBe(messy);
  });

  it("--check writes nothing and exits 1 when a file would change", async () => {
    const { results, exitCode } = await formatFiles({ files: [join(dir, "messy.moe"), join(dir, "sub", "clean.moe")], check: true });
    expect(exitCode).toBe(1);
    expect(results.map((r) => r.status)).toEqual(["would-change", "unchanged"]);
    expect(readFileSync(join(dir, "messy.moe"), "utf8")).toBe(messy);
  });

  it("--stdout prints the formatted text and leaves the file alone", async () => {
    let printed = "";
    const { exitCode } = await formatFiles({ files: [join(dir, "messy.moe")], stdout: true, out: { write: (t: string) => (printed += t) } });
    expect(exitCode).toBe(0);
    expect(printed).toBe(clean);
    expect(readFileSync(join(dir, "messy.moe"), "utf8")).toBe(messy);
  });

  it("reports unparsable and missing files with exit code 2, formatting the others", async () => {
    writeFileSync(join(dir, "broken.moe"), "layer a( {\n");
    const { results, exitCode } = await formatFiles({ files: [join(dir, "broken.moe"), join(dir, "missing.moe"), join(dir, "messy.moe")] });
    expect(exitCode).toBe(2);
    expect(results[0]!.status).toBe("error");
    expect(results[0]!.error).toMatch(/broken\.moe: .* \(1:\d+\)$/);
    expect(results[1]!.status).toBe("error");
    expect(results[1]!.error).toMatch(/missing\.moe: no such file/);
    expect(results[2]!.status).toBe("formatted");
  });

  it("honours a .prettierrc next to the files", async () => {
    writeFileSync(join(dir, ".prettierrc"), JSON.stringify({ tabWidth: 4 }));
    await formatFiles({ files: [join(dir, "messy.moe")] });
    expect(readFileSync(join(dir, "messy.moe"), "utf8")).toBe("layer a(x: [T, D]) {\n    return x\n}\n");
  });
});
