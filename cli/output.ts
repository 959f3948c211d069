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
