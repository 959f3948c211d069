// The #status line: what the page cannot do here (no WebGPU, an adapter too small, a failed run),
// or nothing.
export function setStatus(el: HTMLElement, message: string, kind: "note" | "error" = "note"): void {
  el.textContent = message;
  el.classList.toggle("error", kind === "error");
}
