// The moec language server (`moec lsp --stdio`). Diagnostics are recomputed after a short pause
// in typing; a newer edit supersedes older pending work, so stale results are never published.
// Plugins load only from the trusted configuration the client sends at start-up (never because
// a file was opened: opening a file must not run code).
import * as path from "node:path";
import type { Connection, InitializeParams, InitializeResult, TextDocumentChangeEvent } from "vscode-languageserver/node.js";
import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, ResponseError, ErrorCodes } from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { SourceHost } from "../semantic/module-loader.js";
import { fsHost } from "../driver.js";
import type { Analysis } from "./analysis.js";
import { analyze, toRange } from "./analysis.js";
import { URI } from "./uri.js";
import { lspDiagnostics } from "./features/diagnostics.js";
import { hover } from "./features/hover.js";
import { definition, references, rename, prepareRename, RenameError } from "./features/navigation.js";
import { documentSymbols } from "./features/document-symbols.js";
import { completion } from "./features/completion.js";
import { signatureHelp } from "./features/signature-help.js";
import { semanticTokens, legend } from "./features/semantic-tokens.js";
import { quickFixes } from "./features/code-actions.js";
import type { InfoParams } from "./features/info-request.js";
import { infoAt } from "./features/info-request.js";
import { VERSION } from "../version.js";
import type { Registry } from "../../stdlib/registry.js";
import { loadPlugins } from "../plugins/loader.js";

export interface ServerOptions {
  connection?: Connection;
  /** Milliseconds to wait after an edit before checking (default 150). */
  debounceMs?: number;
}

