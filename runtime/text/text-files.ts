// The small text files of a checkpoint directory (tokenizer.json, tokenizer_config.json,
// generation_config.json, config.json, chat_template.jinja) as whoever holds them reads them:
// Node from disk (weights/disk-checkpoint-files.ts), a page from the Files a directory picker gave.
export interface TextFiles {
  /** How messages show the directory. */
  readonly label: string;
  /** How messages show one of its files (`label/name`). */
  shown(name: string): string;
  exists(name: string): boolean;
  /** The file's text; throws an Error whose message says why it cannot be read. */
  readText(name: string): string;
}
