// Playground latency (issue 14 part 4; target ≤ 50 ms after warm-up on the largest example): time
// from a keystroke in the editor to the page's updated diagnostics, in Debian's chromium headless,
// the page served by the real `moec playground` server. In the page's own clock: from the keydown
// event's timeStamp to moecPlayground.diagnosticsAt (diagnostics applied: lint marks and list).
// Two kinds of keystroke per example, chosen from the #examples menu: a letter typed into a
// trailing comment (the program stays valid) and `x` then Backspace on a new last line (an error
// appears, then goes). Strokes are --gap ms apart (default 600: past the info and diagram panels'
// 150 ms debounce and their work), so each is timed alone. Also the browser module's check() of
// the same text called alone in the page (the compiler's share). Stops if the page logs errors.
//
//   node bench/playground-latency.mjs [EXAMPLE …] [--runs 20] [--warmup 5] [--gap 600] [--json]
//   (after npm run build; EXAMPLE as the menu names it, default the largest and two heavy ones)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";
import { startPlaygroundServer } from "../dist/cli/playground/static-server.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const RUNS = opt("runs", 20), WARMUP = opt("warmup", 5), GAP = opt("gap", 600);
const asJson = argv.includes("--json");
const named = argv.filter((a, i) => !a.startsWith("--") && !(i > 0 && argv[i - 1].startsWith("--") && argv[i - 1] !== "--json"));
const chromium = process.env.MOEC_CHROMIUM || "/usr/bin/chromium";

function fail(message) {
  console.error(`playground-latency: ${message}`);
  process.exit(1);
}

/** Every example by its path in the page (/examples/…), as the menu and check()'s imports name them. */
function exampleSources() {
  const files = {};
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".moe")) files[`/${path.relative(root, p).split(path.sep).join("/")}`] = fs.readFileSync(p, "utf8");
    }
  };
  walk(path.join(root, "examples"));
  return files;
}
const sources = exampleSources();
const menuFiles = Object.keys(sources).filter((f) => !f.startsWith("/examples/plugins/"));
const largest = menuFiles.reduce((a, b) => (sources[b].length > sources[a].length ? b : a));
const examples = named.length ? named : [largest, "/examples/granularity/peer.moe", "/examples/topologies/mixture_of_thoughts.moe"];
for (const f of examples) if (!sources[f]) fail(`no example ${f} (name it as the menu does: /examples/…)`);

if (!fs.existsSync(chromium)) fail(`no chromium at ${chromium} (apt-get install chromium, or set MOEC_CHROMIUM)`);
if (!fs.existsSync(path.join(root, "dist/playground/index.html"))) fail("dist/playground/ is not built: run npm run build");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const summary = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), max: s.at(-1), n: s.length };
};

const server = await startPlaygroundServer(path.join(root, "dist/playground"), 0);
const args = ["--enable-unsafe-webgpu", "--no-first-run", "--disable-extensions"];
if (process.getuid?.() === 0) args.push("--no-sandbox");
const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args });
const results = [];
try {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(`${m.text()}${m.location().url ? ` (${m.location().url})` : ""}`));
  await page.setViewport({ width: 1400, height: 1000 });
  await page.goto(server.url);
  await page.waitForFunction(() => globalThis.moecPlayground !== undefined, { timeout: 60_000 });
  await page.evaluate(() => globalThis.moecPlayground.ready);
  await page.evaluate(() => document.addEventListener("keydown", (e) => (globalThis.__keyAt = e.timeStamp), { capture: true }));

  /** Presses one key; the page's time from its keydown to the diagnostics applied after it. */
  async function timedKey(key) {
    const before = await page.evaluate(() => globalThis.moecPlayground.diagnosticsAt);
    if (key.length === 1) await page.keyboard.type(key);
    else await page.keyboard.press(key);
    await page.waitForFunction((t) => globalThis.moecPlayground.diagnosticsAt > t && globalThis.moecPlayground.diagnosticsAt >= globalThis.__keyAt, { timeout: 30_000, polling: 5 }, before);
    const ms = await page.evaluate(() => globalThis.moecPlayground.diagnosticsAt - globalThis.__keyAt);
    await sleep(GAP);
    return ms;
  }
  async function series(keyAt) {
    const times = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const ms = await timedKey(keyAt(i));
      if (i >= WARMUP) times.push(ms);
    }
    return summary(times);
  }

  for (const file of examples) {
    const settled = await page.evaluate(() => globalThis.moecPlayground.diagnosticsAt);
    await page.select("#examples", file);
    await page.waitForFunction((t) => globalThis.moecPlayground.diagnosticsAt > t, { timeout: 30_000 }, settled);
    if ((await page.evaluate(() => globalThis.moecPlayground.getSource())) !== sources[file]) fail(`the page did not load ${file}`);
    const start = await page.evaluate(() => globalThis.moecPlayground.lastDiagnostics.filter((d) => d.severity === "error").length);
    if (start) fail(`the page reports ${start} error(s) on ${file}, which moec check finds clean`);
    await sleep(GAP);
    // The cursor at the end of the document, on a fresh comment line.
    await page.focus("#editor .cm-content");
    await page.keyboard.down("Control");
    await page.keyboard.press("End");
    await page.keyboard.up("Control");
    await page.keyboard.press("Enter");
    await page.keyboard.type("//");
    await sleep(GAP);
    const comment = await series((i) => "abcdefghijklmnopqrstuvwxyz"[i % 26]);
    await page.keyboard.press("Enter");
    await sleep(GAP);
    const error = await series((i) => (i % 2 === 0 ? "x" : "Backspace"));
    if ((WARMUP + RUNS) % 2 === 1) await timedKey("Backspace"); // the last `x` taken away again
    const errorsAtEnd = await page.evaluate(() => globalThis.moecPlayground.lastDiagnostics.filter((d) => d.severity === "error").length);
    if (errorsAtEnd) fail(`${file}: the page ends with ${errorsAtEnd} error(s) where the text is the example's plus a comment`);
    const checkAlone = await page.evaluate(async (source, file, files, n) => {
      const m = await import("./moec.js");
      const times = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        m.check({ source: source + `\n// ${i}`, file, files });
        times.push(performance.now() - t0);
      }
      return times;
    }, sources[file], file, sources, WARMUP + RUNS);
    results.push({ example: file, chars: sources[file].length, lines: sources[file].split("\n").length, comment, error, checkAlone: summary(checkAlone.slice(WARMUP)) });
  }
  if (pageErrors.length) fail(`the page logged errors:\n${pageErrors.join("\n")}`);
  const machine = { browser: await browser.version(), cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}`, node: process.version, warmup: WARMUP, gapMs: GAP };
  if (asJson) console.log(JSON.stringify({ ...machine, results }, null, 2));
  else {
    console.log(`${machine.browser}, ${machine.cpus}; ${RUNS} strokes after ${WARMUP} warm-up, ${GAP} ms apart`);
    const f = (s) => `median ${s.median.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
    for (const r of results) {
      console.log(`${r.example} (${r.chars} chars, ${r.lines} lines)`);
      console.log(`  letter in a comment: ${f(r.comment)}`);
      console.log(`  x / Backspace      : ${f(r.error)}`);
      console.log(`  moec.check() alone : ${f(r.checkAlone)}`);
    }
  }
} finally {
  await browser.close();
  await server.close();
}
