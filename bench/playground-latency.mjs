// Playground latency (issue 14 part 4): time from a keystroke in the editor to the page's updated
// diagnostics, in chromium headless, on the largest example of the playground's menu. The time is
// the page's own: a capturing keydown listener stamps performance.now() as the key arrives, and
// the page stamps moecPlayground.diagnosticsAt when it applies the diagnostics; the latency is the
// difference. Two kinds of keystroke, after warm-up: letters typed into a trailing comment (the
// program stays valid, the whole file is re-checked) and `x` then Backspace on the last line
// (an error appears, then goes). Prints medians, p90 and max of each, and of the browser
// module's check() of the same text called alone in the page (the compiler's share).
//
//   node bench/playground-latency.mjs [--runs 40] [--warmup 10] [--example examples/….moe] [--dir DIST_PLAYGROUND] [--json]
//
// Needs `npm run build` (dist/playground/); serves it with `moec playground` unless --dir names a
// built playground folder to serve as static files. Chromium: MOEC_CHROMIUM or /usr/bin/chromium,
// launched as tests/helpers/browser/chromium.ts does.
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const RUNS = Number(opt("runs", "40")), WARMUP = Number(opt("warmup", "10"));
const staticDir = opt("dir", undefined);
const asJson = argv.includes("--json");
const chromium = process.env.MOEC_CHROMIUM || "/usr/bin/chromium";

function fail(message) {
  console.error(`playground-latency: ${message}`);
  process.exit(1);
}

/** The largest .moe the playground's menu offers (examples/, without plugins/, which need Node). */
function largestExample() {
  let best;
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) {
        if (path.relative(path.join(root, "examples"), p) !== "plugins") walk(p);
      } else if (name.endsWith(".moe") && (!best || fs.statSync(p).size > best.size)) best = { file: p, size: fs.statSync(p).size };
    }
  };
  walk(path.join(root, "examples"));
  return best.file;
}
/** Every example by its path in the page (/examples/…), for check()'s imports. */
function exampleSources() {
  const files = {};
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".moe")) files[`/${path.relative(root, p).split(path.sep).join("/")}`] = fs.readFileSync(p, "utf8");
    }
  };
  walk(path.join(root, "examples"));
  return files;
}
const exampleFile = path.resolve(root, opt("example", largestExample()));
const source = fs.readFileSync(exampleFile, "utf8");

