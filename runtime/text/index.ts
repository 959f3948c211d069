// The text layer of generation: tokenizers, streaming detokenization, chat templates and the
// generation settings of a checkpoint directory (LANGUAGE.md §13.2; docs/generation.md).

export { TextError } from "./text-error.js";
export { TextTokenizer, type EncodeOptions, type DecodeOptions, type NamedToken } from "./tokenizer.js";
export { loadTokenizer, hasTokenizer, noTokenizerError, tokenizerVocabMismatch, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, CHAT_TEMPLATE_FILE } from "./load-tokenizer.js";
export { StreamDecoder } from "./stream-decoder.js";
export { renderChat, chatMessages, type ChatMessage, type RenderChatOptions } from "./chat-template.js";
export { DEFAULT_CONTEXT, GENERATION_CONFIG_FILE, generationSettingsFrom, type GenerationSettings } from "./generation-config.js";
export { readGenerationSettings } from "./read-generation-settings.js";
export { tokenizerFromFiles } from "./tokenizer-files.js";
export type { TextFiles } from "./text-files.js";
