// Packages the VS Code extension as VS Code would install it (esbuild bundles + vsce, offline,
// --no-dependencies) and checks what the .vsix holds. VS Code itself cannot run here, so the
// bundled language server is checked by talking LSP to it over stdio.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../compiler/format/format-helpers.js";
import { readZip } from "./read-zip.js";

const extDir = join(repoRoot, "vscode-extension");
const serverModule = join(repoRoot, "dist/compiler/lsp/server.js");
/** False until the compiler's language server (compiler/lsp/server.ts) has been built by `npx tsc -b`. */
const languageServerIsBuilt = existsSync(serverModule);

let out: string;
let files: Map<string, Buffer>;
const text = (name: string): string => {
  const f = files.get(name);
  if (!f) throw new Error(`${name} is not in the .vsix (it holds: ${[...files.keys()].join(", ")})`);
  return f.toString("utf8");
};

function run(command: string, args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const r = spawnSync(command, args, { cwd: extDir, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function unpack(vsix: string): Map<string, Buffer> {
  const hasUnzip = spawnSync("unzip", ["-v"]).status === 0;
  if (!hasUnzip) return readZip(readFileSync(vsix));
  const dir = join(out, "unpacked");
  const r = spawnSync("unzip", ["-q", "-o", vsix, "-d", dir]);
  if (r.status !== 0) throw new Error(`unzip failed: ${r.stderr}`);
  const names = spawnSync("unzip", ["-Z1", vsix], { encoding: "utf8" }).stdout.split("\n").filter((n) => n !== "" && !n.endsWith("/"));
  return new Map(names.map((name) => [name, readFileSync(join(dir, name))]));
}

describe("the .vsix", () => {
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "moec-vsix-"));
    const build = run("node", ["scripts/build.mjs", ...(languageServerIsBuilt ? [] : ["--no-server"])]);
    if (build.status !== 0) throw new Error(`scripts/build.mjs failed:\n${build.output}`);
    const vsce = join(repoRoot, "node_modules/.bin/vsce");
    const pack = run(vsce, ["package", "--no-dependencies", "--out", join(out, "moec.vsix")]);
    if (pack.status !== 0) throw new Error(`vsce package failed:\n${pack.output}`);
    files = unpack(join(out, "moec.vsix"));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("holds only the bundles, the grammar, the language configuration, the manifest, README and LICENSE", () => {
    const expected = [
      "[Content_Types].xml",
      "extension.vsixmanifest",
      "extension/LICENSE.txt",
      "extension/dist/extension.js",
      ...(languageServerIsBuilt ? ["extension/dist/server.js"] : []),
      "extension/language-configuration.json",
      "extension/package.json",
      "extension/readme.md",
      "extension/syntaxes/moe.tmLanguage.json",
    ];
    expect([...files.keys()].sort()).toEqual(expected.sort());
  });

  it("has a manifest that contributes the moe language, its grammar, settings and commands", () => {
    const pkg = JSON.parse(text("extension/package.json"));
    expect(pkg.name).toBe("moec-vscode");
    expect(pkg.main).toBe("./dist/extension.js");
    expect(pkg.activationEvents).toEqual(["onLanguage:moe"]);
    expect(pkg.contributes.languages).toEqual([
      expect.objectContaining({ id: "moe", extensions: [".moe"], configuration: "./language-configuration.json" }),
    ]);
    expect(pkg.contributes.grammars).toEqual([{ language: "moe", scopeName: "source.moe", path: "./syntaxes/moe.tmLanguage.json" }]);
    expect(JSON.parse(text("extension/syntaxes/moe.tmLanguage.json")).scopeName).toBe("source.moe");
    const props = pkg.contributes.configuration.properties;
    expect(Object.keys(props).sort()).toEqual(["moec.plugins", "moec.server.path", "moec.trace.server"]);
    expect(props["moec.trace.server"].enum).toEqual(["off", "messages", "verbose"]);
    // Settings that choose code to run cannot come from a workspace.
    expect(props["moec.server.path"].scope).toBe("machine");
    expect(props["moec.plugins"].scope).toBe("machine");
    expect(props["moec.plugins"].markdownDescription).toMatch(/only from this setting.*never from workspace settings, `\.moe` files/s);
    expect(pkg.contributes.commands).toEqual([
      { command: "moec.showInfo", title: "moec: Show info for the layer under the cursor" },
      { command: "moec.restartServer", title: "moec: Restart language server" },
    ]);
    expect(text("extension.vsixmanifest")).toContain(`<Identity Language="en-US" Id="moec-vscode" Version="${pkg.version}" Publisher="moec"`);
  });

  it("bundles the client with `vscode` left to the editor and the moec/info request in it", () => {
    const client = text("extension/dist/extension.js");
    expect(client).toMatch(/require\("vscode"\)/);
    expect(client).toContain("moec/info");
    expect(client).toContain("moec.showInfo");
    expect(client).not.toMatch(/require\("vscode-languageclient/); // bundled, not required at run time
  });

  it("stops with a clear message when the language server module is missing (unless --no-server)", () => {
    const r = run("node", ["scripts/build.mjs"], { MOEC_LSP_SERVER_MODULE: join(out, "no-such-server.js") });
    expect(r.status).toBe(1);
    expect(r.output).toContain("cannot bundle the language server");
    expect(r.output).toContain("no-such-server.js is missing");
    expect(r.output).toContain("--no-server");
  });

  it.skipIf(!languageServerIsBuilt)("bundles a language server that answers initialize and moec/info over stdio", async () => {
    // Run from a folder of its own: the bundle must not need the repository's node_modules.
    const server = join(out, "server-only");
    mkdirSync(server, { recursive: true });
    writeFileSync(join(server, "server.js"), files.get("extension/dist/server.js")!);
    const replies = await talkLsp(join(server, "server.js"), [
      { method: "initialize", params: { processId: null, rootUri: null, capabilities: {}, initializationOptions: { plugins: [] } } },
      { method: "initialized", params: {}, notification: true },
      {
        method: "textDocument/didOpen",
        notification: true,
        params: { textDocument: { uri: "file:///virtual/a.moe", languageId: "moe", version: 1, text: "layer a(x: [T, D], D = 8) {\n  return x\n}\n" } },
      },
      { method: "moec/info", params: { uri: "file:///virtual/a.moe", textDocument: { uri: "file:///virtual/a.moe" }, position: { line: 1, character: 2 } } },
      { method: "shutdown", params: null },
    ]);
    expect(replies[0]).toMatchObject({ capabilities: { documentFormattingProvider: true } });
    expect((replies[1] as { markdown: string }).markdown).toContain("a (layer)");
  });
});

interface Message {
  method: string;
  params: unknown;
  notification?: boolean;
}

/** Sends the messages in order to `node server --stdio`; resolves with the results of the requests. */
function talkLsp(serverJs: string, messages: Message[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverJs, "--stdio"], { stdio: ["pipe", "pipe", "pipe"] });
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error("the language server did not answer within 10 s"));
    }, 10_000);
    const results: unknown[] = [];
    const requests = messages.filter((m) => !m.notification);
    let received = 0;
    let buffer = Buffer.alloc(0);
    child.stdout.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const headerEnd = buffer.indexOf("\r\n\r\n");
        if (headerEnd < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString())![1]);
        if (buffer.length < headerEnd + 4 + length) return;
        const msg = JSON.parse(buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString());
        buffer = buffer.subarray(headerEnd + 4 + length);
        if (msg.id === undefined) continue; // a notification (diagnostics)
        if (msg.error) reject(new Error(`${requests[msg.id - 1]?.method}: ${msg.error.message}`));
        results[msg.id - 1] = msg.result;
        if (++received === requests.length) {
          clearTimeout(timer);
          child.stdin.write(frame({ jsonrpc: "2.0", method: "exit" }));
          resolve(results);
        }
      }
    });
    let id = 0;
    for (const m of messages) {
      child.stdin.write(frame(m.notification ? { jsonrpc: "2.0", method: m.method, params: m.params } : { jsonrpc: "2.0", id: ++id, method: m.method, params: m.params }));
    }
  });
}

function frame(msg: object): string {
  const body = JSON.stringify(msg);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
