// Protobuf encoding of ONNX's ModelProto (field numbers from onnx/onnx.proto): the wire primitives
// and a small graph builder (nodes, float/int initializers, typed inputs and outputs with fixed or
// symbolic dimensions). `moec export onnx` (ir-to-onnx.ts) writes its models with it, and the test
// oracles that ONNX Runtime runs (tests/helpers/onnx-model.ts, onnx-decoder.ts) build theirs.

export type Bytes = Uint8Array;

/** A varint; negative int64 values as 10-byte two's complement, as protobuf writes them. */
export function varint(n: number): number[] {
  if (!Number.isInteger(n)) throw new Error(`varint of ${n}`);
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

export const concat = (parts: Bytes[]): Bytes => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

const key = (field: number, wire: number): number[] => varint(field * 8 + wire);
export const fVarint = (field: number, v: number): Bytes => Uint8Array.from([...key(field, 0), ...varint(v)]);
export const fBytes = (field: number, b: Bytes): Bytes => concat([Uint8Array.from([...key(field, 2), ...varint(b.length)]), b]);
export const fString = (field: number, s: string): Bytes => fBytes(field, new TextEncoder().encode(s));
export const fFloat = (field: number, v: number): Bytes => concat([Uint8Array.from(key(field, 5)), new Uint8Array(Float32Array.of(v).buffer)]);

/** TensorProto.DataType */
export const enum ElemType {
  FLOAT = 1,
  INT32 = 6,
  INT64 = 7,
}

const enum AttrType {
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  INTS = 7,
}

/** An attribute value: an int, a float (`{ f }`), a string, or a list of ints. */
export type AttrValue = number | { f: number } | string | number[];

export function attribute(name: string, v: AttrValue): Bytes {
  if (typeof v === "string") return concat([fString(1, name), fBytes(4, new TextEncoder().encode(v)), fVarint(20, AttrType.STRING)]);
  if (Array.isArray(v)) return concat([fString(1, name), ...v.map((i) => fVarint(8, i)), fVarint(20, AttrType.INTS)]);
  if (typeof v === "object") return concat([fString(1, name), fFloat(2, v.f), fVarint(20, AttrType.FLOAT)]);
  return concat([fString(1, name), fVarint(3, v), fVarint(20, AttrType.INT)]);
}

/** A dimension: a size, or a symbolic name (`T`) that ONNX Runtime binds at run time. */
export type Dim = number | string;

export function valueInfo(name: string, dims: Dim[], elem: ElemType = ElemType.FLOAT): Bytes {
  // TensorShapeProto.Dimension: dim_value = 1, dim_param = 2.
  const shape = concat(dims.map((d) => fBytes(1, typeof d === "string" ? fString(2, d) : fVarint(1, d))));
  const tensorType = concat([fVarint(1, elem), fBytes(2, shape)]);
  return concat([fString(1, name), fBytes(2, fBytes(1, tensorType))]);
}

export function nodeProto(op: string, inputs: string[], outputs: string[], name: string, attrs: Record<string, AttrValue> = {}, domain = ""): Bytes {
  return concat([
    ...inputs.map((n) => fString(1, n)),
    ...outputs.map((n) => fString(2, n)),
    fString(3, name),
    fString(4, op),
    ...Object.entries(attrs).map(([k, v]) => fBytes(5, attribute(k, v))),
    ...(domain ? [fString(7, domain)] : []),
  ]);
}

/** TensorProto with raw little-endian data (f32, i32 or i64). */
function tensorProto(name: string, dims: number[], elem: ElemType, values: ArrayLike<number>): Bytes {
  const n = dims.reduce((a, d) => a * d, 1);
  if (values.length !== n) throw new Error(`initializer ${name}: [${dims.join(", ")}] needs ${n} values, got ${values.length}`);
  const raw =
    elem === ElemType.FLOAT ? (values instanceof Float32Array ? new Uint8Array(values.buffer, values.byteOffset, values.byteLength) : new Uint8Array(Float32Array.from(values).buffer))
    : elem === ElemType.INT32 ? new Uint8Array(Int32Array.from(values).buffer)
    : new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
  return concat([...dims.map((d) => fVarint(1, d)), fVarint(2, elem), fString(8, name), fBytes(9, raw)]);
}

/** ModelProto: IR version 8, the producer, the graph and its operator sets. */
export function modelProto(graph: Bytes, opsets: [string, number][], producer = { name: "moec-tests", version: "" }): Bytes {
  const opset = ([domain, version]: [string, number]): Bytes => concat([...(domain ? [fString(1, domain)] : []), fVarint(2, version)]);
  return concat([
    fVarint(1, 8), fString(2, producer.name), ...(producer.version ? [fString(3, producer.version)] : []),
    fBytes(7, graph), ...opsets.map((o) => fBytes(8, opset(o))),
  ]);
}

/** Builds a graph node by node; every node gets a fresh output name unless one is given. */
export class OnnxGraph {
  private nodes: Bytes[] = [];
  private inits: Bytes[] = [];
  private inputs: Bytes[] = [];
  private outputs: Bytes[] = [];
  private count = 0;
  private names = new Set<string>();

  /** Every value name is defined once (ONNX's SSA rule; ORT does not always say). */
  private define(name: string): string {
    if (this.names.has(name)) throw new Error(`onnx graph: ${name} is defined twice`);
    this.names.add(name);
    return name;
  }

  input(name: string, dims: Dim[], elem: ElemType = ElemType.FLOAT): string {
    this.inputs.push(valueInfo(this.define(name), dims, elem));
    return name;
  }

  output(name: string, dims: Dim[], elem: ElemType = ElemType.FLOAT): void {
    this.outputs.push(valueInfo(name, dims, elem));
  }

  /** A constant tensor; returns its name. */
  init(name: string, dims: number[], values: ArrayLike<number>, elem: ElemType = ElemType.FLOAT): string {
    this.inits.push(tensorProto(this.define(name), dims, elem, values));
    return name;
  }

  /** An int64 1-D constant (shapes, axes, split sizes). */
  ints(values: number[]): string {
    return this.init(`c${this.count++}`, [values.length], values, ElemType.INT64);
  }

  /** A float scalar constant. */
  scalar(v: number): string {
    return this.init(`c${this.count++}`, [], [v]);
  }

  /** One node with `outputs` results (names generated, or `out` for the first). */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, o: { domain?: string; outputs?: number; out?: string } = {}): string[] {
    const id = this.count++;
    const outs = Array.from({ length: o.outputs ?? 1 }, (_, i) => this.define(i === 0 && o.out ? o.out : `${op}_${id}_${i}`));
    this.nodes.push(nodeProto(op, inputs, outs, `${op}_${id}`, attrs, o.domain));
    return outs;
  }

  /** The single-output form of `op`. */
  one(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, o: { domain?: string; out?: string } = {}): string {
    return this.op(op, inputs, attrs, o)[0]!;
  }

  model(opsets: [string, number][] = [["", 17], ["com.microsoft", 1]], producer?: { name: string; version: string }): Bytes {
    const graph = concat([
      ...this.nodes.map((n) => fBytes(1, n)),
      fString(2, "moec_graph"),
      ...this.inits.map((t) => fBytes(5, t)),
      ...this.inputs.map((v) => fBytes(11, v)),
      ...this.outputs.map((v) => fBytes(12, v)),
    ]);
    return modelProto(graph, opsets, producer);
  }
}
