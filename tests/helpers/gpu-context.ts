// One lavapipe device per test file (creating one costs ~0.3 s and pipelines ~0.6 s each).

import { acquireGpu, type GpuContext } from "../../runtime/gpu/device.js";

let shared: Promise<GpuContext> | undefined;

export function testGpu(): Promise<GpuContext> {
  shared ??= acquireGpu();
  return shared;
}

export async function releaseTestGpu(): Promise<void> {
  if (!shared) return;
  const ctx = await shared;
  shared = undefined;
  ctx.dispose();
}
