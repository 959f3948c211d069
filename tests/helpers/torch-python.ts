// The python3 that imports torch, for the tests that run `moec export torch` packages (Debian's
// python3-torch; .ci/run installs it), and the Need that skips them where there is none.
import { spawnSync } from "node:child_process";
import type { Need } from "./needs.js";

function findTorchPython(): string | undefined {
  for (const py of [process.env.MOEC_TORCH_PYTHON, "python3", "/usr/bin/python3"].filter((p): p is string => !!p)) {
    if (spawnSync(py, ["-c", "import torch"], { encoding: "utf8", timeout: 120_000 }).status === 0) return py;
  }
  return undefined;
}

export const torchPython = findTorchPython();
export const torchNeed: Need = { available: torchPython !== undefined, missing: "no python3 that imports torch (.ci/run installs Debian's python3-torch: apt-get install python3-torch)" };
