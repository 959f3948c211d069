// safetensors I/O: reader, writer, dtype conversions.
export { SafetensorsError } from "./errors.js";
export { readSafetensors, openSafetensors, MAX_HEADER_BYTES, type SafetensorsFile, type SafetensorsTensor, type LazySafetensorsFile, type LazySafetensorsTensor } from "./reader.js";
export { encodeSafetensors, safetensorsLayout, writeSafetensors, writeSafetensorsStream, type SafetensorsLayout, type TensorData, type TensorEntries, type TensorStream } from "./writer.js";
export * from "./dtype.js";
