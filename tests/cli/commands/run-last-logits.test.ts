// `moec run MODEL --last-logits`: the output file holds `logits [1, V]`, equal to the last row of
// the same run without the flag (whose logits the executor tests hold to the float64 reference).
import { expect } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../../cli/main.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { describeGpu, itGpu } from "../../helpers/gpu-context.js";

const ROOT = path.resolve(__dirname, "../../..");

async function moec(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, cwd: ROOT });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describeGpu("moec run --last-logits", () => {
  itGpu("writes logits [1, V], the last row of the full logits", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-last-"));
    const run = ["run", "examples/models/mixtral_8x7b.moe", "--set", "V=48", "D=32", "L=2", "H=4", "KV=2", "N=4", "I=16", "--random-weights", "--input-ids", "5,1,4,1,3,9"];
    try {
      expect((await moec([...run, "--output", path.join(dir, "full.safetensors")])).code).toBe(0);
      const r = await moec([...run, "--last-logits", "--output", path.join(dir, "last.safetensors")]);
      expect(r.code).toBe(0);
      const full = readSafetensors(path.join(dir, "full.safetensors"));
      const last = readSafetensors(path.join(dir, "last.safetensors"));
      expect(full.tensors.get("logits")!.shape).toEqual([6, 48]);
      expect(last.tensors.get("logits")!.shape).toEqual([1, 48]);
      const want = full.getF32("logits").slice(5 * 48);
      const got = last.getF32("logits");
      for (let i = 0; i < 48; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-6);
      // Without --output the summary names the shape and the row it shows.
      const printed = await moec([...run, "--last-logits"]);
      expect(printed.out).toContain("logits: [1, 48] f32");
      expect(printed.out).toContain("token 5: [");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  itGpu("on a layer: an error naming the entry, exit 1", async () => {
    const r = await moec(["run", "examples/mixtral.moe", "--set", "D=16", "I=8", "--random-weights", "--tokens", "3", "--last-logits"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("moec run: lastLogits applies to a model; `");
  });
});
