// Number formatting shared by reports, the CLI and the language server: exact counts with
// thousands separators, and short human forms (1.2B).

export function formatCount(n: number): string {
  const rounded = Number.isInteger(n) ? n : Math.round(n * 10) / 10;
  return rounded.toLocaleString("en-US");
}

export function humanCount(n: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
  for (const [v, s] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(n / v >= 100 ? 0 : n / v >= 10 ? 1 : 2)}${s}`;
  return String(Math.round(n));
}
