// Runs the moec CLI in-process with captured output.
import { main } from "../../cli/main.js";

export async function moec(args: string[], cwd = process.cwd()): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => void (out += t.endsWith("\n") ? t : t + "\n"), err: (t) => void (err += t.endsWith("\n") ? t : t + "\n"), write: (t) => void (out += t), color: false, cwd });
  return { code, out, err };
}

export async function infoJson(args: string[]): Promise<any> {
  const r = await moec(["info", ...args, "--json"]);
  if (r.code !== 0) throw new Error(`moec info ${args.join(" ")} failed (${r.code}):\n${r.err}${r.out}`);
  return JSON.parse(r.out);
}
