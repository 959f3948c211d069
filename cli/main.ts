// `moec` command-line entry: dispatches to one command per file; never lets an exception escape
// as a stack trace (an internal error is reported as such, with a request to file it).
import type { CommandSpec } from "./args.js";
import { UsageError, formatHelp } from "./args.js";
import type { CliIO } from "./output.js";
import { processIO } from "./output.js";
import { checkSpec, runCheck } from "./commands/check.js";
import { infoSpec, runInfo } from "./commands/info.js";
import { irSpec, runIr } from "./commands/ir.js";
import { drawSpec, runDraw } from "./commands/draw.js";
import { lspSpec, runLsp } from "./commands/lsp.js";
import { fmtSpec, runFmt } from "./commands/fmt.js";
import { runSpec, runRun } from "./commands/run.js";
import { benchSpec, runBench } from "./commands/bench.js";
import { upcycleSpec, runUpcycle } from "./commands/upcycle.js";
import { pluginsSpec, runPlugins } from "./commands/plugins.js";
import { statsSpec, runStats } from "./commands/stats.js";
import { importSpec, runImport } from "./commands/import.js";
import { generateSpec, runGenerate } from "./commands/generate.js";
import { exportSpec, runExport } from "./commands/export.js";
import { quantizeSpec, runQuantize } from "./commands/quantize.js";
import { playgroundSpec, runPlayground } from "./commands/playground.js";
import { VERSION } from "../compiler/version.js";
import { didYouMean } from "../compiler/semantic/suggest.js";
import { escapeControl } from "../compiler/diagnostics/escape.js";

interface Command {
  spec: CommandSpec;
  run(argv: string[], io: CliIO): Promise<number>;
}

const commands: Command[] = [
  { spec: checkSpec, run: runCheck },
  { spec: infoSpec, run: runInfo },
  { spec: irSpec, run: runIr },
  { spec: drawSpec, run: runDraw },
  { spec: runSpec, run: runRun },
  { spec: benchSpec, run: runBench },
  { spec: upcycleSpec, run: runUpcycle },
  { spec: importSpec, run: runImport },
  { spec: exportSpec, run: runExport },
  { spec: quantizeSpec, run: runQuantize },
  { spec: generateSpec, run: runGenerate },
  { spec: fmtSpec, run: runFmt },
  { spec: lspSpec, run: runLsp },
  { spec: playgroundSpec, run: runPlayground },
  { spec: pluginsSpec, run: runPlugins },
  { spec: statsSpec, run: runStats },
];

export function registerCommand(c: Command): void {
  commands.push(c);
}


function mainHelp(): string {
  const w = Math.max(...commands.map((c) => c.spec.name.length));
  return [
    "moec — compiler and runtime for Mixture-of-Experts architectures",
    "",
    "Usage: moec COMMAND [ARGS]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.spec.name.padEnd(w)}  ${c.spec.summary}`),
    "",
    "`moec COMMAND --help` describes a command.",
    "Exit status: 0 ok, 1 errors in the input (each named, with its file and position), 2 usage errors,",
    "70 a bug in moec (the message asks you to report it, with the input that caused it).",
  ].join("\n");
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? commands.find((c) => c.spec.name === rest[0]) : undefined;
    io.out(topic ? formatHelp(topic.spec) : mainHelp());
    return 0;
  }
  if (name === "--version" || name === "-V") {
    io.out(`moec ${VERSION}`);
    return 0;
  }
  const cmd = commands.find((c) => c.spec.name === name);
  if (!cmd) {
    const hint = didYouMean(name, commands.map((c) => c.spec.name));
    io.err(`moec: unknown command \`${escapeControl(name)}\`${hint ? ` (${hint})` : ""}\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(formatHelp(cmd.spec));
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`moec ${name}: ${escapeControl(e.message)}\nRun \`moec ${name} --help\` for usage.`);
      return 2;
    }
    const err = e as Error;
    io.err(`moec ${name}: internal error: ${escapeControl(err?.message ?? String(e))}\nThis is a bug in moec; please report it with the input that caused it.${process.env.MOEC_DEBUG ? "\n" + err?.stack : ""}`);
    return 70;
  }
}
