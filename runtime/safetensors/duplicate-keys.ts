// The first key that occurs twice in a JSON object's top level. JSON.parse keeps the last of
// duplicate keys silently, so a safetensors header naming one tensor twice would read as if the
// earlier entry were not there; the header is scanned for that before it is trusted.

/** The first duplicated top-level key of `text`, which must be valid JSON (JSON.parse accepted it). */
export function firstDuplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
      if (depth !== 1) continue;
      // A string at the top level of the object is a key when a colon follows it.
      let j = i + 1;
      while (text[j] === " " || text[j] === "\t" || text[j] === "\n" || text[j] === "\r") j++;
      if (text[j] !== ":") continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (seen.has(key)) return key;
      seen.add(key);
    } else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return undefined;
}
