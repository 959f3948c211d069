// moec weight names (LANGUAGE.md §7) ↔ Hugging Face checkpoint names. The map follows the
// model's structure, not its spelling: a `repeat` stack's copies are `model.layers.(K+i)`; in a
// decoder layer the first norm is `input_layernorm`, the second `post_attention_layernorm`, the
// attention block `self_attn`, a dense FFN `mlp`, and the sparse block (a called layer, or pools
// written inline) the family's `block_sparse_moe`/`mlp` with `experts.j`, `gate` and shared
// experts. HF stores routed experts one module per expert; moec's stacked form `E.w_gate [N, I, D]`
// is member j's tensor at index j. Shared experts are stored concatenated along the hidden units.
import type { Instance } from "../semantic/instance.js";
import type { Owner } from "../semantic/values.js";
import { qkNormOf } from "../semantic/blocks.js";
import type { HfFamily, HfFamilyName } from "./families.js";
import { ATTENTION_NAMES, DENSE_PROJ, FAMILY_ALIASES, HF_FAMILIES } from "./families.js";

export interface MoecPart {
  name: string;
  shape: number[];
}

export interface HfTensor {
  /** The checkpoint's name: `model.layers.0.block_sparse_moe.experts.3.w1.weight`. */
  hf: string;
  shape: number[];
  /** The moec tensors it holds: one, or a shared pool's members concatenated along `axis`. */
  moec: MoecPart[];
  axis?: number;
  /** A routed expert's tensor: its place in moec's stacked form (`….E.w_gate`, index 3). */
  stacked?: { name: string; index: number };
  /** Router state (`e_score_correction_bias`), not a parameter in moec's counts. */
  state?: boolean;
}

export interface HfMap {
  family: HfFamily;
  tensors: HfTensor[];
}

export class HfMapError extends Error {}

export function resolveFamily(name: string): HfFamily {
  const f = FAMILY_ALIASES[name.toLowerCase()];
  if (!f) throw new HfMapError(`unknown Hugging Face family \`${name}\`; known: ${Object.keys(HF_FAMILIES).join(", ")}`);
  return HF_FAMILIES[f];
}

/** The family from the entry's name where it says (`mixtral_8x7b`, `qwen3_8b`), else from its
 *  structure; a dense family's name on a program with experts means that family's MoE sibling. */
export function detectFamily(inst: Instance, entryName: string): HfFamilyName {
  const n = entryName.toLowerCase();
  const owners = allOwners(inst);
  const sparse = owners.some((o) => o.category === "experts");
  const byName = ([
    ["mixtral", "mixtral"], ["olmoe", "olmoe"], ["qwen3_moe", "qwen3_moe"], ["qwen3", sparse ? "qwen3_moe" : "qwen3"],
    ["qwen2_moe", "qwen2_moe"], ["qwen2", sparse ? "qwen2_moe" : "qwen2"], ["qwen", "qwen2_moe"], ["deepseek", "deepseek"],
    ["mistral", sparse ? "mixtral" : "mistral"], ["llama", sparse ? "mixtral" : "llama"],
  ] as const).find(([key]) => n.includes(key));
  if (byName) return byName[1];
  if (owners.some((o) => o.info?.kind === "mla")) return "deepseek";
  if (owners.some((o) => o.category === "shared")) return owners.some((o) => o.category === "linear") ? "qwen2_moe" : "deepseek";
  const qk = owners.find((o) => o.info?.kind === "attention")?.info?.args[0] ?? {};
  if (qkNormOf(qk) === "full") return "olmoe";
  if (qkNormOf(qk) === "head") return sparse ? "qwen3_moe" : "qwen3";
  return sparse ? "mixtral" : "llama";
}

function allOwners(inst: Instance, out: Owner[] = []): Owner[] {
  out.push(...inst.owners);
  for (const c of inst.children) allOwners(c.instance, out);
  return out;
}

