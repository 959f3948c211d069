// `moec playground [--port N]`: serves the playground page (dist/playground/, built by
// `npm run build`) on 127.0.0.1 until interrupted, and prints its URL.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { CommandSpec } from "../args.js";
import { parseArgs, UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import { PlaygroundServerError, startPlaygroundServer } from "../playground/static-server.js";

export const DEFAULT_PLAYGROUND_PORT = 8737;

export const playgroundSpec: CommandSpec = {
  name: "playground",
  summary: "serve the playground page (editor, info, diagram, run in the browser) on 127.0.0.1",
  usage: "moec playground [--port N]",
  positionals: { name: "", min: 0, max: 0 },
  details:
    "Serves dist/playground/ (built by `npm run build`) at http://127.0.0.1:N/ until Ctrl-C, and prints the URL.\n" +
    "It listens on the loopback address only and answers only requests addressed to it. See docs/playground.md.",
  flags: [
    { name: "port", type: "string", value: "N", help: `the port (default ${DEFAULT_PLAYGROUND_PORT}; 0 picks a free one)` },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
};

/** dist/playground of the moec package this file belongs to (from dist/cli/… or cli/… alike). */
export function playgroundDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "moec") return path.join(dir, "dist/playground");
    const up = path.dirname(dir);
    if (up === dir) throw new Error("moec's package.json was not found above the CLI");
    dir = up;
  }
}

function portFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PLAYGROUND_PORT;
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`--port takes a port number from 0 to 65535, found \`${value}\``);
  return Number(value);
}

export async function runPlayground(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, playgroundSpec);
  const port = portFlag(args.flags.port as string | undefined);
  let server;
  try {
    server = await startPlaygroundServer(playgroundDir(), port);
  } catch (e) {
    if (!(e instanceof PlaygroundServerError)) throw e;
    io.err(`moec playground: ${e.message}`);
    return 1;
  }
  io.out(`moec playground: serving ${server.url} (Ctrl-C stops)`);
  // Serve until interrupted; then close cleanly so the exit status is 0.
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return 0;
}
