// Agent i's weights from one safetensors file holding the whole graph (§11: names prefixed `i.`):
// the file's tensors under `i.` are bound to the agent's program under its own names.
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { SafetensorsError } from "../../safetensors/errors.js";
import { readSafetensors } from "../../safetensors/reader.js";
import { bindWeights, type BindResult } from "../../weights/bind-weights.js";

export function loadAgentWeights(program: IrProgram, file: string, agent: number): BindResult {
  let f;
  try {
    f = readSafetensors(file);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    return { ok: false, errors: [{ tensor: e.tensor ?? "", message: e.message }] };
  }
  const prefix = `${agent}.`;
  const tensors = new Map([...f.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t] as const));
  const r = bindWeights(program, { label: file, tensors });
  return r.ok ? r : { ok: false, errors: r.errors.map((x) => ({ ...x, tensor: prefix + x.tensor, message: x.tensor ? x.message.replace(x.tensor, prefix + x.tensor) : x.message })) };
}
