// A Hugging Face checkpoint's tensors (hf-layout.ts) as a program's canonical weights, through
// moec's name map (compiler/hf/map.ts: hfMap + nameIndex): a routed expert's tensor goes to slot
// `stacked.index` of the stacked [N, …] tensor, a shared-experts MLP is cut along `axis` into its
// members. Every canonical tensor must be filled and every checkpoint tensor used, so a wrong or
// missing name in the map fails here. (The checkpoint loader will replace this for real use.)
import type { IrProgram } from "../../compiler/ir/ir.js";
import { hfMap, nameIndex, resolveFamily } from "../../compiler/hf/map.js";
import type { HfFamilyName } from "../../compiler/hf/families.js";
import type { Instance } from "../../compiler/semantic/instance.js";
import { canonicalLayout } from "../../runtime/weights/canonical-layout.js";
import type { HfWeights } from "./hf-layout.js";

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function canonicalFromHf(program: IrProgram, instance: Instance, family: HfFamilyName, hf: HfWeights): Map<string, Float32Array> {
  const layout = canonicalLayout(program);
  const out = new Map<string, Float32Array>();
  const filled = new Map<string, number>(); // canonical name → elements written
  for (const t of [...layout.tensors, ...layout.poolTensors]) out.set(t.name, new Float32Array(size(t.shape)));
  const write = (name: string, at: number, data: Float32Array, from: string) => {
    const dst = out.get(name);
    if (!dst) throw new Error(`${from} maps to ${name}, which the program does not have`);
    if (at + data.length > dst.length) throw new Error(`${from} does not fit ${name} at ${at}`);
    dst.set(data, at);
    filled.set(name, (filled.get(name) ?? 0) + data.length);
  };

  const map = hfMap(instance, resolveFamily(family));
  const used = new Set<string>();
  for (const t of nameIndex(map).fromHf.values()) {
    const src = hf.get(t.hf);
    if (!src) throw new Error(`the checkpoint has no ${t.hf} (moec ${t.moec.map((p) => p.name).join(", ")})`);
    if (src.shape.join() !== t.shape.join()) throw new Error(`${t.hf}: checkpoint [${src.shape}] but the map expects [${t.shape}]`);
    used.add(t.hf);
    if (t.stacked) {
      write(t.stacked.name, t.stacked.index * src.data.length, src.data, t.hf);
      continue;
    }
    t.moec.forEach((part, j) => {
      const data = t.axis === undefined ? src.data : sliceAlong(src.data, src.shape, t.axis, j, part.shape[t.axis]!);
      if (out.has(part.name)) return write(part.name, 0, data, t.hf);
      // A shared pool's member `S.j.w_up` lives in the stacked `S.w_up` at slot j.
      const m = /^(.*)\.(\d+)\.([^.]+)$/.exec(part.name);
      if (!m) throw new Error(`${t.hf}: no canonical tensor for ${part.name}`);
      write(`${m[1]}.${m[3]}`, Number(m[2]) * data.length, data, t.hf);
    });
  }
  const unused = [...hf.keys()].filter((n) => !used.has(n));
  if (unused.length) throw new Error(`checkpoint tensors the map does not place: ${unused.join(", ")}`);
  const unfilled = [...out].filter(([n, a]) => filled.get(n) !== a.length).map(([n]) => n);
  if (unfilled.length) throw new Error(`canonical tensors not (fully) filled from the checkpoint: ${unfilled.join(", ")}`);
  return out;
}

/** Part j (width `w` along `axis`) of a row-major 2-D tensor. */
function sliceAlong(a: Float32Array, shape: number[], axis: number, j: number, w: number): Float32Array {
  const [rows, cols] = shape as [number, number];
  if (axis === 0) return a.slice(j * w * cols, (j + 1) * w * cols);
  const out = new Float32Array(rows * w);
  for (let r = 0; r < rows; r++) out.set(a.subarray(r * cols + j * w, r * cols + (j + 1) * w), r * w);
  return out;
}