/** The whole checkpoint's tensors for a model entry, in the order moec lists its weights. */
export function hfMap(inst: Instance, family: HfFamily): HfMap {
  const out: HfTensor[] = [];
  if (inst.kind !== "Model") throw new HfMapError(`Hugging Face names are for whole models; \`${inst.name}\` is a ${inst.kind.toLowerCase()}`);
  const single = (cat: string) => inst.owners.filter((o) => o.category === cat);
  for (const o of inst.owners) {
    const hfPrefix = o.category === "embedding" ? "model.embed_tokens" : o.category === "norm" ? "model.norm" : o.category === "lm_head" ? "lm_head" : undefined;
    if (!hfPrefix || single(o.category).length > 1) throw unplaced(o.prefix, family, "at the top of the model (embed_tokens, norm, lm_head)");
    for (const t of o.members[0]!) out.push({ hf: `${hfPrefix}.${t.name}`, shape: t.shape, moec: [{ name: `${o.prefix}.${t.name}`, shape: t.shape }] });
  }
  for (const ch of inst.children) {
    if (!ch.copies) throw unplaced(ch.prefix, family, "at the top of the model; decoder layers are `repeat` stacks");
    for (let i = 0; i < ch.copies.count; i++) {
      const idx = ch.copies.start + i;
      decoderLayer(ch.instance, `${ch.prefix}.${idx}.`, `model.layers.${idx}.`, family, out);
    }
  }
  return { family, tensors: out };
}

function unplaced(name: string, family: HfFamily, where: string): HfMapError {
  return new HfMapError(`cannot place \`${name}\` in a ${family.name} checkpoint (${family.modeling}): expected ${where}`);
}

function decoderLayer(inst: Instance, moec: string, hf: string, family: HfFamily, out: HfTensor[]): void {
  const norms = inst.owners.filter((o) => o.category === "norm").sort((a, b) => a.span.start - b.span.start);
  if (norms.length > 2) throw unplaced(moec + norms[2]!.prefix, family, "two norms per decoder layer (input_layernorm, post_attention_layernorm)");
  const sparse = inst.owners.filter((o) => o.category === "experts" || o.category === "shared" || o.category === "router" || o.category === "linear");
  if (sparse.length && inst.children.length) throw unplaced(moec + sparse[0]!.prefix, family, `one sparse block per layer (\`${family.moeModule}\`)`);
  if (inst.children.length > 1) throw unplaced(moec + inst.children[1]!.prefix, family, `one sparse block per layer (\`${family.moeModule}\`)`);
  for (const o of inst.owners) {
    const m = moec + o.prefix;
    switch (o.category) {
      case "norm": {
        const name = norms.indexOf(o) === 0 ? "input_layernorm" : "post_attention_layernorm";
        for (const t of o.members[0]!) out.push({ hf: `${hf}${name}.${t.name}`, shape: t.shape, moec: [{ name: `${m}.${t.name}`, shape: t.shape }] });
        break;
      }
      case "attention": {
        const names = ATTENTION_NAMES[o.info?.kind ?? "attention"]!;
        for (const t of o.members[0]!) {
          const n = names[t.name];
          if (!n) throw unplaced(`${m}.${t.name}`, family, "an attention tensor of `self_attn`");
          out.push({ hf: `${hf}self_attn.${n}`, shape: t.shape, moec: [{ name: `${m}.${t.name}`, shape: t.shape }] });
        }
        break;
      }
      case "dense_ffn":
        for (const t of o.members[0]!) out.push({ hf: `${hf}mlp.${proj(DENSE_PROJ, t.name, `${m}.${t.name}`, family)}`, shape: t.shape, moec: [{ name: `${m}.${t.name}`, shape: t.shape }] });
        break;
      case "experts": case "shared": case "router": case "linear":
        break;
      default:
        throw unplaced(m, family, "norms, attention and an FFN in a decoder layer");
    }
  }
  if (sparse.length) sparseBlock(sparse, moec, `${hf}${family.moeModule}.`, family, out);
  const child = inst.children[0];
  if (child) {
    if (child.copies || child.instance.children.length) throw unplaced(moec + child.prefix, family, "a sparse block made of pools, a router and gates");
    sparseBlock(child.instance.owners, `${moec}${child.prefix}.`, `${hf}${family.moeModule}.`, family, out);
  }
}

