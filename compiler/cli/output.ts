// Where CLI output goes; tests substitute their own sinks.
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  color: boolean;
  cwd: string;
}

export function processIO(): CliIO {
  const tty = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : t + "\n"),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : t + "\n"),
    color: tty,
    cwd: process.cwd(),
  };
}

export function formatCount(n: number): string {
  const rounded = Number.isInteger(n) ? n : Math.round(n * 10) / 10;
  return rounded.toLocaleString("en-US");
}

export function humanCount(n: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
  for (const [v, s] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(n / v >= 100 ? 0 : n / v >= 10 ? 1 : 2)}${s}`;
  return String(Math.round(n));
}
