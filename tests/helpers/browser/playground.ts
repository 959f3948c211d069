// The playground page for the browser tests: built if this checkout has none yet
// (scripts/build-browser.mjs, then scripts/build-playground.mjs, as npm run build does) and
// served the way a user gets it, by `moec playground --port P` in a child process. With
// MOEC_PLAYGROUND_DIR the tests instead serve a built dist/playground/ from elsewhere as static
// files (to hold another checkout's build to the DOM contract).
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { REPO_ROOT } from "../frontend/paths.js";
import type { Need } from "../needs.js";
import { ensureBundle } from "./module-page.js";
import { serveStatic } from "./static-server.js";

const BUILD_SCRIPT = path.join(REPO_ROOT, "scripts/build-playground.mjs");
const OTHER_DIR = process.env.MOEC_PLAYGROUND_DIR;

export const playgroundNeed: Need =
  OTHER_DIR || fs.existsSync(BUILD_SCRIPT)
    ? { available: true, missing: "" }
    : { available: false, missing: "no playground in this checkout (scripts/build-playground.mjs, issue 14 part 2)" };

function ensurePlaygroundBuilt(): void {
  if (fs.existsSync(path.join(REPO_ROOT, "dist/playground/index.html"))) return;
  ensureBundle();
  const r = spawnSync(process.execPath, [BUILD_SCRIPT, "--quiet"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scripts/build-playground.mjs failed:\n${r.stderr}`);
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export interface ServedPlayground {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** What `moec playground` wrote (empty for a static directory). */
  output(): { out: string; err: string };
  close(): Promise<void>;
}

/** Serves the playground; resolves once its page answers. */
export async function servePlayground(): Promise<ServedPlayground> {
  if (OTHER_DIR) {
    const s = await serveStatic({}, OTHER_DIR);
    return { origin: s.origin, output: () => ({ out: "", err: "" }), close: s.close };
  }
  ensurePlaygroundBuilt();
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin/moec.js"), "playground", "--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "", exited: number | null | undefined;
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  child.on("exit", (code) => (exited = code));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`moec playground --port ${port} exited ${exited} before serving:\n${err}${out}`);
    try {
      if ((await fetch(`${origin}/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moec playground --port ${port} did not answer within 30 s:\n${err}${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    origin,
    output: () => ({ out, err }),
    close: () =>
      new Promise<void>((resolve) => {
        if (exited !== undefined) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
