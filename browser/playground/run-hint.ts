// The run size an example suggests in its header: the `--tokens T` and `--set A=1 B=2` of its first
// `// … moec run FILE …` comment line, so a big layer runs small in the Run panel.
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
