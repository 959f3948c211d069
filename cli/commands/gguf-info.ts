// `moec info FILE.gguf`: a GGUF file's architecture and tensors — each tensor's ggml type, shape,
// and the memory it needs as stored (quantized) and dequantized (f32, as moec holds it today, and
// f16 with --dtype f16), with totals per type.
import type { CliIO } from "../output.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import { GgufError } from "../../runtime/weights/gguf/gguf-error.js";
import { openGguf } from "../../runtime/weights/gguf/gguf-file.js";

const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

export async function runGgufInfo(file: string, io: CliIO, opts: { json: boolean; allWeights: boolean }): Promise<number> {
  const shown = displayPath(file, io.cwd);
  let g;
  try {
    g = await openGguf(file, shown);
  } catch (e) {
    if (!(e instanceof GgufError)) throw e;
    io.err(`moec info: ${e.message}`);
    return 1;
  }
  const tensors = [...g.tensors.values()].map((t) => {
    const count = t.shape.reduce((a, d) => a * d, 1);
    return { name: t.name, type: t.type.name, shape: t.shape, bytes: t.byteLength, f32_bytes: 4 * count, f16_bytes: 2 * count };
  });
  const byType = new Map<string, { tensors: number; bytes: number; f32_bytes: number }>();
  for (const t of tensors) {
    const s = byType.get(t.type) ?? { tensors: 0, bytes: 0, f32_bytes: 0 };
    byType.set(t.type, { tensors: s.tensors + 1, bytes: s.bytes + t.bytes, f32_bytes: s.f32_bytes + t.f32_bytes });
  }
  const total = tensors.reduce((a, t) => ({ bytes: a.bytes + t.bytes, f32: a.f32 + t.f32_bytes, f16: a.f16 + t.f16_bytes }), { bytes: 0, f32: 0, f16: 0 });
  if (opts.json) {
    io.out(JSON.stringify({
      file: shown, gguf_version: g.version, architecture: g.architecture ?? null, alignment: g.alignment,
      bytes: total.bytes, dequantized_f32_bytes: total.f32, dequantized_f16_bytes: total.f16,
      by_type: Object.fromEntries(byType), tensors,
    }, null, 2));
    return 0;
  }
  const rows = [
    `${shown}: GGUF v${g.version}, architecture ${g.architecture ?? "(none)"}, ${tensors.length} tensors, alignment ${g.alignment}`,
    "",
    `  tensor data as stored      ${mb(total.bytes).padStart(12)}`,
    `  dequantized to f32 (load)  ${mb(total.f32).padStart(12)}  (moec dequantizes at load today: this is what the device holds)`,
    `  dequantized to f16         ${mb(total.f16).padStart(12)}  (with --dtype f16)`,
    "",
    "by type:",
    ...[...byType].map(([k, s]) => `  ${k.padEnd(5)} ${String(s.tensors).padStart(5)} tensors  ${mb(s.bytes).padStart(12)} stored  ${mb(s.f32_bytes).padStart(12)} as f32`),
    "",
    "tensors:",
  ];
  const list = opts.allWeights || tensors.length <= 100 ? tensors : tensors.slice(0, 40);
  const w = Math.max(0, ...list.map((t) => t.name.length));
  const sw = Math.max(0, ...list.map((t) => t.shape.join(", ").length + 2));
  for (const t of list) rows.push(`  ${t.name.padEnd(w)}  ${t.type.padEnd(5)}  ${`[${t.shape.join(", ")}]`.padEnd(sw)}  ${mb(t.bytes).padStart(11)}  (f32 ${mb(t.f32_bytes)})`);
  if (list.length < tensors.length) rows.push(`  … and ${tensors.length - list.length} more (--weights lists all, --json gives them as data)`);
  io.out(rows.join("\n"));
  return 0;
}
