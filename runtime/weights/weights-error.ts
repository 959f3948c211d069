// The one error a program's weights raise when they cannot be bound: every problem, by tensor.
export class WeightsError extends Error {
  override name = "WeightsError";
  constructor(readonly errors: { tensor: string; message: string }[]) {
    super(errors.map((e) => e.message).join("\n"));
  }
}
