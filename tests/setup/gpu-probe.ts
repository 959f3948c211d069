// globalSetup: is there a WebGPU adapter? Asked once per run, in a child process
// (scripts/check-adapter.mjs creates a device and destroys it), so that no Dawn device lives in
// vitest's own process; test files read the answer with inject("gpu") (tests/helpers/gpu-context.ts).
// MOEC_TEST_NO_GPU=1 answers "none" without asking, to see what a machine without one runs.
import { execFile } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import type { Need } from "../helpers/needs.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const HOW = "run bash scripts/setup.sh, which installs Mesa lavapipe";

function probe(): Promise<Need> {
  if (process.env.MOEC_TEST_NO_GPU === "1") {
    return Promise.resolve({ available: false, missing: "no WebGPU adapter (hidden by MOEC_TEST_NO_GPU=1)" });
  }
  return new Promise((resolve) => {
    // check-adapter gives up after 60 s itself (a broken driver can hang); this is the backstop.
    execFile(process.execPath, [path.join(REPO, "scripts/check-adapter.mjs")], { timeout: 90_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve({ available: true, missing: "" });
      // Its first line says why, e.g. "moec: no WebGPU adapter (requestAdapter() returned null)."
      const why = /no WebGPU adapter \(([^\n]*)\)\./.exec(stderr)?.[1] ?? (err.killed ? "the probe timed out" : `the probe exited ${err.code}`);
      resolve({ available: false, missing: `no WebGPU adapter: ${why} (${HOW})` });
    });
  });
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide("gpu", await probe());
}
