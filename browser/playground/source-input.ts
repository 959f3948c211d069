// What every panel compiles: the editor's text under its file name, the example sources it may
// import, and the toolbar's entry and `Set` overrides.
export interface SourceInput {
  source: string;
  file: string;
  files: Record<string, string>;
  entry?: string;
  set?: Record<string, string>;
}

/** `D=64 I=96` (spaces or commas between) as a record; a word without `NAME=VALUE` is named. */
export function parseSetText(text: string): { set: Record<string, string> } | { error: string } {
  const set: Record<string, string> = {};
  for (const word of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([A-Za-z_]\w*)=(\S+)$/.exec(word);
    if (!m) return { error: `Set takes NAME=VALUE words, found \`${word}\`` };
    set[m[1]!] = m[2]!;
  }
  return { set };
}
