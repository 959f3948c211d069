// `moec stats FILE --plot -o OUT.svg`: `-o` is `--output` (as in every other command); the SVG's
// path is checked before the statistics are read and the file is replaced atomically.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-stats-"));
  // A hand-written statistics file: one router over 4 experts, 8 tokens at k = 2.
  const router = { experts: 4, tokens: 8, load: [6, 4, 4, 2], importance: [0.3, 0.25, 0.25, 0.2], active_k: { mean: 2, histogram: [0, 0, 8] }, entropy: 1.3, maxvio: 0.5, drop_rate: 0 };
  fs.writeFileSync(path.join(dir, "s.json"), JSON.stringify({ moec_stats: 1, entry: "m", tokens: 8, routers: { r: router } }));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it("--output and -o write the SVG (nothing else left in the directory)", async () => {
  const a = await moec(["stats", "s.json", "--output", "a.svg"], dir);
  expect(a.code, a.err).toBe(0);
  const b = await moec(["stats", "s.json", "-o", "b.svg"], dir);
  expect(b.code, b.err).toBe(0);
  expect(fs.readFileSync(path.join(dir, "a.svg"), "utf8")).toMatch(/^<svg [^>]*>/);
  expect(fs.readFileSync(path.join(dir, "b.svg"), "utf8")).toBe(fs.readFileSync(path.join(dir, "a.svg"), "utf8"));
  expect(fs.readdirSync(dir).sort()).toEqual(["a.svg", "b.svg", "s.json"]);
});

it("an -o in a missing directory is named before the statistics are read (exit 1)", async () => {
  const r = await moec(["stats", "missing.json", "-o", "no/x.svg"], dir);
  expect(r.code).toBe(1);
  expect(r.err).toBe("moec stats: -o no/x.svg: the directory no does not exist\n");
});

it("the old --out spelling is a usage error (exit 2)", async () => {
  const r = await moec(["stats", "s.json", "--out", "x.svg"], dir);
  expect(r.code).toBe(2);
  expect(fs.existsSync(path.join(dir, "x.svg"))).toBe(false);
});
