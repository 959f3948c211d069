// `moec run GRAPH.moe` for a decoding graph whose form has per-position logits (LANGUAGE.md §11.2:
// `mean`, `cascade`, a bare model): each agent's full forward over the ids on the GPU, combined
// per position on the host (runtime/generate/graphs/graph-logits.ts) and written as `logits`
// [T, V]. Other forms write continuations, not logits, and are refused by name.
import * as path from "node:path";
import { UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import type { DecodingGraph } from "../../compiler/ir/decoding-graph.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import type { HostWeights } from "../../runtime/weights/host-weights.js";
import { adapterName, withGpu } from "./gpu-commands.js";
import { writeOrPrintOutputs } from "./run-outputs.js";

/** `moec run` flags that belong to one program's run and mean nothing for a decoding graph. */
const PROGRAM_ONLY = ["weights-as", "state", "stats", "state-out", "last-logits", "update-state", "backend"];

/** What `moec run` has already parsed: the seed (weights and random ids), `--tokens`, `--dtype`. */
export interface RunGraphOptions {
  seed: number;
  tokens?: number;
  dtype: "f32" | "f16";
}

export async function runRunGraph(io: CliIO, f: Record<string, unknown>, graph: DecodingGraph, o: RunGraphOptions): Promise<number> {
  const agents = (await import("../../runtime/generate/graphs/graph-logits.js")).perPositionAgents(graph.form);
  if (!agents) {
    throw new UsageError(`\`${graph.name}\` is a \`${graph.form.kind}\` graph: it writes continuations and has no per-position logits (LANGUAGE.md §11.2; \`moec run\` takes \`mean\` and \`cascade\`); run it with \`moec generate\``);
  }
  for (const n of PROGRAM_ONLY) if (f[n] !== undefined && f[n] !== false) throw new UsageError(`--${n} does not apply to a decoding graph (\`${graph.name}\`)`);
  const rt = await import("../../runtime/index.js");
  const fail = (msg: string): number => (io.err(`moec run: ${msg}`), 1);
  const { seed, dtype } = o;
  const weightsFile = f.weights !== undefined ? path.resolve(io.cwd, f.weights as string) : undefined;
  if (weightsFile !== undefined && rt.isCheckpointDir(weightsFile)) {
    throw new UsageError(`a decoding graph's --weights is one safetensors file whose tensors are named \`I.…\` per agent (agent I's own checkpoint directory is \`moec generate --weights I=DIR\`)`);
  }

  // The ids, read once against the first agent's input, then checked against every agent's vocabulary.
  const first = graph.agents[agents[0]!]!.program;
  let ids: Int32Array, tokens: number;
  try {
    const inputs = f.input !== undefined ? rt.readInputs(first, path.resolve(io.cwd, f.input as string))
      : f["input-ids"] !== undefined ? rt.idInputs(first, f["input-ids"] as string)
      : rt.randomInputs(first, o.tokens!, seed);
    for (const name of inputs.ignored) io.err(`moec run: warning: the input file's tensor \`${name}\` is not an input of \`${graph.name}\`; ignored`);
    ids = inputs.values.values().next().value as Int32Array;
    tokens = inputs.tokens;
  } catch (e) {
    if (e instanceof rt.RunInputError) return fail(e.message);
    throw e;
  }
  for (const i of agents) {
    const a = graph.agents[i]!;
    const bad = ids.findIndex((id) => id >= a.embedVocab);
    if (bad >= 0) return fail(`token ${bad} is ${ids[bad]}, outside the vocabulary of agent ${i} (\`${a.model}\`, V = ${a.embedVocab})`);
  }

  const weights = new Map<number, HostWeights>();
  for (const i of agents) {
    const a = graph.agents[i]!;
    if (weightsFile === undefined) {
      weights.set(i, rt.randomWeights(a.program, seed, `${i}.`));
      continue;
    }
    const r = rt.loadAgentWeights(a.program, weightsFile, i);
    if (!r.ok) return fail(`the weights of agent ${i} (\`${a.model}\`) in ${displayPath(weightsFile, io.cwd)} do not fit:\n${r.errors.map((x) => "  - " + x.message).join("\n")}`);
    weights.set(i, r.weights);
  }

  return withGpu(io, "run", { adapter: f.adapter as string | undefined, requireF16: dtype === "f16" }, async (gpu) => {
    io.err(`moec run: \`${graph.name}\` (${graph.form.kind}): ${agents.length} agent${agents.length === 1 ? "" : "s"} on ${adapterName(gpu)}…`);
    const logits: Float32Array[] = [];
    for (const i of agents) {
      const a = graph.agents[i]!;
      const exec = await rt.createExecutor(gpu, a.program, weights.get(i)!, { dtype });
      try {
        const out = await exec.run(new Map([[a.program.inputs[0]!.name, ids]]), tokens);
        logits.push(out.get(a.program.outputs[0]!.name)!);
      } finally {
        exec.dispose();
      }
    }
    const combined = rt.graphLogits(graph.form, logits, tokens, graph.vocab);
    // Written as the first agent's output (`logits` [T, V]) under the graph's name.
    writeOrPrintOutputs(io, rt, { ...first, entry: graph.name }, new Map([[first.outputs[0]!.name, combined]]), tokens, f);
    return 0;
  });
}
