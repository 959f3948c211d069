// A loaded program's methods over its executor — run, forward, state, statistics — shared by
// Node's runtime (index.ts, which adds checkpoints, tokenizers and generation) and the browser's.
import type { IrProgram } from "../compiler/ir/ir.js";
import type { Executor, RunInfo, RoutingResult } from "./executor/types.js";
import type { RouterStats } from "./stats/router-stats.js";

export interface ExecutorProgram {
  readonly program: IrProgram;
  /** Runs on `tokens` tokens (inferred from the first input when omitted); outputs by name (`y`, or a record's keys). */
  run(inputs: Record<string, Float32Array | Int32Array> | Map<string, Float32Array | Int32Array>, tokens?: number): Promise<Record<string, Float32Array>>;
  readonly lastRunInfo: RunInfo | undefined;
  readonly lastRouting: Map<string, RoutingResult> | undefined;
  /** Routing statistics of the latest run, by router key (with `stats: true`). */
  readonly lastStats: Map<string, RouterStats> | undefined;
  /** Router state now (e_bias after its updates, …), by tensor name. */
  readState(): Promise<Map<string, Float32Array>>;
  /** Sets router state vectors by tensor name (e.g. `r.elastic_k`) for the next runs. */
  writeState(values: Map<string, ArrayLike<number>> | Record<string, ArrayLike<number>>): Promise<void>;
  /** A model: the logits [T, V] of token ids at positions 0…T−1 (LANGUAGE.md §13.1); with
   *  `lastLogits`, those of position T−1 only ([1, V]). */
  forward(ids: Int32Array | readonly number[]): Promise<Float32Array>;
  dispose(): void;
}

export function executorProgram(program: IrProgram, exec: Executor): ExecutorProgram {
  return {
    program,
    get lastRunInfo() { return exec.lastRunInfo; },
    get lastRouting() { return exec.lastRouting; },
    get lastStats() { return exec.lastStats; },
    readState: () => exec.readState(),
    writeState: (v) => exec.writeState(v instanceof Map ? v : new Map(Object.entries(v))),
    async run(inputs, tokens) {
      const map = inputs instanceof Map ? inputs : new Map(Object.entries(inputs));
      let T = tokens;
      if (T === undefined) {
        const first = program.inputs[0];
        const v = first && map.get(first.name);
        if (!first || !v) throw new TypeError(`run() needs the input \`${first?.name ?? "x"}\``);
        const width = program.values[first.value]!.dtype === "i32" ? 1 : program.values[first.value]!.width;
        T = v.length / width;
      }
      const out = await exec.run(map, T);
      return Object.fromEntries(out);
    },
    async forward(ids) {
      const input = program.inputs[0];
      if (!program.model || program.inputs.length !== 1 || program.values[input!.value]!.dtype !== "i32") {
        throw new TypeError(`forward() runs a model over token ids; \`${program.entry}\` is not one (use run())`);
      }
      const data = ids instanceof Int32Array ? ids : Int32Array.from(ids);
      const out = await exec.run(new Map([[input!.name, data]]), data.length);
      return out.get(program.outputs[0]!.name)!;
    },
    dispose: () => exec.dispose(),
  };
}
