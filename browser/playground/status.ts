// The #status line: what the page cannot do here (no WebGPU, an adapter too small, a failed run,
// a bad Set field or link), or nothing. Each message has an owner, so fixing one problem clears
// its own message and not another's.
export type StatusOwner = "gpu" | "run" | "toolbar" | "format" | "link" | "model";

export function setStatus(el: HTMLElement, message: string, kind: "note" | "error", owner: StatusOwner): void {
  el.textContent = message;
  el.classList.toggle("error", kind === "error");
  el.dataset.owner = owner;
}

/** Clears the line if one of `owners` wrote it. */
export function clearStatus(el: HTMLElement, ...owners: StatusOwner[]): void {
  if (owners.includes(el.dataset.owner as StatusOwner)) {
    el.textContent = "";
    el.classList.remove("error");
    delete el.dataset.owner;
  }
}
