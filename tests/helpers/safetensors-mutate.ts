// Mutations of safetensors files for the fuzz tests (the reader's own, checkpoint directories'
// shards): truncation, byte flips, header text edits, the header length, and JSON-aware edits of
// offsets, shapes, dtypes and entries. Each is a pure function of the bytes and a seeded Prng.
import type { Prng } from "./frontend/prng.js";

function header(b: Uint8Array): { json: Record<string, any>; rest: Uint8Array } {
  const n = new DataView(b.buffer, b.byteOffset).getUint32(0, true);
  return { json: JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))), rest: b.subarray(8 + n) };
}
function rebuild(json: unknown, rest: Uint8Array, rawHeader?: string): Uint8Array {
  const h = new TextEncoder().encode(rawHeader ?? JSON.stringify(json));
  const out = new Uint8Array(8 + h.length + rest.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(rest, 8 + h.length);
  return out;
}

const WEIRD_NUMBERS = [-1, -8, 0, 1, 3, 7, 1.5, 2 ** 31, 2 ** 32 + 4, 2 ** 53, 2 ** 64, 1e300, -0, NaN];
const WEIRD_VALUES: unknown[] = [null, "4", true, [], {}, [1, [2]], ...WEIRD_NUMBERS];

type Mutator = (b: Uint8Array, r: Prng) => Uint8Array;
export const SAFETENSORS_MUTATORS: Record<string, Mutator> = {
  truncate: (b, r) => b.slice(0, r.int(b.length)),
  flipBytes: (b, r) => {
    const c = b.slice();
    for (let k = 1 + r.int(4); k > 0; k--) c[r.int(c.length)] = r.int(256);
    return c;
  },
  flipHeaderByte: (b, r) => {
    const c = b.slice();
    const n = new DataView(c.buffer).getUint32(0, true);
    c[8 + r.int(n)] = r.pick([...'{}[]:,"-.0123456789eE aFI\\'].map((ch) => ch.charCodeAt(0)).concat([0x80, 0xc3, 0xff, 0]));
    return c;
  },
  cutHeaderText: (b, r) => {
    const { rest } = header(b);
    const text = new TextDecoder().decode(b.subarray(8, 8 + new DataView(b.buffer, b.byteOffset).getUint32(0, true)));
    const i = r.int(text.length), j = i + r.int(10);
    return rebuild(null, rest, text.slice(0, i) + text.slice(j));
  },
  headerLength: (b, r) => {
    const c = b.slice();
    const dv = new DataView(c.buffer);
    const n = dv.getUint32(0, true);
    const choice = r.int(6);
    if (choice === 0) { dv.setUint32(0, 0xffffffff, true); dv.setUint32(4, 0xffffffff, true); }
    else if (choice === 1) dv.setUint32(4, 1 + r.int(1000), true);
    else if (choice === 2) dv.setUint32(0, c.length - 8 + 1 + r.int(100), true);
    else if (choice === 3) dv.setUint32(0, r.int(4), true);
    else if (choice === 4) dv.setUint32(0, 100_000_001, true);
    else dv.setUint32(0, Math.max(0, n + r.int(17) - 8), true);
    return c;
  },
  offsets: (b, r) => {
    const { json, rest } = header(b);
    const names = Object.keys(json).filter((k) => k !== "__metadata__");
    const t = json[r.pick(names)];
    const [begin, end] = t.data_offsets as [number, number];
    const other = json[r.pick(names)].data_offsets as [number, number];
    t.data_offsets = r.pick<unknown>([
      [end, begin], [-begin - 1, end], [begin, -1], [other[0], other[1]], [begin, end + 4 * (1 + r.int(3))],
      [begin + 1, end + 1], [r.pick(WEIRD_NUMBERS), r.pick(WEIRD_NUMBERS)], [begin], [begin, end, 0], "0,4", null,
      [other[0] + 1, other[0] + 1 + (end - begin)], [0, rest.length + 8],
    ]);
    return rebuild(json, rest);
  },
  shape: (b, r) => {
    const { json, rest } = header(b);
    const names = Object.keys(json).filter((k) => k !== "__metadata__");
    const t = json[r.pick(names)];
    t.shape = r.pick<unknown>([[r.pick(WEIRD_VALUES)], [...t.shape, r.pick(WEIRD_NUMBERS)], t.shape.slice(1), [2 ** 40, 2 ** 40], r.pick(WEIRD_VALUES), [[2]]]);
    return rebuild(json, rest);
  },
  dtype: (b, r) => {
    const { json, rest } = header(b);
    const names = Object.keys(json).filter((k) => k !== "__metadata__");
    json[r.pick(names)].dtype = r.pick<unknown>(["F64", "U8", "BOOL", "f32", "", "F16", "BF16", "I64", "I32", "F32", 4, null, ["F32"]]);
    return rebuild(json, rest);
  },
  entry: (b, r) => {
    const { json, rest } = header(b);
    const names = Object.keys(json);
    const choice = r.int(4);
    if (choice === 0) json[r.pick(names)] = r.pick(WEIRD_VALUES);
    else if (choice === 1) json["__metadata__"] = r.pick<unknown>([{ a: 1 }, [], "x", null, { a: "b" }, { __proto__: "x" }]);
    else if (choice === 2) delete json[r.pick(names)][r.pick(["dtype", "shape", "data_offsets"])];
    else json[`extra${r.int(3)}`] = { dtype: "F32", shape: [1], data_offsets: [r.int(12), r.int(24)] };
    return rebuild(json, rest);
  },
};


/** One mutation chosen at random, sometimes with a byte-level one stacked on top. */
export function mutateSafetensors(bytes: Uint8Array, r: Prng, kind = r.pick(Object.keys(SAFETENSORS_MUTATORS))): Uint8Array {
  let out: Uint8Array;
  try {
    out = SAFETENSORS_MUTATORS[kind]!(bytes, r);
  } catch {
    // A structural mutation needs a header that parses; a file mutated once already may lack one.
    out = SAFETENSORS_MUTATORS["flipBytes"]!(bytes, r);
  }
  // Structural mutations need a parseable base, so they come first.
  if (r.next() < 0.2 && out.length > 0) out = SAFETENSORS_MUTATORS[r.pick(["truncate", "flipBytes"])]!(out, r);
  return out;
}
