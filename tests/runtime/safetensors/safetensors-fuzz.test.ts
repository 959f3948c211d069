// Seeded fuzzing of the reader: valid files mutated at random (truncation, byte flips, header
// text edits, header length, offsets, shapes, dtypes). Every case must either parse — and then
// every accessor must work or throw SafetensorsError — or throw SafetensorsError. Anything else
// (RangeError, TypeError, SyntaxError, a hang) is a bug.
import { describe, expect, it } from "vitest";
import { SafetensorsError } from "../../../runtime/safetensors/errors.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { encodeSafetensors } from "../../../runtime/safetensors/writer.js";
import { rng as mulberry32 } from "../../helpers/random.js";


const rand = mulberry32(0x5afe7e45);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const BASES: Uint8Array[] = [
  encodeSafetensors({
    "E.w_up": { dtype: "F32", shape: [2, 3, 4], data: Array.from({ length: 24 }, (_, i) => i / 7) },
    "r.weight": { dtype: "F16", shape: [4, 4], data: Array.from({ length: 16 }, (_, i) => i - 8) },
    "g.bias": { dtype: "BF16", shape: [3], data: [1, -1, 0.5] },
  }, { format: "pt" }),
  encodeSafetensors({
    tokens: { dtype: "I64", shape: [5], data: [1, 2, 3, 2 ** 40, -1] },
    ids: { dtype: "I32", shape: [2, 2], data: [0, 1, 2, 3] },
    empty: { dtype: "F32", shape: [0, 8], data: [] },
  }),
  encodeSafetensors({ x: { dtype: "F32", shape: [], data: [42] } }),
];

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

type Mutator = (b: Uint8Array) => Uint8Array;
const MUTATORS: Record<string, Mutator> = {
  truncate: (b) => b.slice(0, int(b.length)),
  flipBytes: (b) => {
    const c = b.slice();
    for (let k = 1 + int(4); k > 0; k--) c[int(c.length)] = int(256);
    return c;
  },
  flipHeaderByte: (b) => {
    const c = b.slice();
    const n = new DataView(c.buffer).getUint32(0, true);
    c[8 + int(n)] = pick([...'{}[]:,"-.0123456789eE aFI\\'].map((ch) => ch.charCodeAt(0)).concat([0x80, 0xc3, 0xff, 0]));
    return c;
  },
  cutHeaderText: (b) => {
    const { rest } = header(b);
    const text = new TextDecoder().decode(b.subarray(8, 8 + new DataView(b.buffer, b.byteOffset).getUint32(0, true)));
    const i = int(text.length), j = i + int(10);
    return rebuild(null, rest, text.slice(0, i) + text.slice(j));
  },
  headerLength: (b) => {
    const c = b.slice();
    const dv = new DataView(c.buffer);
    const n = dv.getUint32(0, true);
    const choice = int(6);
    if (choice === 0) { dv.setUint32(0, 0xffffffff, true); dv.setUint32(4, 0xffffffff, true); }
    else if (choice === 1) dv.setUint32(4, 1 + int(1000), true);
    else if (choice === 2) dv.setUint32(0, c.length - 8 + 1 + int(100), true);
    else if (choice === 3) dv.setUint32(0, int(4), true);
    else if (choice === 4) dv.setUint32(0, 100_000_001, true);
    else dv.setUint32(0, Math.max(0, n + int(17) - 8), true);
    return c;
  },
  offsets: (b) => {
    const { json, rest } = header(b);
    const names = Object.keys(json).filter((k) => k !== "__metadata__");
    const t = json[pick(names)];
    const [begin, end] = t.data_offsets as [number, number];
    const other = json[pick(names)].data_offsets as [number, number];
    t.data_offsets = pick<unknown>([
      [end, begin], [-begin - 1, end], [begin, -1], [other[0], other[1]], [begin, end + 4 * (1 + int(3))],
      [begin + 1, end + 1], [pick(WEIRD_NUMBERS), pick(WEIRD_NUMBERS)], [begin], [begin, end, 0], "0,4", null,
      [other[0] + 1, other[0] + 1 + (end - begin)], [0, rest.length + 8],
    ]);
    return rebuild(json, rest);
  },
  shape: (b) => {
    const { json, rest } = header(b);
    const names = Object.keys(json).filter((k) => k !== "__metadata__");
    const t = json[pick(names)];
    t.shape = pick<unknown>([[pick(WEIRD_VALUES)], [...t.shape, pick(WEIRD_NUMBERS)], t.shape.slice(1), [2 ** 40, 2 ** 40], pick(WEIRD_VALUES), [[2]]]);
    return rebuild(json, rest);
  },
  dtype: (b) => {
    const { json, rest } = header(b);
    const names = Object.keys(json).filter((k) => k !== "__metadata__");
    json[pick(names)].dtype = pick<unknown>(["F64", "U8", "BOOL", "f32", "", "F16", "BF16", "I64", "I32", "F32", 4, null, ["F32"]]);
    return rebuild(json, rest);
  },
  entry: (b) => {
    const { json, rest } = header(b);
    const names = Object.keys(json);
    const choice = int(4);
    if (choice === 0) json[pick(names)] = pick(WEIRD_VALUES);
    else if (choice === 1) json["__metadata__"] = pick<unknown>([{ a: 1 }, [], "x", null, { a: "b" }, { __proto__: "x" }]);
    else if (choice === 2) delete json[pick(names)][pick(["dtype", "shape", "data_offsets"])];
    else json[`extra${int(3)}`] = { dtype: "F32", shape: [1], data_offsets: [int(12), int(24)] };
    return rebuild(json, rest);
  },
};

describe("safetensors reader fuzz", () => {
  it("either parses or throws SafetensorsError on 3,000 mutated files", () => {
    const names = Object.keys(MUTATORS);
    let parsed = 0, rejected = 0, accessorErrors = 0;
    for (let i = 0; i < 3000; i++) {
      const base = pick(BASES);
      let bytes = MUTATORS[names[i % names.length]!]!(base);
      // Sometimes stack a byte-level mutation on top (structural ones need a parseable base).
      if (rand() < 0.2 && bytes.length > 0) bytes = MUTATORS[pick(["truncate", "flipBytes"])]!(bytes);
      let f;
      try {
        f = readSafetensors(bytes, "fuzz.st");
      } catch (e) {
        if (!(e instanceof SafetensorsError)) throw new Error(`case ${i}: ${String(e)}`);
        expect(e.message.startsWith("fuzz.st: ")).toBe(true);
        rejected++;
        continue;
      }
      parsed++;
      for (const [name, t] of f.tensors) {
        expect(t.bytes.byteLength).toBe(t.shape.reduce((a, d) => a * d, 1) * { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 }[t.dtype]);
        for (const get of [f.getF32, f.getI32]) {
          try {
            get(name);
          } catch (e) {
            if (!(e instanceof SafetensorsError)) throw new Error(`case ${i}, tensor ${name}: ${String(e)}`);
            accessorErrors++;
          }
        }
      }
    }
    // Both outcomes must occur often, or the mutators are not exercising anything.
    expect(parsed).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(1000);
    expect(accessorErrors).toBeGreaterThan(0);
  });
});
