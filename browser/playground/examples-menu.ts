// The #examples menu: every example of examples/ (embedded at build time by
// scripts/build-playground.mjs, plugin examples left out) by path, and the run sizes an example's
// header suggests in a `moec run FILE … --tokens T --set A=1 B=2` comment.
import examples from "moec:examples";

export const exampleSources: Record<string, string> = examples;

export function fillExamplesMenu(select: HTMLSelectElement): void {
  for (const file of Object.keys(exampleSources)) {
    const opt = document.createElement("option");
    opt.value = file;
    opt.textContent = file.replace(/^\/examples\//, "");
    select.append(opt);
  }
}

/** The `--set` words and `--tokens` of the first `moec run` line in the example's leading comments. */
export function suggestedRun(source: string): { set?: string; tokens?: number } {
  for (const line of source.split("\n").slice(0, 16)) {
    if (!line.startsWith("//")) break;
    const m = /\bmoec run \S+(.*)$/.exec(line);
    if (!m) continue;
    const words = m[1]!.trim().split(/\s+/);
    const out: { set?: string; tokens?: number } = {};
    for (let i = 0; i < words.length; i++) {
      if (words[i] === "--tokens" && /^\d+$/.test(words[i + 1] ?? "")) out.tokens = Number(words[++i]);
      if (words[i] === "--set") {
        const sets: string[] = [];
        while (/^\w+=\S+$/.test(words[i + 1] ?? "")) sets.push(words[++i]!);
        out.set = sets.join(" ");
      }
    }
    return out;
  }
  return {};
}
