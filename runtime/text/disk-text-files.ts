// TextFiles of a directory on disk (Node): `label/name` in messages, as path.join writes it.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { TextFiles } from "./text-files.js";

export function diskTextFiles(dir: string, label = dir): TextFiles {
  return {
    label,
    shown: (name) => path.join(label, name),
    exists: (name) => existsSync(path.join(dir, name)),
    readText: (name) => readFileSync(path.join(dir, name), "utf8"),
  };
}