export function startLanguageServer(opts: ServerOptions = {}): Connection {
  const connection = opts.connection ?? createConnection(ProposedFeatures.all);
  const documents = new TextDocuments(TextDocument);
  const debounceMs = opts.debounceMs ?? 150;
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  const generation = new Map<string, number>();
  const cache = new Map<string, { version: number; analysis: Analysis }>();

  // Open buffers take precedence over the files on disk, for imports too.
  const host: SourceHost = {
    readFile(file) {
      const doc = documents.get(URI.fromPath(file));
      return doc ? doc.getText() : fsHost.readFile(file);
    },
    problem: (file) => (documents.get(URI.fromPath(file)) ? undefined : fsHost.problem?.(file)),
  };

  const analysisFor = (uri: string): Analysis | undefined => {
    const doc = documents.get(uri);
    const file = URI.toPath(uri);
    const version = doc?.version ?? -1;
    const hit = cache.get(uri);
    if (hit && hit.version === version) return hit.analysis;
    if (!doc && !fsHost.readFile(file)) return undefined;
    const analysis = analyze(path.resolve(file), host, registry);
    cache.set(uri, { version, analysis });
    return analysis;
  };

  const publish = (uri: string) => {
    // Runs in a timer: an exception here would end the server, so it is logged instead.
    try {
      const a = analysisFor(uri);
      if (!a) return;
      void connection.sendDiagnostics({ uri, version: documents.get(uri)?.version, diagnostics: lspDiagnostics(a, a.file) });
    } catch (e) {
      connection.console.error(`moec: ${(e as Error).stack ?? e}`);
    }
  };

  const schedule = (e: TextDocumentChangeEvent<TextDocument>) => {
    const uri = e.document.uri;
    const gen = (generation.get(uri) ?? 0) + 1;
    generation.set(uri, gen);
    clearTimeout(pending.get(uri));
    pending.set(uri, setTimeout(() => {
      pending.delete(uri);
      if (generation.get(uri) !== gen) return; // superseded by a newer edit
      // A change may affect files that import this one: re-check the other open documents too.
      for (const d of documents.all()) if (d.uri === uri || cache.has(d.uri)) { cache.delete(d.uri); }
      for (const d of documents.all()) publish(d.uri);
    }, debounceMs));
  };

  // Plugins from the client's initializationOptions ({ plugins: string[] }, from trusted user
  // settings): loaded once at start-up; paths resolve from the workspace root. Load problems are
  // logged and shown once; the server then runs with the plugins that did load.
  let registry: Registry | undefined;
  connection.onInitialize(async (params: InitializeParams): Promise<InitializeResult> => {
    const wanted = (params.initializationOptions as { plugins?: unknown } | undefined)?.plugins;
    if (Array.isArray(wanted) && wanted.length) {
      const root = params.rootUri ? URI.toPath(params.rootUri) : (params.rootPath ?? process.cwd());
      const names = wanted.filter((p): p is string => typeof p === "string" && p.length > 0);
      const set = await loadPlugins(names.map((specifier) => ({ specifier, baseDir: root, requestedBy: "the editor's moec.plugins setting" })));
      registry = set.registry;
      const problems = set.diagnostics.map((d) => `${d.code}: ${d.message}`);
      if (problems.length) {
        connection.console.error(`moec: plugins: ${problems.join("; ")}`);
        void connection.window.showWarningMessage(`moec: ${problems.length} plugin problem${problems.length === 1 ? "" : "s"}: ${problems[0]}`);
      }
      connection.console.log(`moec: plugins loaded: ${set.plugins.map((p) => p.source).join(", ") || "none"}`);
    }
    return initializeResult();
  });
  const initializeResult = (): InitializeResult => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      definitionProvider: true,
      referencesProvider: true,
      renameProvider: { prepareProvider: true },
      documentSymbolProvider: true,
      completionProvider: { triggerCharacters: ["|", ">", "=", "(", ",", " "] },
      signatureHelpProvider: { triggerCharacters: ["(", ","] },
      semanticTokensProvider: { legend, full: true },
      codeActionProvider: { codeActionKinds: ["quickfix"] },
      documentFormattingProvider: true,
    },
    serverInfo: { name: "moec", version: VERSION },
  });

  documents.onDidChangeContent(schedule);
  documents.onDidClose((e) => {
    cache.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  const withAnalysis = <T>(uri: string, f: (a: Analysis) => T, fallback: T): T => {
    try {
      const a = analysisFor(uri);
      return a ? f(a) : fallback;
    } catch (e) {
      connection.console.error(`moec: ${(e as Error).stack ?? e}`);
      return fallback;
    }
  };

  connection.onHover((p) => withAnalysis(p.textDocument.uri, (a) => hover(a, p.position) ?? null, null));
  connection.onDefinition((p) => withAnalysis(p.textDocument.uri, (a) => definition(a, p.position) ?? null, null));
  connection.onReferences((p) => withAnalysis(p.textDocument.uri, (a) => references(a, p.position, p.context.includeDeclaration), []));
  connection.onPrepareRename((p) => withAnalysis(p.textDocument.uri, (a) => prepareRename(a, p.position) ?? null, null));
  connection.onRenameRequest((p) => {
    try {
      const a = analysisFor(p.textDocument.uri);
      if (!a) return null;
      return rename(a, p.position, p.newName) ?? null;
    } catch (e) {
      if (e instanceof RenameError) throw new ResponseError(ErrorCodes.InvalidParams, e.message);
      connection.console.error(`moec: ${(e as Error).stack ?? e}`);
      return null;
    }
  });
  connection.onDocumentSymbol((p) => withAnalysis(p.textDocument.uri, (a) => documentSymbols(a), []));
  connection.onCompletion((p) => withAnalysis(p.textDocument.uri, (a) => completion(a, p.position), []));
  connection.onSignatureHelp((p) => withAnalysis(p.textDocument.uri, (a) => signatureHelp(a, p.position) ?? null, null));
  connection.languages.semanticTokens.on((p) => withAnalysis(p.textDocument.uri, (a) => ({ data: semanticTokens(a) }), { data: [] }));
  connection.onCodeAction((p) => {
    try {
      return quickFixes(p.textDocument.uri, p.context.diagnostics);
    } catch (e) {
      connection.console.error(`moec: ${(e as Error).stack ?? e}`);
      return [];
    }
  });
  connection.onDocumentFormatting(async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const { formatMoe } = await import("../format/format-moe.js");
    try {
      const text = doc.getText();
      const formatted = await formatMoe(text, { filepath: URI.toPath(doc.uri), tabWidth: p.options.tabSize, useTabs: !p.options.insertSpaces });
      if (formatted === text) return [];
      const a = analysisFor(p.textDocument.uri);
      const end = a ? toRange(a.lines(a.file), { start: text.length, end: text.length }).end : doc.positionAt(text.length);
      return [{ range: { start: { line: 0, character: 0 }, end }, newText: formatted }];
    } catch {
      return []; // a file with syntax errors is left as it is; its diagnostics say why
    }
  });
  connection.onRequest("moec/info", (p: InfoParams) => withAnalysis(p.uri, (a) => infoAt(a, p.position, host), { markdown: "No .moe file." }));

  documents.listen(connection);
  connection.listen();
  return connection;
}
