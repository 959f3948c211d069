// The playground's URL state: `#src=` is base64url of deflate-raw UTF-8, checked against
// node:zlib's own inflate/deflate (an independent implementation); links round-trip any text; a
// plain base64url `#src=` is read; a broken one is named, never a wrong program.
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeState, encodeState } from "../../../browser/playground/url-state.js";

const TEXT = "layer mixtral_moe(x: [T, D], D = 4096) {\n  // ünïcode ✓ — 𝔼 experts\n  return x\n}\n";
const b64url = (b: Buffer) => b.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

describe("playground URL state", () => {
  it("#src= is base64url of the deflate-raw UTF-8 text, and &file= the path", async () => {
    const hash = await encodeState(TEXT, "/examples/a b.moe");
    const m = /^#src=([A-Za-z0-9_-]+)&file=(.*)$/.exec(hash);
    expect(m).not.toBeNull();
    const bytes = Buffer.from(m![1]!.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    expect(inflateRawSync(bytes).toString("utf8")).toBe(TEXT);
    expect(decodeURIComponent(m![2]!)).toBe("/examples/a b.moe");
  });

  it("reads what node:zlib wrote, and its own links back", async () => {
    expect(await decodeState(`#src=${b64url(deflateRawSync(Buffer.from(TEXT)))}&file=%2Fx.moe`)).toEqual({ source: TEXT, file: "/x.moe" });
    const big = "layer l(x: [T, D], D = 8) {\n  return x\n}\n".repeat(2000);
    expect(await decodeState(await encodeState(big, "/inline.moe"))).toEqual({ source: big, file: "/inline.moe" });
  });

  it("reads a plain base64url #src= (no compression)", async () => {
    expect(await decodeState(`#src=${b64url(Buffer.from(TEXT))}`)).toEqual({ source: TEXT, file: undefined });
  });

  it("no #src= is no program; a broken one is named", async () => {
    expect(await decodeState("")).toBeUndefined();
    expect(await decodeState("#other=1")).toBeUndefined();
    expect(await decodeState("#src=%%%")).toEqual({ error: expect.stringContaining("is not base64") });
    // Valid base64 of bytes that are neither deflate-raw nor UTF-8.
    expect(await decodeState(`#src=${b64url(Buffer.from([0xff, 0xfe, 0xfd]))}`)).toEqual({ error: expect.stringContaining("neither compressed nor UTF-8") });
  });
});
