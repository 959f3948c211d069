// Whether a run's inputs and outputs fit in the host's memory, decided before anything is drawn:
// `--tokens 1048576` on a 4096-wide layer would otherwise spend minutes drawing 16 GiB of inputs
// before running out of memory. (The device side is runtime/executor/device-fit.ts's.)
import { totalmem } from "node:os";
import type { IrProgram } from "../compiler/ir/ir.js";
import { runIoBytes } from "../runtime/run-inputs.js";

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/** Why `copies` sets of the run's inputs and outputs cannot be held, in words; else undefined. */
export function hostRunProblem(program: IrProgram, tokens: number, copies = 1, hostBytes = totalmem()): string | undefined {
  const need = runIoBytes(program, tokens) * copies;
  // Half the machine: the weights, the adapter's buffers (a CPU adapter's live in host memory) and Node need the rest.
  if (need <= hostBytes / 2) return undefined;
  return `${tokens.toLocaleString("en-US")} tokens of \`${program.entry}\` need ${gib(need)} of host memory for the inputs and outputs alone, more than half of this machine's ${gib(hostBytes)}; run fewer tokens`;
}
