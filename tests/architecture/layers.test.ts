// The import rule of docs/architecture.md ("Architecture invariant: layers"), enforced:
// scripts/check-layers.mjs reads every import of stdlib/, compiler/, runtime/ and cli/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module script without declarations
import { importsOf, layerViolations } from "../../scripts/check-layers.mjs";

interface Violation { file: string; line: number; to: string; rule: string }

const scratch = mkdtempSync(join(tmpdir(), "moec-layers-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(scratch, "t-"));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

describe("layering", () => {
  it("the repository keeps it", () => {
    const v = layerViolations() as Violation[];
    expect(v.map((x) => `${x.file}:${x.line} → ${x.to}: ${x.rule}`)).toEqual([]);
  });

  it("each forbidden arrow is reported with its file, line and rule", () => {
    const root = tree({
      "compiler/driver.ts": 'import { x } from "./ir/ir.js";\n// import { y } from "../runtime/index.js";\nimport { createRuntime } from "../runtime/index.js";\n',
      "compiler/ir/print.ts": 'import type { Span } from "../syntax/ast.js";\n',
      "runtime/executor/a.ts": 'import type { IrProgram } from "../../compiler/ir/ir.js";\nimport { IrBuilder } from "../../compiler/ir/ir-builder.js";\nconst d = await import("../../compiler/driver.js");\n',
      "stdlib/registry.ts": 'export * from "../compiler/syntax/ast.js";\n',
      "compiler/lsp/server.ts": 'import { VERSION } from "../../cli/version.js";\nimport { create } from "webgpu";\n',
      "cli/main.ts": 'import "../compiler/driver.js";\nimport "../runtime/index.js";\nimport { create } from "webgpu";\n',
    });
    const v = (layerViolations(root) as Violation[]).map((x) => `${x.file}:${x.line} ${x.to}`).sort();
    expect(v).toEqual([
      "compiler/driver.ts:3 runtime/index.ts",
      "compiler/ir/print.ts:1 compiler/syntax/ast.ts",
      "compiler/lsp/server.ts:1 cli/version.ts",
      "compiler/lsp/server.ts:2 webgpu",
      "runtime/executor/a.ts:2 compiler/ir/ir-builder.ts",
      "runtime/executor/a.ts:3 compiler/driver.ts",
      "stdlib/registry.ts:1 compiler/syntax/ast.ts",
    ]);
  });

  it("reads static, re-export, side-effect, dynamic and type-only imports, not comments", () => {
    const text = [
      'import a from "./a.js";',
      'import type { B } from "./b.js";',
      'export { c } from "./c.js";',
      'import "./d.js";',
      'const e = await import("./e.js");',
      '// import f from "./f.js";',
      '/* import g from "./g.js"; */',
      "/*",
      'import h from "./h.js";',
      "*/",
      'const url = "https://example.com"; import i from "./i.js";',
    ].join("\n");
    expect((importsOf(text) as { spec: string }[]).map((x) => x.spec)).toEqual(["./a.js", "./b.js", "./c.js", "./d.js", "./e.js", "./i.js"]);
  });
});
