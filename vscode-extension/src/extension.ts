// The VS Code client: starts the moec language server over stdio and adds two commands. The
// server path and plugins are read from user settings only, never from workspace settings or
// files in the workspace (opening a folder must not choose what code runs).
import * as vscode from "vscode";
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";
import { INFO_REQUEST, infoParams, infoText } from "./info-request";
import { resolveServerLaunch, trustedPlugins } from "./server-launch";

let client: LanguageClient | undefined;
let infoChannel: vscode.OutputChannel | undefined;

/** A setting's value from the user (or machine) settings, ignoring workspace and folder values. */
function userSetting<T>(key: string): T | undefined {
  const inspected = vscode.workspace.getConfiguration("moec").inspect<T>(key);
  return inspected?.globalValue ?? inspected?.defaultValue;
}

function serverOptions(context: vscode.ExtensionContext): ServerOptions {
  const launch = resolveServerLaunch({
    serverPath: userSetting<string>("server.path"),
    extensionPath: context.extensionPath,
    baseDir: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
  });
  if (launch.kind === "bundled") return { module: launch.module, transport: TransportKind.stdio };
  return { command: launch.command, args: launch.args, transport: TransportKind.stdio };
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: "moe" }],
    initializationOptions: { plugins: trustedPlugins(userSetting<unknown>("plugins")) },
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.moe") },
  };
  // The id `moec` makes the client honour `moec.trace.server`.
  client = new LanguageClient("moec", "moec language server", serverOptions(context), clientOptions);
  await client.start();
}

async function restartServer(context: vscode.ExtensionContext): Promise<void> {
  const old = client;
  client = undefined;
  await old?.stop().catch(() => undefined);
  await startClient(context);
}

async function showInfo(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "moe") {
    void vscode.window.showInformationMessage("moec: open a .moe file and put the cursor inside a layer.");
    return;
  }
  if (!client) {
    void vscode.window.showErrorMessage("moec: the language server is not running (try “moec: Restart language server”).");
    return;
  }
  const { line, character } = editor.selection.active;
  const reply = await client.sendRequest(INFO_REQUEST, infoParams(editor.document.uri.toString(), line, character));
  infoChannel ??= vscode.window.createOutputChannel("moec info", "markdown");
  infoChannel.clear();
  infoChannel.appendLine(infoText(reply));
  infoChannel.show(true);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("moec.showInfo", showInfo),
    vscode.commands.registerCommand("moec.restartServer", () => restartServer(context)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("moec.server.path") || e.affectsConfiguration("moec.plugins")) void restartServer(context);
    }),
  );
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
