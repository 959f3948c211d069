// The README's TypeScript example runs as written (docs that match the code), and its two
// commands are the ones CI runs; the tour's decoding-graph line runs as written.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { itGpu } from "../helpers/gpu-context.js";
import { moec } from "../helpers/cli.js";

const repo = path.resolve(__dirname, "../..");
const readme = fs.readFileSync(path.join(repo, "README.md"), "utf8");

describe("README", () => {
  itGpu("runs its TypeScript example unchanged", () => {
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    // Inside the repository so that `import "moec"` resolves to this package (self-reference).
    const dir = fs.mkdtempSync(path.join(repo, "tests", "e2e", ".readme-"));
    const file = path.join(dir, "example.mts");
    fs.writeFileSync(file, `${code}\nconsole.log(JSON.stringify({ ok: c.ok, length: y?.length, finite: [...(y ?? [])].every(Number.isFinite) }));\n`);
    try {
      const r = spawnSync(process.execPath, [path.join(repo, "node_modules/tsx/dist/cli.mjs"), file], { cwd: repo, encoding: "utf8", timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const last = r.stdout.trim().split("\n").pop()!;
      expect(JSON.parse(last)).toEqual({ ok: true, length: 8 * 64, finite: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives exactly the two commands, and CI runs the test command", () => {
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
    expect(blocks[0]).toMatch(/^bash scripts\/setup\.sh && npx moec run examples\/\S+\.moe/);
    expect(blocks[1]).toBe("npm test");
    expect(fs.readFileSync(path.join(repo, ".ci/run"), "utf8")).toMatch(/^npm test$/m);
  });

  itGpu("its decoding-graph tour line runs as written", async () => {
    const line = /^npx moec (generate examples\/topologies\/\S+\.moe [^#\n]*?)\s+#/m.exec(readme)?.[1];
    expect(line).toBeDefined();
    const r = await moec(line!.split(/\s+/), repo);
    expect(r.code, r.err).toBe(0);
    // --json: the continuation (at most 8 tokens of the 64-id vocabulary) and the escalated steps.
    const j = JSON.parse(r.out);
    expect(j.tokens.length).toBeGreaterThan(0);
    expect(j.tokens.length).toBeLessThanOrEqual(8);
    for (const t of j.tokens) expect(t >= 0 && t < 64).toBe(true);
    expect(Array.isArray(j.escalated)).toBe(true);
  });
});
