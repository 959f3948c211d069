// A tiny static file server on 127.0.0.1 for the browser tests: URL paths mapped to files on disk
// or bytes in memory (a page needs http://127.0.0.1, a secure context, for navigator.gpu; file://
// and about:blank get none), and optionally a directory for every path not mapped (`/` is its
// index.html). GET only; anything else is a 404.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { AddressInfo } from "node:net";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json", ".svg": "image/svg+xml",
  ".moe": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8",
};

export interface StaticServer {
  /** http://127.0.0.1:PORT (no trailing slash). */
  origin: string;
  /** Maps one more URL path. */
  put(urlPath: string, body: string | Uint8Array | { file: string }): void;
  close(): Promise<void>;
}

/** The file under `dir` that a URL path names, or undefined (outside `dir`, or none). */
function fileUnder(dir: string, urlPath: string): { file: string } | undefined {
  const file = path.resolve(dir, "." + decodeURIComponent(urlPath.endsWith("/") ? urlPath + "index.html" : urlPath));
  if (!file.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return undefined;
  return { file };
}

export async function serveStatic(routes: Record<string, string | Uint8Array | { file: string }> = {}, dir?: string): Promise<StaticServer> {
  const table = new Map(Object.entries(routes));
  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url ?? "/", "http://x").pathname;
    const body = table.get(urlPath) ?? (dir === undefined ? undefined : fileUnder(dir, urlPath));
    if (req.method !== "GET" || body === undefined) {
      res.writeHead(urlPath === "/favicon.ico" ? 204 : 404).end();
      return;
    }
    const ext = /\.[a-z]+$/.exec(urlPath)?.[0] ?? (urlPath.endsWith("/") ? ".html" : "");
    res.setHeader("content-type", TYPES[ext] ?? "application/octet-stream");
    res.setHeader("cache-control", "no-store");
    res.end(typeof body === "object" && "file" in body ? fs.readFileSync(body.file) : body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    put: (p, b) => void table.set(p, b),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
