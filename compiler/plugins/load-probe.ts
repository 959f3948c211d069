// Evaluates a plugin module first in a worker thread with a time limit, so a module that never
// finishes loading (an endless loop, a top-level await that never settles) or calls process.exit
// while loading is reported by name instead of hanging the command or ending it with exit 0.
// What the module prints in the worker is dropped: the real import (loader.ts) prints it once, to stderr.
import { Worker } from "node:worker_threads";

/** How long a plugin module may take to load before it is refused (E0900). */
export const PLUGIN_LOAD_TIMEOUT_MS = 10_000;

export type ProbeResult =
  | { ok: true }
  | { ok: false; problem: string };

// Runs as an eval'd CommonJS script in the worker: import() the module, then say whether its
// evaluation settled. A pending top-level await leaves the worker with nothing left to do, so it
// exits without a message; process.exit is marked in shared memory first (a message posted just
// before the thread ends may never arrive), so the two are told apart.
const PROBE = `
const { parentPort, workerData } = require("node:worker_threads");
const exited = new Int32Array(workerData.exited);
const realExit = process.exit.bind(process);
process.exit = (code) => {
  Atomics.store(exited, 0, 1);
  Atomics.store(exited, 1, Number(code ?? process.exitCode ?? 0) | 0);
  realExit(code);
};
import(workerData.url).then(
  () => parentPort.postMessage({ settled: true }),
  (e) => parentPort.postMessage({ settled: true, threw: e instanceof Error ? e.message : String(e) }),
);
`;

/** Loads `url` in a worker: ok when its evaluation settles (even by throwing: the real import
 *  reports that) within `timeoutMs`; otherwise the problem, worded for an E0900 message. */
export function probePluginLoad(url: string, timeoutMs = PLUGIN_LOAD_TIMEOUT_MS): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const exited = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(PROBE, { eval: true, workerData: { url, exited: exited.buffer }, stdout: true, stderr: true });
    worker.stdout.resume();
    worker.stderr.resume();
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
      void worker.terminate();
    };
    const timer = setTimeout(() => finish({ ok: false, problem: `did not finish loading within ${timeoutMs / 1000} s (an endless loop or a wait at load?)` }), timeoutMs);
    worker.on("message", () => finish({ ok: true }));
    worker.on("error", (e) => finish({ ok: false, problem: `failed while loading: ${e instanceof Error ? e.message : String(e)}` }));
    worker.on("exit", () => finish({
      ok: false,
      problem: Atomics.load(exited, 0)
        ? `called process.exit(${Atomics.load(exited, 1)}) while loading; a plugin may not end the process`
        : "never finished loading: its top-level await does not settle",
    }));
  });
}
