// The playground's static server over a folder of known files: what it serves (bytes and MIME
// types), what it refuses (traversal by `..`, encoded dots and slashes, a symlink out, NUL, other
// methods, foreign Host headers) and where it listens (127.0.0.1 only), with plain HTTP requests.
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlaygroundServerError, startPlaygroundServer, type PlaygroundServer } from "../../../cli/playground/static-server.js";

let tmp: string;
let root: string;
let server: PlaygroundServer;

/** A raw request: the path is sent exactly as given (no client-side normalisation). */
function request(rawPath: string, opts: { method?: string; host?: string } = {}): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.port, path: rawPath, method: opts.method ?? "GET", headers: { host: opts.host ?? `127.0.0.1:${server.port}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, type: res.headers["content-type"], body }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "moec-playground-"));
  root = path.join(tmp, "site");
  fs.mkdirSync(path.join(root, "sub"), { recursive: true });
  fs.writeFileSync(path.join(root, "index.html"), "<!doctype html><p>index page</p>\n");
  fs.writeFileSync(path.join(root, "app.js"), "export const answer = 42;\n");
  fs.writeFileSync(path.join(root, "style.css"), "body { color: red }\n");
  fs.writeFileSync(path.join(root, "sub", "data.json"), '{"a":1}\n');
  fs.writeFileSync(path.join(tmp, "secret.txt"), "SECRET-OUTSIDE\n");
  fs.symlinkSync(path.join(tmp, "secret.txt"), path.join(root, "link.txt"));
  server = await startPlaygroundServer(root, 0);
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("playground static server", () => {
  it("listens on 127.0.0.1 at the port it reports", () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.port).toBeGreaterThan(0);
  });

  it("serves index.html at / and files with their MIME types, byte for byte", async () => {
    const index = await request("/");
    expect(index).toMatchObject({ status: 200, type: "text/html; charset=utf-8", body: "<!doctype html><p>index page</p>\n" });
    expect(await request("/index.html")).toMatchObject({ status: 200, body: "<!doctype html><p>index page</p>\n" });
    // A module script must come as JavaScript, or the browser refuses to run it.
    expect(await request("/app.js")).toMatchObject({ status: 200, type: "text/javascript; charset=utf-8", body: "export const answer = 42;\n" });
    expect(await request("/style.css")).toMatchObject({ status: 200, type: "text/css; charset=utf-8" });
    expect(await request("/sub/data.json?x=1")).toMatchObject({ status: 200, type: "application/json; charset=utf-8", body: '{"a":1}\n' });
  });

  it("HEAD answers without a body; other methods are 405", async () => {
    expect(await request("/app.js", { method: "HEAD" })).toMatchObject({ status: 200, body: "" });
    expect((await request("/app.js", { method: "POST" })).status).toBe(405);
  });

  it("404s missing files and directories", async () => {
    expect((await request("/nope.js")).status).toBe(404);
    expect((await request("/sub")).status).toBe(404);
    expect((await request("/sub/")).status).toBe(404);
  });

  it.each([
    ["/../secret.txt", 403],
    ["/sub/../../secret.txt", 403],
    ["/%2e%2e/secret.txt", 403],
    ["/..%2fsecret.txt", 403],
    ["/sub%2f..%2f..%2fsecret.txt", 403],
    ["/link.txt", 403],
    ["/..%5csecret.txt", 400],
    ["/index.html%00.js", 400],
    ["/%E0%A4%A", 400],
  ])("refuses %s (%i) and never shows what lies outside", async (p, status) => {
    const r = await request(p);
    expect(r.status).toBe(status);
    expect(r.body).not.toContain("SECRET-OUTSIDE");
  });

  it("answers only requests addressed to its own loopback address", async () => {
    expect((await request("/", { host: "evil.example" })).status).toBe(403);
    expect((await request("/", { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await request("/", { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it("is not reachable on another address of this machine", async () => {
    const others = Object.values(os.networkInterfaces()).flat().filter((a) => a && a.family === "IPv4" && !a.internal).map((a) => a!.address);
    for (const address of [...others, "::1"]) {
      const reached = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: address, port: server.port }, () => (s.destroy(), resolve(true)));
        s.on("error", () => resolve(false));
      });
      expect(reached, address).toBe(false);
    }
  });

  it("names a folder that is not built, and a port in use", async () => {
    await expect(startPlaygroundServer(path.join(tmp, "missing"), 0)).rejects.toThrow(PlaygroundServerError);
    await expect(startPlaygroundServer(path.join(tmp, "missing"), 0)).rejects.toThrow(/is missing\): run `npm run build`/);
    await expect(startPlaygroundServer(root, server.port)).rejects.toThrow(`port ${server.port} on 127.0.0.1 is in use`);
  });
});
