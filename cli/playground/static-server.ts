// The playground's static file server: node:http on 127.0.0.1 only, GET/HEAD of files inside one
// folder (dist/playground). Paths that leave the folder (`..`, encoded slashes, symlinks out) are
// refused; requests whose Host is not this loopback address are refused too (a page elsewhere
// cannot reach it by DNS rebinding). Quiet: it logs nothing.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

export const PLAYGROUND_HOST = "127.0.0.1";

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
  ".moe": "text/plain; charset=utf-8",
  ".safetensors": "application/octet-stream",
};

export function mimeType(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

/** Why the server cannot start: a missing folder, a port in use or not allowed. */
export class PlaygroundServerError extends Error {}

export interface PlaygroundServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The file a request path names inside `root` (its real path), or the status to answer. */
export function resolveRequestPath(root: string, urlPath: string): { file: string } | { status: 400 | 403 | 404 } {
  const pathname = urlPath.split(/[?#]/)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400 };
  }
  if (decoded.includes("\0") || decoded.includes("\\") || !decoded.startsWith("/")) return { status: 400 };
  // Any `..` segment is refused outright, before and after decoding, whatever it would resolve to.
  if (decoded.split("/").includes("..")) return { status: 403 };
  const candidate = path.join(root, decoded === "/" ? "index.html" : decoded);
  let real: string;
  try {
    real = fs.realpathSync(candidate);
  } catch {
    return { status: 404 };
  }
  if (real !== root && !real.startsWith(root + path.sep)) return { status: 403 };
  if (!fs.statSync(real).isFile()) return { status: 404 };
  return { file: real };
}

function answer(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
  res.end(text + "\n");
}

const REASONS: Record<number, string> = { 400: "bad request path", 403: "outside the playground folder", 404: "not found" };

/** Serves `dir` on 127.0.0.1:`port` (0: a free port). */
export async function startPlaygroundServer(dir: string, port: number): Promise<PlaygroundServer> {
  if (!fs.existsSync(path.join(dir, "index.html"))) {
    throw new PlaygroundServerError(`the playground is not built (${path.join(dir, "index.html")} is missing): run \`npm run build\``);
  }
  const root = fs.realpathSync(dir);
  let allowedHosts = new Set<string>();
  const server = http.createServer((req, res) => {
    if (!allowedHosts.has((req.headers.host ?? "").toLowerCase())) return answer(res, 403, "this server answers only requests to its own loopback address");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return answer(res, 405, "only GET and HEAD");
    }
    const r = resolveRequestPath(root, req.url ?? "/");
    if ("status" in r) return answer(res, r.status, REASONS[r.status]!);
    res.writeHead(200, {
      "Content-Type": mimeType(r.file),
      "Content-Length": fs.statSync(r.file).size,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    if (req.method === "HEAD") return res.end();
    const stream = fs.createReadStream(r.file);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") reject(new PlaygroundServerError(`port ${port} on ${PLAYGROUND_HOST} is in use: choose another with --port N, or --port 0 for a free one`));
      else if (e.code === "EACCES") reject(new PlaygroundServerError(`port ${port} needs privileges this user lacks: choose one above 1023 with --port N`));
      else reject(new PlaygroundServerError(`cannot listen on ${PLAYGROUND_HOST}:${port}: ${e.message}`));
    });
    server.listen(port, PLAYGROUND_HOST, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  allowedHosts = new Set([`${PLAYGROUND_HOST}:${bound}`, `localhost:${bound}`]);
  return {
    url: `http://${PLAYGROUND_HOST}:${bound}/`,
    port: bound,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
