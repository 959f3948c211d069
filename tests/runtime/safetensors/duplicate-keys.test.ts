// Duplicate tensor names in a safetensors header: the top-level key scanner, and the reader's
// named error (JSON.parse alone would keep the last entry silently).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { firstDuplicateKey } from "../../../runtime/safetensors/duplicate-keys.js";
import { openSafetensors, readSafetensors, SafetensorsError } from "../../../runtime/safetensors/index.js";

describe("firstDuplicateKey", () => {
  it("finds a top-level key given twice, not nested keys that repeat across entries", () => {
    expect(firstDuplicateKey('{"a":{"dtype":"F32"},"b":{"dtype":"F32"}}')).toBeUndefined();
    expect(firstDuplicateKey('{"a":1, "b":2 , "a" :3}')).toBe("a");
    expect(firstDuplicateKey('{"x":{"y":1,"y":2}}')).toBeUndefined();
  });
  it("reads keys through escapes: \\\"a\\\\\\\"b\\\" and its \\\\u form are the same key; string values are not keys", () => {
    expect(firstDuplicateKey('{"a\\"b":1,"a\\u0022b":2}')).toBe('a"b');
    expect(firstDuplicateKey('{"k":"a","a":"k"}')).toBeUndefined();
    expect(firstDuplicateKey('{"k":["a:","{"],"j":"}"}')).toBeUndefined();
  });
});

/** A safetensors file with `header` as its JSON and `dataBytes` zero bytes of data. */
function file(header: string, dataBytes: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-dup-"));
  const json = Buffer.from(header);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const f = path.join(dir, "d.safetensors");
  fs.writeFileSync(f, Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]));
  return f;
}

describe("the reader", () => {
  const entry = (a: number, b: number) => `{"dtype":"F32","shape":[1],"data_offsets":[${a},${b}]}`;
  it("refuses a header naming one tensor twice, by name (readSafetensors and openSafetensors)", () => {
    const f = file(`{"w":${entry(0, 4)},"w":${entry(4, 8)}}`, 8);
    for (const read of [readSafetensors, openSafetensors]) {
      let caught: unknown;
      try {
        read(f);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SafetensorsError);
      expect((caught as Error).message).toBe(`${f}: header names tensor "w" twice (a JSON reader would keep only the last).`);
    }
    fs.rmSync(path.dirname(f), { recursive: true, force: true });
  });
  it("still reads distinct names", () => {
    const f = file(`{"v":${entry(0, 4)},"w":${entry(4, 8)}}`, 8);
    expect([...readSafetensors(f).tensors.keys()].sort()).toEqual(["v", "w"]);
    fs.rmSync(path.dirname(f), { recursive: true, force: true });
  });
});
