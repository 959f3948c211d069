// Where CLI output goes; tests substitute their own sinks.
export interface CliIO {
  out(text: string): void;
  /** Writes `text` to stdout as it is (no newline added): streamed output. Absent: `out` is used. */
  write?(text: string): void;
  err(text: string): void;
  color: boolean;
  cwd: string;
  /** A progress line that replaces the previous one (`done`: the last, ended with a newline);
   *  present only when stderr is a terminal, so piped runs stay quiet. */
  progress?(text: string, done?: boolean): void;
}

export function processIO(): CliIO {
  const tty = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : t + "\n"),
    write: (t) => void process.stdout.write(t),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : t + "\n"),
    color: tty,
    cwd: process.cwd(),
    ...(process.stderr.isTTY ? { progress: (t: string, done?: boolean) => void process.stderr.write(`\r\x1b[2K${t}${done ? "\n" : ""}`) } : {}),
  };
}

/** A status line (what is being done, how long it took): shown on a terminal only, so a piped or
 *  scripted run's stderr holds nothing but warnings and errors. */
export function statusLine(io: CliIO, text: string): void {
  if (io.progress) io.err(text);
}
