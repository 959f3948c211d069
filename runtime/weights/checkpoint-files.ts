// The files of a checkpoint directory as whoever holds them reads them: Node from disk
// (checkpoint-dir.ts), a page from the Files a directory picker gave (browser/checkpoint.ts).
import type { LazySafetensorsFile } from "../safetensors/reader.js";
import type { TextFiles } from "../text/text-files.js";

export interface CheckpointFiles extends TextFiles {
  /** The safetensors file's header, each tensor read when asked for; throws SafetensorsError. */
  openSafetensors(name: string): LazySafetensorsFile;
}
