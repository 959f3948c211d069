// safetensors I/O: reader, writer, dtype conversions.
export { SafetensorsError } from "./errors.js";
export { readSafetensors, openSafetensors, MAX_HEADER_BYTES, type SafetensorsFile, type SafetensorsTensor, type LazySafetensorsFile, type LazySafetensorsTensor } from "./reader.js";
export { encodeSafetensors, writeSafetensors, type TensorData, type TensorEntries } from "./writer.js";
export * from "./dtype.js";