/** `w_gate` → `w1.weight` (Mixtral) or `gate_proj.weight`; `b_gate` → `….bias`. */
function proj(names: Record<string, string>, tensor: string, full: string, family: HfFamily): string {
  const weight = names[tensor];
  if (weight) return `${weight}.weight`;
  const bias = names[tensor.replace(/^b_/, "w_")];
  if (tensor.startsWith("b_") && bias) return `${bias}.bias`;
  throw unplaced(full, family, "an FFN tensor (w_gate, w_up, w_down)");
}

function sparseBlock(owners: Owner[], moec: string, hf: string, family: HfFamily, out: HfTensor[]): void {
  if (family.dense && owners.length) throw unplaced(moec + owners[0]!.prefix, family, `a dense MLP: ${family.modeling} has no experts or routers`);
  for (const cat of ["experts", "router", "shared", "linear"]) {
    const same = owners.filter((o) => o.category === cat);
    if (same.length > 1) throw unplaced(moec + same[1]!.prefix, family, `one ${cat === "experts" ? "routed pool" : cat} per sparse block`);
  }
  for (const o of owners) {
    const m = moec + o.prefix;
    switch (o.category) {
      case "experts":
        o.members.forEach((member, j) => {
          for (const t of member) {
            const name = `${m}.${j}.${t.name}`;
            out.push({ hf: `${hf}experts.${j}.${proj(family.expert, t.name, name, family)}`, shape: t.shape, moec: [{ name, shape: t.shape }], stacked: { name: `${m}.${t.name}`, index: j } });
          }
        });
        break;
      case "router":
        for (const t of o.members[0]!) {
          const name = t.name === "e_bias" ? "e_score_correction_bias" : /^(weight|bias)$/.test(t.name) ? t.name : undefined;
          if (!name) throw unplaced(`${m}.${t.name}`, family, "a linear router (`gate.weight`)");
          out.push({ hf: `${hf}gate.${name}`, shape: t.shape, moec: [{ name: `${m}.${t.name}`, shape: t.shape }], ...(t.state ? { state: true } : {}) });
        }
        break;
      case "shared": {
        if (!family.shared) throw unplaced(m, family, `no shared experts: ${family.modeling} has none`);
        const first = o.members[0]!;
        for (const t of first) {
          if (t.name.startsWith("b_")) throw unplaced(`${m}.0.${t.name}`, family, "shared experts without biases, stored concatenated");
          // Concatenated along the hidden units: rows of w_gate/w_up, columns of w_down (§7).
          const axis = t.name === "w_down" ? 1 : 0;
          const shape = [...t.shape];
          shape[axis] = t.shape[axis]! * o.members.length;
          out.push({
            hf: `${hf}${family.shared.module}.${proj(DENSE_PROJ, t.name, `${m}.0.${t.name}`, family)}`, shape,
            moec: o.members.map((_, j) => ({ name: `${m}.${j}.${t.name}`, shape: t.shape })), axis,
          });
        }
        break;
      }
      case "linear":
        if (!family.shared?.gate) throw unplaced(m, family, `no gate besides the router: ${family.modeling} has none`);
        for (const t of o.members[0]!) out.push({ hf: `${hf}${family.shared.gate}.${t.name}`, shape: t.shape, moec: [{ name: `${m}.${t.name}`, shape: t.shape }] });
        break;
      default:
        throw unplaced(m, family, "pools, a router and gates in the sparse block");
    }
  }
}

/** Lookups both ways; a moec member of a concatenated shared expert maps to its HF tensor. */
export function nameIndex(map: HfMap): { toHf: Map<string, HfTensor>; fromHf: Map<string, HfTensor> } {
  const toHf = new Map<string, HfTensor>();
  const fromHf = new Map<string, HfTensor>();
  for (const t of map.tensors) {
    fromHf.set(t.hf, t);
    for (const p of t.moec) toHf.set(p.name, t);
  }
  return { toHf, fromHf };
}
