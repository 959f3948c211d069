// The result of elaborating a layer, model or graph at concrete bindings: a tree of weight owners.
// Children are called layers (`let m = mixtral_moe(h)`), graph agents and `repeat` bodies; a child
// is shared between identical calls, so a 61-layer model costs one body's elaboration.
import type { Owner } from "./values.js";
import type { AttentionShape } from "./blocks.js";
import type { Span } from "../syntax/ast.js";

export interface ChildRef {
  /** Name under which the child's weights live (`m`, `0`, `layers`). */
  prefix: string;
  instance: Instance;
  /** `repeat N as NAME from K`: copies named `NAME.(K+i)`. */
  copies?: { count: number; start: number };
  span: Span;
  file: string;
}

export interface Instance {
  /** Layer/model/graph name. */
  name: string;
  kind: "Layer" | "Model" | "Graph" | "Repeat";
  owners: Owner[];
  children: ChildRef[];
  /** Attention blocks owned here, for attention FLOPs and KV-cache sizes. */
  attention: { owner: Owner; shape: AttentionShape }[];
}

export function emptyInstance(name: string, kind: Instance["kind"]): Instance {
  return { name, kind, owners: [], children: [], attention: [] };
}
