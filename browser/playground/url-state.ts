// The program in the URL, so a link shares it: `#src=` + base64url of the UTF-8 text compressed
// with deflate-raw (CompressionStream), and `&file=` the path it is checked under (imports
// resolve from it). A `#src=` of plain base64url UTF-8 (no compression) is read too.
async function pipeBytes(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

export async function encodeState(source: string, file: string): Promise<string> {
  const packed = await pipeBytes(new TextEncoder().encode(source), new CompressionStream("deflate-raw"));
  return `#src=${toBase64Url(packed)}&file=${encodeURIComponent(file)}`;
}

/** The program a hash holds, or undefined (no `src`); `error` when `src` is there but unreadable. */
export async function decodeState(hash: string): Promise<{ source: string; file?: string } | { error: string } | undefined> {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const src = params.get("src");
  if (src === null) return undefined;
  const file = params.get("file") ?? undefined;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(src.replace(/ /g, "+"));
  } catch {
    return { error: "the link's #src= is not base64: the program could not be read from the URL" };
  }
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  try {
    return { source: utf8.decode(await pipeBytes(bytes, new DecompressionStream("deflate-raw"))), file };
  } catch {
    try {
      return { source: utf8.decode(bytes), file };
    } catch {
      return { error: "the link's #src= is neither compressed nor UTF-8 text: the program could not be read from the URL" };
    }
  }
}
