// What every WGSL generator returns: the source plus the binding list the executor must fill.
// Layouts are explicit (not "auto") so that a binding a variant does not touch never makes bind
// group creation fail.

export type BindingKind = "uniform" | "read" | "storage";

export interface KernelBinding {
  /** Role name the executor maps to a buffer (`x`, `w_up`, `counts`, ...). */
  name: string;
  kind: BindingKind;
}

export interface KernelSpec {
  /** Human-readable kernel name, used in compile errors and profiles (`router[softmax|topk(2)]`). */
  name: string;
  code: string;
  entryPoint: string;
  /** Binding i of group 0 is `bindings[i]`. */
  bindings: KernelBinding[];
}
