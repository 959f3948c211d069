// Chromium for the browser tests: where it is (MOEC_CHROMIUM or Debian's /usr/bin/chromium), the
// one rule for when its tests skip (no chromium here) or fail (no chromium under CI=true, where
// .ci/run installs it), and how it is launched headless with WebGPU. Measured here (Chromium 156,
// no GPU): `--enable-unsafe-webgpu` alone gives a SwiftShader adapter to pages in a secure context
// (http://127.0.0.1, not about:blank); without it navigator.gpu exists but requestAdapter()
// answers null. Chromium refuses to start as root without `--no-sandbox`.
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";
import { describe, it } from "vitest";
import puppeteer, { type Browser } from "puppeteer-core";
import { describeNeeding, type Need } from "../needs.js";

const INSTALL = ".ci/run installs Debian's chromium: apt-get install chromium; or set MOEC_CHROMIUM to a Chromium executable";

/** The executable the tests drive, and whether it starts (its --version). */
export const CHROMIUM = process.env.MOEC_CHROMIUM || "/usr/bin/chromium";

function findChromium(): Need & { version?: string } {
  if (!fs.existsSync(CHROMIUM)) return { available: false, missing: `no chromium at ${CHROMIUM} (${INSTALL})` };
  const r = spawnSync(CHROMIUM, ["--version"], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) return { available: false, missing: `${CHROMIUM} --version failed (${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split("\n").at(-1)}) (${INSTALL})` };
  return { available: true, missing: "", version: r.stdout.trim() };
}

export const chromiumNeed = findChromium();

/** CI=true (set by CI services) makes a missing chromium a failure: there the tests must run. */
export const inCi = !!process.env.CI && process.env.CI !== "false" && process.env.CI !== "0";

/** `describe` for tests that drive chromium: skipped with one reason line where there is none,
 *  except under CI, where the missing browser is a failing test instead. `need` may add more
 *  (e.g. chromium and a Node WebGPU adapter); only a missing chromium fails under CI. */
export function describeBrowser(name: string, fn: () => void, need: Need = chromiumNeed): void {
  if (!chromiumNeed.available && inCi) {
    describe(name, () => {
      it("needs chromium, which CI must have", () => {
        throw new Error(`CI=true but ${chromiumNeed.missing}`);
      });
    });
    return;
  }
  describeNeeding(need, name, fn);
}

export interface LaunchOptions {
  /** Offer WebGPU (`--enable-unsafe-webgpu`; SwiftShader where there is no GPU). Default true. */
  webgpu?: boolean;
}

/** Chromium headless; close it in afterAll. */
export function launchChromium(opts: LaunchOptions = {}): Promise<Browser> {
  const args = ["--no-first-run", "--no-default-browser-check", "--disable-extensions"];
  if (opts.webgpu ?? true) args.push("--enable-unsafe-webgpu");
  if (process.getuid?.() === 0) args.push("--no-sandbox");
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args, protocolTimeout: 180_000 });
}
