// A minimal protobuf encoder for ONNX ModelProto, enough to build a one-node graph with the
// com.microsoft.MoE contrib operator (opset 17 + com.microsoft 1), and the mapping from our
// stacked weights to its inputs. Field numbers follow onnx/onnx.proto.

type Bytes = Uint8Array;

function varint(n: number): number[] {
  if (n < 0 || !Number.isInteger(n)) throw new Error(`varint of ${n}`);
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const concat = (parts: Bytes[]): Bytes => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

const key = (field: number, wire: number): number[] => varint(field * 8 + wire);
const fVarint = (field: number, v: number): Bytes => Uint8Array.from([...key(field, 0), ...varint(v)]);
const fBytes = (field: number, b: Bytes): Bytes => concat([Uint8Array.from([...key(field, 2), ...varint(b.length)]), b]);
const fString = (field: number, s: string): Bytes => fBytes(field, new TextEncoder().encode(s));
const fFloat = (field: number, v: number): Bytes => concat([Uint8Array.from(key(field, 5)), new Uint8Array(Float32Array.of(v).buffer)]);

const enum AttrType {
  FLOAT = 1,
  INT = 2,
  STRING = 3,
}
const FLOAT_TENSOR = 1;

function attribute(name: string, v: number | string, asFloat = false): Bytes {
  if (typeof v === "string") return concat([fString(1, name), fBytes(4, new TextEncoder().encode(v)), fVarint(20, AttrType.STRING)]);
  if (asFloat) return concat([fString(1, name), fFloat(2, v), fVarint(20, AttrType.FLOAT)]);
  return concat([fString(1, name), fVarint(3, v), fVarint(20, AttrType.INT)]);
}

function valueInfo(name: string, dims: number[]): Bytes {
  const shape = concat(dims.map((d) => fBytes(1, fVarint(1, d))));
  const tensorType = concat([fVarint(1, FLOAT_TENSOR), fBytes(2, shape)]);
  return concat([fString(1, name), fBytes(2, fBytes(1, tensorType))]);
}

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
  const opset = (domain: string, version: number): Bytes => concat([...(domain ? [fString(1, domain)] : []), fVarint(2, version)]);
  return concat([fVarint(1, 8), fString(2, "moec-tests"), fBytes(7, graph), fBytes(8, opset("", 17)), fBytes(8, opset("com.microsoft", 1))]);
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
