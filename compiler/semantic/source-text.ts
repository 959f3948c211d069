// What counts as a `.moe` source, without a file system: its name, its size and its encoding.
// source-file.ts applies these to files on disk; a browser applies them to sources in memory.

/** A source larger than this is refused (the largest example is about 10 KB). */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

/** Whether a path names a `.moe` source by its extension. */
export function isMoePath(file: string): boolean {
  return /\.moe$/i.test(file);
}

/** A UTF-16/32 byte-order mark, or NUL bytes in more than 1 of 8 bytes: not a UTF-8 text file. */
export function encodingProblem(bytes: Uint8Array): string | undefined {
  const b = (i: number) => bytes[i] ?? -1;
  if ((b(0) === 0xff && b(1) === 0xfe) || (b(0) === 0xfe && b(1) === 0xff)) {
    return "it is UTF-16 encoded (it starts with a UTF-16 byte-order mark); .moe sources are UTF-8: convert it, e.g. `iconv -f UTF-16 -t UTF-8`";
  }
  if (b(0) === 0 && b(1) === 0 && b(2) === 0xfe && b(3) === 0xff) return "it is UTF-32 encoded; .moe sources are UTF-8";
  let nul = 0;
  for (const x of bytes) if (x === 0) nul++;
  if (nul > 0 && nul * 8 > bytes.length) {
    return `it is not UTF-8 text (${nul} of its ${bytes.length} bytes are NUL: UTF-16 without a byte-order mark, or a binary file); .moe sources are UTF-8`;
  }
  return undefined;
}

