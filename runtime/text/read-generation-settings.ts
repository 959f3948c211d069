// A checkpoint directory's generation settings, read from disk (generation-config.ts).
import { diskTextFiles } from "./disk-text-files.js";
import { generationSettingsFrom, type GenerationSettings } from "./generation-config.js";

/** Reads the settings of checkpoint directory `dir` (`label` is how messages show it); both files are optional. */
export function readGenerationSettings(dir: string, label = dir): GenerationSettings {
  return generationSettingsFrom(diskTextFiles(dir, label));
}
