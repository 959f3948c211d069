// `moec playground`: the real CLI in a child process serves the built page (dist/playground/,
// from `npm run build`) at the URL it prints, quietly, and stops on SIGINT with exit 0; a bad
// --port is a usage error and a port in use is named (exit 1).
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";

const REPO = path.resolve(import.meta.dirname, "../../..");
const BUILT = path.join(REPO, "dist/playground/index.html");

describe("moec playground", () => {
  it("is built by npm run build (the tests below serve it)", () => {
    expect(fs.existsSync(BUILT), `${BUILT} is missing: run npm run build`).toBe(true);
  });

  it("serves the page at the URL it prints, and stops on SIGINT with exit 0", async () => {
    const child = spawn(process.execPath, [path.join(REPO, "bin/moec.js"), "playground", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (c) => (err += c));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (c) => {
        out += c;
        const m = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    try {
      const index = await fetch(url);
      expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const html = await index.text();
      expect(html).toBe(fs.readFileSync(BUILT, "utf8"));
      for (const id of ["editor", "diagnostics", "info-table", "diagram", "run-button", "heatmap", "examples", "status"]) expect(html).toContain(`id="${id}"`);
      const mod = await fetch(url + "moec.js");
      expect(mod.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(Buffer.from(await mod.arrayBuffer()).equals(fs.readFileSync(path.join(REPO, "dist/browser/moec.js")))).toBe(true);
      expect((await fetch(url + "playground.js")).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect((await fetch(url + "missing.js")).status).toBe(404);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    }
    expect(err).toBe("");
  }, 30_000);

  it("a port in use: exit 1 naming it", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await moec(["playground", "--port", String(port)]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`moec playground: port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.close();
    }
  });

  it.each(["abc", "65536", "-1", "8.5"])("--port %s: a usage error (exit 2)", async (v) => {
    const r = await moec(["playground", "--port", v]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--port (takes a port number from 0 to 65535|needs a value)/);
  });
});
