// The SourceHost that reads `.moe` sources from disk (Node only): regular `.moe` files, bounded
// in size, through source-file.ts. The language server wraps it to prefer open buffers.
import type { SourceHost } from "./source-host.js";
import { readSourceFile } from "./source-file.js";

export const fsHost: SourceHost = {
  readFile(file) {
    const r = readSourceFile(file);
    return "text" in r ? r.text : undefined;
  },
  problem(file) {
    const r = readSourceFile(file);
    return "problem" in r ? r.problem : undefined;
  },
};
