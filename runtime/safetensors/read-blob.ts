// Reads a safetensors file held in a Blob (a browser's File, or a fetch response's body) in
// slices: the header first, validated by parse.ts exactly as for files on disk, then each
// tensor's bytes on their own — the Blob is never read whole into one buffer.
import { MAX_HEADER_BYTES, parseHeader, parseSafetensors, type ByteSource, type SafetensorsFile } from "./parse.js";
import { SafetensorsError } from "./errors.js";

const bytesOf = async (blob: Blob, start: number, end: number): Promise<Uint8Array> => new Uint8Array(await blob.slice(start, end).arrayBuffer());

/** Parses the safetensors file in `blob`; `label` names it in messages (a File's name by default). */
export async function readSafetensorsBlob(blob: Blob, label = (blob as { name?: string }).name ?? "<blob>"): Promise<SafetensorsFile> {
  const size = blob.size;
  const first = await bytesOf(blob, 0, Math.min(size, 8));
  let headerEnd = first.length;
  if (first.length === 8) {
    const dv = new DataView(first.buffer, first.byteOffset, 8);
    const headerLen = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
    // A length over the limit is refused by parseHeader before the header is read; don't fetch it.
    headerEnd = Math.min(size, 8 + Math.min(headerLen, MAX_HEADER_BYTES));
  }
  const head = headerEnd > first.length ? await bytesOf(blob, 0, headerEnd) : first;
  const fromHead: ByteSource = {
    size,
    read(offset, length) {
      if (offset + length > head.length) throw new SafetensorsError(label, `${label}: read past the header (${offset}+${length}).`);
      return head.subarray(offset, offset + length);
    },
  };
  const { ranges, dataStart } = parseHeader(fromHead, label);
  // Every range is checked; read each tensor's slice, then assemble the file from them.
  // Keyed by offset and length: an empty tensor may begin where the next one does.
  const slices = new Map<string, Uint8Array>();
  for (const r of ranges) slices.set(`${dataStart + r.begin}:${r.end - r.begin}`, await bytesOf(blob, dataStart + r.begin, dataStart + r.end));
  return parseSafetensors({
    size,
    read(offset, length) {
      if (offset + length <= head.length) return head.subarray(offset, offset + length);
      const slice = slices.get(`${offset}:${length}`);
      if (!slice) throw new SafetensorsError(label, `${label}: unexpected read at byte ${offset} (${length} bytes).`);
      return slice;
    },
  }, label);
}
