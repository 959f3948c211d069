// A spawned `moec lsp --stdio` driven by a real LSP protocol client (vscode-languageserver-protocol).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from "vscode-languageserver-protocol/node.js";

const repo = path.resolve(__dirname, "../../..");

describe("moec lsp --stdio", () => {
  let proc: ChildProcess;
  let conn: ProtocolConnection;
  const file = path.join(repo, "examples/mixtral.moe");
  const uri = pathToFileURL(file).href;
  const published = new Map<string, unknown[]>();
  const waiters: (() => void)[] = [];

  beforeAll(async () => {
    proc = spawn(process.execPath, [path.join(repo, "bin/moec.js"), "lsp", "--stdio"], { stdio: ["pipe", "pipe", "pipe"] });
    proc.stdin!.on("error", () => undefined); // EPIPE once the server exits
    conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    conn.onError(() => undefined);
    conn.onNotification("textDocument/publishDiagnostics", (m: { uri: string; diagnostics: unknown[] }) => {
      published.set(m.uri, m.diagnostics);
      waiters.splice(0).forEach((w) => w());
    });
    conn.listen();
  });
  afterAll(async () => {
    // Every write may reject once the server is gone: await and catch each (no unhandled rejection).
    await conn.sendRequest("shutdown").catch(() => undefined);
    await Promise.resolve(conn.sendNotification("exit")).catch(() => undefined);
    conn.dispose();
    proc.kill();
  });

  const nextDiagnostics = () => new Promise<void>((r) => waiters.push(r));

  it("answers initialize with its capabilities", async () => {
    const res = await conn.sendRequest<{ capabilities: Record<string, unknown>; serverInfo: { name: string } }>("initialize", { processId: process.pid, rootUri: null, capabilities: {} });
    expect(res.serverInfo.name).toBe("moec");
    for (const cap of ["hoverProvider", "definitionProvider", "referencesProvider", "renameProvider", "documentSymbolProvider", "completionProvider", "signatureHelpProvider", "semanticTokensProvider", "codeActionProvider", "documentFormattingProvider"]) {
      expect(res.capabilities).toHaveProperty(cap);
    }
    conn.sendNotification("initialized", {});
  });

  it("publishes diagnostics as the document changes, on the right line", async () => {
    const text = readFileSync(file, "utf8");
    let wait = nextDiagnostics();
    conn.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "moe", version: 1, text } });
    await wait;
    expect(published.get(uri)).toEqual([]);
    // Two quick edits: only the state after the second is published (the first is superseded).
    const bad1 = text.replace("topk(2)", "topk(9)");
    const bad2 = text.replace("|> softmax", "|> softmx");
    wait = nextDiagnostics();
    conn.sendNotification("textDocument/didChange", { textDocument: { uri, version: 2 }, contentChanges: [{ text: bad1 }] });
    conn.sendNotification("textDocument/didChange", { textDocument: { uri, version: 3 }, contentChanges: [{ text: bad2 }] });
    await wait;
    const diags = published.get(uri) as { range: { start: { line: number; character: number } }; code: string }[];
    expect(diags).toHaveLength(1);
    expect(diags[0]!.code).toBe("E0242");
    const line = bad2.split("\n").findIndex((l) => l.includes("softmx"));
    expect(diags[0]!.range.start).toEqual({ line, character: bad2.split("\n")[line]!.indexOf("softmx") });
  });

  it("answers hover and the moec/info request once the document is valid again", async () => {
    const text = readFileSync(file, "utf8");
    const wait = nextDiagnostics();
    conn.sendNotification("textDocument/didChange", { textDocument: { uri, version: 4 }, contentChanges: [{ text }] });
    await wait;
    expect(published.get(uri)).toEqual([]);
    const line = text.split("\n").findIndex((l) => l.includes("experts E[N]"));
    const h = await conn.sendRequest<{ contents: { value: string } }>("textDocument/hover", { textDocument: { uri }, position: { line, character: text.split("\n")[line]!.indexOf("E[N]") } });
    expect(h.contents.value).toContain("8 × ffn(hidden = 14336");
    const info = await conn.sendRequest<{ entry: string; json: { params: { total: number } } }>("moec/info", { uri, position: { line, character: 2 } });
    expect(info.entry).toBe("mixtral_moe");
    // 8 × 3 × 14336 × 4096 + 8 × 4096
    expect(info.json.params.total).toBe(8 * 3 * 14336 * 4096 + 8 * 4096);
  });
});