if (!fs.existsSync(chromium)) fail(`no chromium at ${chromium} (apt-get install chromium, or set MOEC_CHROMIUM)`);
if (!staticDir && !fs.existsSync(path.join(root, "dist/playground/index.html"))) fail("dist/playground/ is not built: run npm run build");

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** `moec playground --port P`, or a static server over --dir; resolves to its origin and a closer. */
async function serve() {
  if (staticDir) {
    const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".map": "application/json", ".json": "application/json" };
    const server = http.createServer((req, res) => {
      const p = new URL(req.url, "http://x").pathname;
      const file = path.resolve(staticDir, "." + (p.endsWith("/") ? p + "index.html" : p));
      if (!file.startsWith(path.resolve(staticDir)) || !fs.existsSync(file)) return void res.writeHead(p === "/favicon.ico" ? 204 : 404).end();
      res.setHeader("content-type", types[path.extname(file)] ?? "application/octet-stream");
      res.end(fs.readFileSync(file));
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
  }
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, "bin/moec.js"), "playground", "--port", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const origin = `http://127.0.0.1:${port}`;
  for (const t0 = Date.now(); ; ) {
    if (child.exitCode !== null) fail(`moec playground exited ${child.exitCode}:\n${err}`);
    if (await fetch(origin).then((r) => r.ok, () => false)) break;
    if (Date.now() - t0 > 30_000) {
      child.kill();
      fail(`moec playground did not answer within 30 s:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { origin, close: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once("exit", r), child.kill("SIGTERM")))) };
}

const served = await serve();
const args = ["--enable-unsafe-webgpu", "--no-first-run", "--disable-extensions"];
if (process.getuid?.() === 0) args.push("--no-sandbox");
const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args });
try {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(`${m.text()}${m.location().url ? ` (${m.location().url})` : ""}`));
  await page.setViewport({ width: 1400, height: 1000 });
  await page.goto(`${served.origin}/`);
  await page.waitForFunction(() => globalThis.moecPlayground !== undefined, { timeout: 60_000 });
  await page.evaluate(() => globalThis.moecPlayground.ready);
  // Chosen from the menu, as a user would, so that its imports resolve among the examples.
  const settled = await page.evaluate(() => globalThis.moecPlayground.diagnosticsAt);
  const menuValue = `/${path.relative(root, exampleFile).split(path.sep).join("/")}`;
  const offered = await page.$$eval("#examples option", (os) => os.map((o) => o.value));
  if (!offered.includes(menuValue)) fail(`${menuValue} is not in the playground's #examples menu`);
  await page.select("#examples", menuValue);
  await page.waitForFunction((t) => globalThis.moecPlayground.diagnosticsAt > t, { timeout: 30_000 }, settled);
  if (await page.evaluate(() => globalThis.moecPlayground.getSource()) !== source) fail(`the page did not load ${menuValue}`);
  const startDiagnostics = await page.evaluate(() => globalThis.moecPlayground.lastDiagnostics.length);
  if (startDiagnostics) fail(`the page reports ${startDiagnostics} diagnostic(s) on ${menuValue}, which moec check finds clean`);
  await page.evaluate(() => document.addEventListener("keydown", () => (globalThis.__keyAt = performance.now()), { capture: true }));

  /** Presses one key; the page's time from its keydown to the next diagnostics applied. */
  async function timedKey(key) {
    const before = await page.evaluate(() => globalThis.moecPlayground.diagnosticsAt);
    if (key.length === 1) await page.keyboard.type(key);
    else await page.keyboard.press(key);
    await page.waitForFunction((t) => globalThis.__keyAt !== undefined && globalThis.moecPlayground.diagnosticsAt > t && globalThis.moecPlayground.diagnosticsAt >= globalThis.__keyAt, { timeout: 30_000, polling: 5 }, before);
    return page.evaluate(() => globalThis.moecPlayground.diagnosticsAt - globalThis.__keyAt);
  }

  // The cursor at the end of the document, on a fresh comment line.
  await page.click("#editor .cm-content");
  await page.keyboard.down("Control");
  await page.keyboard.press("End");
  await page.keyboard.up("Control");
  await page.keyboard.press("Enter");
  await page.keyboard.type("//");
  await new Promise((r) => setTimeout(r, 500));
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const comment = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const ms = await timedKey(letters[i % letters.length]);
    if (i >= WARMUP) comment.push(ms);
  }
  // A new last line where `x` is an error, then Backspace takes it away.
  await page.keyboard.press("Enter");
  await new Promise((r) => setTimeout(r, 500));
  const error = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const ms = await timedKey(i % 2 === 0 ? "x" : "Backspace");
    if (i >= WARMUP) error.push(ms);
  }
  const diagnostics = await page.evaluate(() => globalThis.moecPlayground.lastDiagnostics.length);
  // For comparison: the browser module's check() of the same text alone, in the same page.
  const checkAlone = await page.evaluate(async (source, file, files, n) => {
    const m = await import("./moec.js");
    const times = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      m.check({ source: source + `\n// ${i}`, file, files });
      times.push(performance.now() - t0);
    }
    return times;
  }, source, menuValue, exampleSources(), WARMUP + RUNS);
  if (pageErrors.length) fail(`the page logged errors:\n${pageErrors.join("\n")}`);
  if (diagnostics) fail(`the page ends with ${diagnostics} diagnostic(s) where the text is the example's plus a comment`);

  const summary = (a) => {
    const s = [...a].sort((x, y) => x - y);
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return { median: q(0.5), p90: q(0.9), max: s.at(-1), n: s.length };
  };
  const result = {
    example: path.relative(root, exampleFile), bytes: Buffer.byteLength(source), lines: source.split("\n").length,
    browser: await browser.version(), cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}`, node: process.version,
    warmup: WARMUP, comment: summary(comment), error: summary(error), checkAlone: summary(checkAlone.slice(WARMUP)), 
  };
  if (asJson) console.log(JSON.stringify(result, null, 2));
  else {
    const f = (x) => `${x.toFixed(1)} ms`;
    console.log(`${result.example} (${result.bytes} bytes, ${result.lines} lines), ${result.browser}, ${result.cpus}`);
    const label = { comment: "letter in a comment", error: "x / Backspace      ", checkAlone: "moec.check() alone " };
    for (const kind of ["comment", "error", "checkAlone"]) {
      const s = result[kind];
      console.log(`  ${label[kind]}: median ${f(s.median)}, p90 ${f(s.p90)}, max ${f(s.max)} (${s.n} ${kind === "checkAlone" ? "calls" : "keystrokes"} after ${WARMUP} warm-up)`);
    }
  }
} finally {
  await browser.close();
  await served.close();
}
