// Command lines the docs tell people to type, run as written: every example's "Runs small:" line
// (extracted from examples/**/*.moe, run from a scratch directory with its repository paths made
// absolute), and the README tour's pair that writes weights and inputs with --save-weights and
// --save-input and then runs on them, whose output must equal the drawn run's bit for bit.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensors } from "../../runtime/safetensors/index.js";
import { moec } from "../helpers/cli.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";
import { describeGpu } from "../helpers/gpu-context.js";

function moeFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? moeFiles(path.join(dir, e.name)) : e.name.endsWith(".moe") ? [path.join(dir, e.name)] : []));
}

const runsSmall = moeFiles(path.join(REPO_ROOT, "examples"))
  .flatMap((f) => [...fs.readFileSync(f, "utf8").matchAll(/^\/\/ Runs small: moec (.+)$/gm)].map((m) => [path.relative(REPO_ROOT, f), m[1]!.trim()] as const))
  .sort();

/** The line's words, with those naming a file of the repository made absolute (outputs stay relative). */
const argv = (line: string) => line.split(/\s+/).map((w) => (fs.existsSync(path.join(REPO_ROOT, w)) && w.includes("/") ? path.join(REPO_ROOT, w) : w));

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-tour-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("the examples have Runs small: lines to run", () => {
  expect(runsSmall.length).toBeGreaterThanOrEqual(5);
});

describeGpu("every example's Runs small: line", () => {
  it.each(runsSmall)("%s: moec %s exits 0", async (_file, line) => {
    const r = await moec(argv(line), dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\w+: \[\d+, \d+\] f32 /);
  }, 180_000);
});

describeGpu("the README tour: --save-weights and --save-input, then --weights and --input", () => {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const save = /^npx moec (run \S+ --random-weights .*--save-weights w\.safetensors --save-input x\.safetensors)$/m.exec(readme)?.[1];
  const load = /^npx moec (run \S+ .*--weights w\.safetensors --input x\.safetensors --output y\.safetensors)$/m.exec(readme)?.[1];
  it("the README has both lines, and the second gives the first's output exactly", async () => {
    expect(save).toBeDefined();
    expect(load).toBeDefined();
    // The drawn run, its output kept too, then the README's second line on the saved files.
    const first = await moec([...argv(save!), "--output", "y0.safetensors"], dir);
    expect(first.code, first.err).toBe(0);
    const second = await moec(argv(load!), dir);
    expect(second.code, second.err).toBe(0);
    const y0 = readSafetensors(path.join(dir, "y0.safetensors")).getF32("y");
    const y = readSafetensors(path.join(dir, "y.safetensors")).getF32("y");
    expect(y.length).toBe(8 * 64);
    expect(Buffer.from(y.buffer).equals(Buffer.from(y0.buffer))).toBe(true);
  }, 180_000);
});
