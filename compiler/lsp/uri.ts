// file:// URIs ↔ paths (Node's url module does the escaping).
import { fileURLToPath, pathToFileURL } from "node:url";

export const URI = {
  fromPath(p: string): string {
    return pathToFileURL(p).href;
  },
  toPath(uri: string): string {
    return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
  },
};
