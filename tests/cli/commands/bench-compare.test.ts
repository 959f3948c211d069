// `moec bench --compare`: the fine-vs-coarse layers of bench/fine-vs-coarse.moe run fused on one
// device against the first entry; every grain applies the same expert FLOPs per token (counted
// from the selections the GPU made), and the report carries the router/pool split.
import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { main } from "../../../cli/main.js";
import { itGpu } from "../../helpers/gpu-context.js";

const ROOT = path.resolve(__dirname, "../../..");

async function moec(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, cwd: ROOT });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("moec bench --compare", () => {
  itGpu("times every grain of bench/fine-vs-coarse.moe at equal expert FLOPs against the coarse baseline", async () => {
    const entries = "coarse,fine,atoms_product@token,rank1@dense";
    const r = await moec(["bench", "bench/fine-vs-coarse.moe", "--tokens", "3", "--set", "D=16", "--compare", entries, "--iterations", "2", "--warmup", "0", "--json"]);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { rows: { label: string; expertFlopsPerToken: number; routerFlopsPerToken: number; timeRatio: number; dispatches: number; breakdown?: { poolMs: number } }[] };
    expect(j.rows.map((x) => x.label)).toEqual(entries.split(","));
    for (const row of j.rows) expect(row.expertFlopsPerToken, row.label).toBe(2 * 3 * 16 * 512);
    expect(j.rows[0]!.timeRatio).toBe(1);
    // Routers: linear over 8 experts costs 2·8·D per token; product keys over 4,096 atoms 2·2·64·D.
    expect(j.rows[0]!.routerFlopsPerToken).toBe(2 * 8 * 16);
    expect(j.rows.find((x) => x.label === "atoms_product@token")!.routerFlopsPerToken).toBe(2 * 2 * 64 * 16);
    expect(j.rows.find((x) => x.label === "atoms_product@token")!.dispatches).toBeLessThanOrEqual(5);
    for (const row of j.rows) expect(row.breakdown!.poolMs).toBeGreaterThan(0);
  });

  it("rejects a single entry and an unknown schedule", async () => {
    expect((await moec(["bench", "bench/fine-vs-coarse.moe", "--tokens", "1", "--compare", "coarse"])).code).toBe(2);
    const r = await moec(["bench", "bench/fine-vs-coarse.moe", "--tokens", "1", "--compare", "coarse,fine@sideways"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown schedule `sideways`");
  });
});
