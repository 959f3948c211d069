// The language server loads plugins only from initializationOptions.plugins (the VS Code
// extension sends the user's trusted `moec.plugins` setting), never from the files it opens.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from "vscode-languageserver-protocol/node.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";

const file = path.join(REPO_ROOT, "examples/plugins/hash_layer.moe");
const uri = pathToFileURL(file).href;
let proc: ChildProcess | undefined;
let conn: ProtocolConnection | undefined;

afterEach(async () => {
  // The server may already be gone: every write after that rejects, so each one is awaited and
  // caught (an unhandled rejection fails the whole vitest run).
  if (conn) {
    await conn.sendRequest("shutdown").catch(() => undefined);
    await Promise.resolve(conn.sendNotification("exit")).catch(() => undefined);
    conn.dispose();
  }
  proc?.kill();
  conn = undefined;
  proc = undefined;
});

async function serve(initializationOptions: unknown): Promise<{ diagnostics: Promise<{ code: string; message: string }[]> }> {
  proc = spawn(process.execPath, [path.join(REPO_ROOT, "bin/moec.js"), "lsp", "--stdio"], { stdio: ["pipe", "pipe", "pipe"] });
  proc.stdin!.on("error", () => undefined); // EPIPE once the server exits
  conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onError(() => undefined);
  const diagnostics = new Promise<{ code: string; message: string }[]>((resolve) =>
    conn!.onNotification("textDocument/publishDiagnostics", (m: { uri: string; diagnostics: { code: string; message: string }[] }) => {
      if (m.uri === uri) resolve(m.diagnostics);
    }),
  );
  conn.onNotification("window/showMessage", () => undefined);
  conn.onNotification("window/logMessage", () => undefined);
  conn.listen();
  await conn.sendRequest("initialize", { processId: process.pid, rootUri: pathToFileURL(REPO_ROOT).href, capabilities: {}, initializationOptions });
  conn.sendNotification("initialized", {});
  conn.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "moe", version: 1, text: readFileSync(file, "utf8") } });
  return { diagnostics };
}

describe("language server plugins", () => {
  it("with plugins from initializationOptions: the plugin's stage checks, and hover names its source", async () => {
    const s = await serve({ plugins: ["plugins/hash-routing/index.js"] });
    expect(await s.diagnostics).toEqual([]);
    const text = readFileSync(file, "utf8");
    const line = text.split("\n").findIndex((l) => l.includes("router r = hash"));
    const h = await conn!.sendRequest<{ contents: { value: string } }>("textDocument/hover", { textDocument: { uri }, position: { line, character: text.split("\n")[line]!.indexOf("hash") + 1 } });
    expect(h.contents.value).toContain("from hash-routing@1.0.0");
  });

  it("without them: the stage is unknown (opening the file loaded nothing)", async () => {
    const s = await serve({});
    const d = await s.diagnostics;
    expect(d.map((x) => x.code)).toEqual(["E0242"]);
  });
});
