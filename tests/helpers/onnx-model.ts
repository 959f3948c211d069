// A one-node ONNX graph with the com.microsoft.MoE contrib operator (opset 17 + com.microsoft 1),
// encoded with onnx-protobuf.ts, and the mapping from our stacked weights to its inputs.

import { attribute as attr, concat, fBytes, fString, fVarint, modelProto, valueInfo, type AttrValue, type Bytes } from "../../compiler/export/onnx/protobuf.js";

const attribute = (name: string, v: number | string, asFloat = false): Bytes => attr(name, (asFloat ? { f: v as number } : v) as AttrValue);

export interface OrtMoeSpec {
  tokens: number;
  hidden: number; // H = D
  inter: number; // I
  experts: number;
  k: number;
  activation: "swiglu" | "relu" | "silu" | "gelu" | "identity";
  normalize: boolean;
  bias: boolean;
}

/** ModelProto bytes of `output = MoE(input, router_probs, fc1, [fc1_bias], fc2, [fc2_bias])`. */
export function moeModel(s: OrtMoeSpec): Uint8Array {
  const fusion = s.activation === "swiglu" ? 2 : 1;
  const inputs: [string, number[]][] = [
    ["input", [s.tokens, s.hidden]],
    ["router_probs", [s.tokens, s.experts]],
    ["fc1_experts_weights", [s.experts, fusion * s.inter, s.hidden]],
    ...(s.bias ? ([["fc1_experts_bias", [s.experts, fusion * s.inter]]] as [string, number[]][]) : []),
    ["fc2_experts_weights", [s.experts, s.hidden, s.inter]],
    ...(s.bias ? ([["fc2_experts_bias", [s.experts, s.hidden]]] as [string, number[]][]) : []),
  ];
  const nodeInputs = ["input", "router_probs", "fc1_experts_weights", s.bias ? "fc1_experts_bias" : "", "fc2_experts_weights", ...(s.bias ? ["fc2_experts_bias"] : [])];
  const attrs = [
    attribute("activation_type", s.activation),
    attribute("k", s.k),
    attribute("normalize_routing_weights", s.normalize ? 1 : 0),
    ...(s.activation === "swiglu"
      ? [attribute("swiglu_fusion", 1), attribute("activation_alpha", 1, true), attribute("activation_beta", 0, true)]
      : []),
  ];
  const node = concat([
    ...nodeInputs.map((n) => fString(1, n)),
    fString(2, "output"),
    fString(3, "moe"),
    fString(4, "MoE"),
    ...attrs.map((a) => fBytes(5, a)),
    fString(7, "com.microsoft"),
  ]);
  const graph = concat([
    fBytes(1, node),
    fString(2, "moe_graph"),
    ...inputs.map(([n, d]) => fBytes(11, valueInfo(n, d))),
    fBytes(12, valueInfo("output", [s.tokens, s.hidden])),
  ]);
  return modelProto(graph, [["", 17], ["com.microsoft", 1]]);
}

/** fc1 for swiglu_fusion = 1: gate and up interleaved row by row (gate on even rows). */
export function interleaveGateUp(gate: Float32Array, up: Float32Array, E: number, I: number, D: number): Float32Array {
  const out = new Float32Array(E * 2 * I * D);
  for (let e = 0; e < E; e++) {
    for (let i = 0; i < I; i++) {
      out.set(gate.subarray((e * I + i) * D, (e * I + i + 1) * D), (e * 2 * I + 2 * i) * D);
      out.set(up.subarray((e * I + i) * D, (e * I + i + 1) * D), (e * 2 * I + 2 * i + 1) * D);
    }
  }
  return out;
}
