// GPU tests: one lavapipe device per test file (creating one costs ~0.3 s and pipelines ~0.6 s
// each), and the one way a test says it needs a WebGPU adapter: describeGpu / itGpu, skipped where
// tests/setup/gpu-probe.ts found none (beforeAllGpu for a file-level hook beside host-only tests).

import { beforeAll, inject, type TestFunction } from "vitest";
import type { GpuContext } from "../../runtime/gpu/device.js";
import { acquireGpu } from "../../runtime/gpu/dawn.js";
import { describeNeeding, itNeeding, type Need } from "./needs.js";

// Without the globalSetup (another config) assume an adapter, as before there was a probe.
export const gpuNeed: Need = inject("gpu") ?? { available: true, missing: "" };

export const describeGpu = (name: string, fn: () => void): void => describeNeeding(gpuNeed, name, fn);
export const itGpu = (name: string, fn: TestFunction, timeout?: number): void => itNeeding(gpuNeed, name, fn, timeout);

/** A file-level beforeAll that acquires the GPU: runs only where there is an adapter, so the
 *  file's host-only tests still run where there is none. */
export function beforeAllGpu(fn: () => Promise<unknown>, timeout?: number): void {
  beforeAll(async () => {
    if (gpuNeed.available) await fn();
  }, timeout);
}

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
