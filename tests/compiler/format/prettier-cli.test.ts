// The workspace package: `npx prettier --plugin=prettier-plugin-moe FILE.moe`, run from the
// repository root, must print what formatMoe prints. It loads the compiled plugin from dist/.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatMoe } from "../../../compiler/format/format-moe.js";
import { repoRoot } from "./format-helpers.js";

/** `npx prettier --plugin=prettier-plugin-moe …` from the repository root (`viaNpx: false` runs Prettier's bin directly: faster, same resolution). */
function prettier(args: string[], viaNpx = true): { status: number | null; stdout: string; stderr: string } {
  const [command, pre] = viaNpx ? ["npx", ["--no-install", "prettier"]] : [process.execPath, [join(repoRoot, "node_modules/prettier/bin/prettier.cjs")]];
  const r = spawnSync(command, [...pre, "--plugin=prettier-plugin-moe", ...args], { cwd: repoRoot, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("prettier --plugin=prettier-plugin-moe", () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(join(repoRoot, "dist/compiler/format/prettier-plugin.js"))) {
      throw new Error("dist/compiler/format/prettier-plugin.js is missing: run `npx tsc -b` first (the package re-exports the compiled plugin)");
    }
    dir = mkdtempSync(join(tmpdir(), "moec-prettier-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("formats a .moe file exactly as formatMoe does", async () => {
    const file = join(dir, "section12.moe");
    copyFileSync(join(repoRoot, "tests/fixtures/contract/section12.moe"), file);
    const { status, stdout, stderr } = prettier([file]);
    expect(stderr.replace(/^npm warn .*\n/gm, "")).toBe("");
    expect(status).toBe(0);
    expect(stdout).toBe(await formatMoe(readFileSync(file, "utf8")));
  });

  it("reports a syntax error with its position and exits 2", () => {
    const file = join(dir, "broken.moe");
    writeFileSync(file, "layer a(x: [T, D]) {\n  return x +\n}\n");
    const { status, stderr } = prettier([file], false);
    expect(status).toBe(2);
    expect(stderr).toContain("broken.moe: SyntaxError: expected an expression, found `}`");
    expect(stderr).toMatch(/\(3:1\)/);
  });
});
