// The one error type of GGUF I/O: every problem reading or writing a .gguf file (bad header,
// impossible counts, a tensor outside the file, an unsupported block type, I/O) becomes one of
// these, naming the file and, where there is one, the tensor.

export class GgufError extends Error {
  override readonly name = "GgufError";
  readonly file: string;
  readonly tensor?: string;

  constructor(file: string, message: string, tensor?: string) {
    super(message);
    this.file = file;
    if (tensor !== undefined) this.tensor = tensor;
  }
}
