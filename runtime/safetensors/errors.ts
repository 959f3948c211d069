// The one error type of safetensors I/O. Everything that goes wrong while reading or writing a
// file (bad header, bad offsets, unsupported dtype, out-of-range integers, I/O) becomes one of
// these, so callers can print `.message` without a stack trace and never see a raw RangeError.

export class SafetensorsError extends Error {
  override readonly name = "SafetensorsError";
  /** The file label (path, or the label given for in-memory bytes). */
  readonly file: string;
  /** The tensor concerned, when there is one. */
  readonly tensor?: string;

  constructor(file: string, message: string, tensor?: string) {
    super(message);
    this.file = file;
    if (tensor !== undefined) this.tensor = tensor;
  }
}
