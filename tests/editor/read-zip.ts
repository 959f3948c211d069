// Reads a .zip (a .vsix is one) without external tools: the central directory, then each
// entry's data, stored or deflated. Used when the system has no `unzip`.
import { inflateRawSync } from "node:zlib";

export function readZip(data: Buffer): Map<string, Buffer> {
  // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 65_557); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip file (no end of central directory)");
  const count = data.readUInt16LE(eocd + 10);
  let at = data.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (data.readUInt32LE(at) !== 0x02014b50) throw new Error("corrupt central directory");
    const method = data.readUInt16LE(at + 10);
    const compressedSize = data.readUInt32LE(at + 20);
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    const localHeader = data.readUInt32LE(at + 42);
    const name = data.toString("utf8", at + 46, at + 46 + nameLength);
    const localNameLength = data.readUInt16LE(localHeader + 26);
    const localExtraLength = data.readUInt16LE(localHeader + 28);
    const start = localHeader + 30 + localNameLength + localExtraLength;
    const raw = data.subarray(start, start + compressedSize);
    if (!name.endsWith("/")) files.set(name, method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : unsupported(name, method));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

function unsupported(name: string, method: number): never {
  throw new Error(`${name}: zip compression method ${method} is not supported`);
}
