// A strict, small XML parser for tests: elements, attributes (quoted, unique), text, comments,
// character and predefined entity references. Throws on anything not well-formed, so a test can
// tell that an SVG would load in a browser or an XML tool.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(s: string, at: number): string {
  return s.replace(/&([^;]*);|&/g, (m, ent: string | undefined) => {
    if (ent === undefined) throw new Error(`bare & near offset ${at}`);
    if (ent in ENTITIES) return ENTITIES[ent]!;
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(ent);
    if (num) return String.fromCodePoint(num[1]!.startsWith("x") ? parseInt(num[1]!.slice(1), 16) : Number(num[1]));
    throw new Error(`unknown entity ${m} near offset ${at}`);
  });
}

export function parseXml(text: string): XmlElement {
  let i = 0;
  const skipMisc = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text.startsWith("<?", i)) { const e = text.indexOf("?>", i); if (e < 0) throw new Error("unterminated <?"); i = e + 2; continue; }
      if (text.startsWith("<!--", i)) { const e = text.indexOf("-->", i); if (e < 0) throw new Error("unterminated comment"); i = e + 3; continue; }
      return;
    }
  };
  const element = (): XmlElement => {
    if (text[i] !== "<") throw new Error(`expected < at ${i}`);
    i++;
    const m = NAME.exec(text.slice(i));
    if (!m) throw new Error(`bad element name at ${i}`);
    const name = m[0];
    i += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      const ws = /^\s*/.exec(text.slice(i))![0].length;
      i += ws;
      if (text.startsWith("/>", i)) { i += 2; return { name, attrs, children: [] }; }
      if (text[i] === ">") { i++; break; }
      if (ws === 0) throw new Error(`expected whitespace before attribute at ${i}`);
      const a = NAME.exec(text.slice(i));
      if (!a) throw new Error(`bad attribute at ${i}`);
      i += a[0].length;
      if (text[i] !== "=") throw new Error(`expected = after ${a[0]} at ${i}`);
      i++;
      const q = text[i];
      if (q !== '"' && q !== "'") throw new Error(`unquoted attribute ${a[0]} at ${i}`);
      const end = text.indexOf(q, i + 1);
      if (end < 0) throw new Error("unterminated attribute");
      const raw = text.slice(i + 1, end);
      if (raw.includes("<")) throw new Error(`< in attribute ${a[0]}`);
      if (a[0] in attrs) throw new Error(`duplicate attribute ${a[0]} on <${name}>`);
      attrs[a[0]] = decode(raw, i);
      i = end + 1;
    }
    const children: (XmlElement | string)[] = [];
    for (;;) {
      if (i >= text.length) throw new Error(`<${name}> is not closed`);
      if (text.startsWith("</", i)) {
        i += 2;
        const m2 = NAME.exec(text.slice(i));
        if (!m2 || m2[0] !== name) throw new Error(`</${m2?.[0]}> closes <${name}> at ${i}`);
        i += m2[0].length;
        while (/\s/.test(text[i] ?? "")) i++;
        if (text[i] !== ">") throw new Error(`expected > at ${i}`);
        i++;
        return { name, attrs, children };
      }
      if (text.startsWith("<!--", i)) { const e = text.indexOf("-->", i); if (e < 0) throw new Error("unterminated comment"); i = e + 3; continue; }
      if (text[i] === "<") { children.push(element()); continue; }
      const next = text.indexOf("<", i);
      const end = next < 0 ? text.length : next;
      children.push(decode(text.slice(i, end), i));
      i = end;
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== text.length) throw new Error(`content after the root element at ${i}`);
  return root;
}

export function* walk(e: XmlElement): Generator<XmlElement> {
  yield e;
  for (const c of e.children) if (typeof c !== "string") yield* walk(c);
}

export function textOf(e: XmlElement): string {
  return e.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}
