// The language server's analysis and features on hostile input (issue 17): imports of a FIFO,
// a device and /proc, nesting past the limits, huge sizes and control characters. Each must give
// diagnostics within a time bound and no feature may throw at any position.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../../compiler/lsp/analysis.js";
import { fsHost } from "../../../compiler/driver.js";
import type { SourceHost } from "../../../compiler/semantic/module-loader.js";
import { completion } from "../../../compiler/lsp/features/completion.js";
import { hover } from "../../../compiler/lsp/features/hover.js";
import { definition } from "../../../compiler/lsp/features/navigation.js";
import { signatureHelp } from "../../../compiler/lsp/features/signature-help.js";
import { lspDiagnostics } from "../../../compiler/lsp/features/diagnostics.js";
import { semanticTokens } from "../../../compiler/lsp/features/semantic-tokens.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-lsp-hostile-"));
  execFileSync("mkfifo", [path.join(dir, "pipe.moe")]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const layer = (body: string) => `layer l(x: [T, D], D = 16) {\n${body}\n}\n`;
const CASES: [string, string, string][] = [
  ["a FIFO import", 'import { l } from "./pipe.moe"\n', "E0203"],
  ["/dev/zero", 'import { l } from "/dev/zero"\n', "E0205"],
  ["/proc/self/environ", 'import { l } from "/proc/self/environ"\n', "E0205"],
  ["290 parentheses", layer("  return " + "(".repeat(290) + "x" + ")".repeat(290)), "E0105"],
  ["a 5,000-term sum", layer("  return " + Array(5000).fill("x").join(" + ")), "E0106"],
  ["a 10^9-expert pool", layer("  experts E[1000000000] = ffn(hidden = 8)\n  router r = linear |> topk(2)\n  return moe(x, r, E)"), "E0501"],
  ["ESC and NUL", layer("  return x\x1b[2J\x00"), "E0001"],
];

describe("language server on hostile input", () => {
  it.each(CASES)("%s: its diagnostic in bounded time, no feature throws", (_name, text, code) => {
    const file = path.join(dir, `doc-${code}.moe`);
    const host: SourceHost = { readFile: (f) => (f === file ? text : fsHost.readFile(f)), problem: (f) => fsHost.problem?.(f) };
    const t0 = Date.now();
    const a = analyze(file, host);
    expect(lspDiagnostics(a, file).map((d) => d.code)).toContain(code);
    // eslint-disable-next-line no-control-regex
    for (const d of lspDiagnostics(a, file)) expect(d.message).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    const lines = text.split("\n");
    // Every position of short lines; a sample of long ones (the features are per position).
    lines.forEach((l, line) => {
      const step = Math.max(1, Math.floor(l.length / 200));
      for (let character = 0; character <= l.length; character += step) {
        const pos = { line, character };
        completion(a, pos);
        hover(a, pos);
        definition(a, pos);
        signatureHelp(a, pos);
      }
    });
    semanticTokens(a);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});
