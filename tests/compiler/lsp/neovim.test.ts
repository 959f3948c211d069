// A real editor's LSP client: headless Neovim (Debian's 0.7) attaches `moec lsp --stdio` to a
// .moe buffer; we read back the diagnostics it received, a hover and the document symbols.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { itNeeding, type Need } from "../../helpers/needs.js";

const repo = path.resolve(__dirname, "../../..");
const nvim = spawnSync("nvim", ["--version"], { encoding: "utf8" });
const hasNvim = nvim.status === 0;
const nvimNeed: Need = { available: hasNvim, missing: "no nvim on PATH (.ci/run installs Debian's neovim: apt-get install neovim)" };

describe("Neovim's built-in LSP client", () => {
  it("is installed where CI runs (scripts/setup.sh installs it)", () => {
    if (process.env.CI) expect(hasNvim).toBe(true);
  });

  itNeeding(nvimNeed, "shows diagnostics on the right line, a pool's expert count on hover, and document symbols", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-nvim-"));
    const file = path.join(dir, "layer.moe");
    const src = [
      "// a Mixtral-style layer with a misspelt stage on line 5",
      "layer mixtral_moe(x: [T, D], D = 64, N = 8, I = 96) {",
      "  experts E[N] = ffn(hidden = I)",
      "  router r = linear |> softmax |> topk(2) |> renorm",
      "  router q = linear |> softmx |> topk(2)",
      "  return moe(x, r, E)",
      "}",
      "",
    ].join("\n");
    fs.writeFileSync(file, src);
    const out = path.join(dir, "out.json");
    const res = spawnSync("nvim", ["--headless", "--clean", "-u", "NONE", "-c", `luafile ${path.join(__dirname, "neovim/drive-lsp.lua")}`], {
      env: { ...process.env, MOE_FILE: file, MOE_OUT: out, NODE_BIN: process.execPath, MOEC_BIN: path.join(repo, "bin/moec.js"), HOVER_LINE: "2", HOVER_COL: "10" },
      timeout: 60_000,
      encoding: "utf8",
    });
    expect(res.error).toBeUndefined();
    const r = JSON.parse(fs.readFileSync(out, "utf8")) as {
      errors: string[]; diagnostics: { lnum: number; col: number; message: string; code: string }[];
      hover?: string; symbols: { name: string; line: number; children: string[] }[];
    };
    expect(r.errors).toEqual([]);
    // Line 5 of the file (0-based line 4), column of the misspelt `softmx` (0-based 23).
    const err = r.diagnostics.find((d) => d.code === "E0242");
    expect(err).toMatchObject({ lnum: 4, col: 23 });
    expect(err!.message).toContain("unknown router stage `softmx`");
    expect(r.hover).toContain("8 × ffn(hidden = 96");
    expect(r.symbols).toEqual([{ name: "mixtral_moe", line: 1, children: ["E", "r", "q"] }]);
  });
});
