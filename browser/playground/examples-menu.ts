// The #examples menu: every example of examples/ (embedded at build time by
// scripts/build-playground.mjs, plugin examples left out) by path.
import examples from "moec:examples";

export const exampleSources: Record<string, string> = examples;

export function fillExamplesMenu(select: HTMLSelectElement): void {
  for (const file of Object.keys(exampleSources)) {
    const opt = document.createElement("option");
    opt.value = file;
    opt.textContent = file.replace(/^\/examples\//, "");
    select.append(opt);
  }
}
