// `moec lsp --stdio`: the language server for VS Code and any LSP editor.
import type { CommandSpec } from "../args.js";
import { parseArgs, UsageError } from "../args.js";
import type { CliIO } from "../output.js";

export const lspSpec: CommandSpec = {
  name: "lsp",
  summary: "run the language server (for editors)",
  usage: "moec lsp --stdio",
  positionals: { name: "", min: 0, max: 0 },
  flags: [
    { name: "stdio", type: "boolean", help: "talk LSP over standard input/output (the only transport)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
};

export async function runLsp(argv: string[], _io: CliIO): Promise<number> {
  const args = parseArgs(argv, lspSpec);
  if (!args.flags.stdio) throw new UsageError("the language server talks over stdio: run `moec lsp --stdio`");
  const { startLanguageServer } = await import("../../compiler/lsp/server.js");
  const connection = startLanguageServer();
  // Serve until the client closes the connection.
  await new Promise<void>((resolve) => connection.onExit(() => resolve()));
  return 0;
}
