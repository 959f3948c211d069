// Chromium headless on this machine offers WebGPU (SwiftShader where there is no GPU), and the
// browser module's createRuntime() gets a device from its navigator.gpu; the adapter's identity,
// features and limits are written to tests/.output/browser/adapter.json for the record. Without
// --enable-unsafe-webgpu the same browser has navigator.gpu but no adapter (what the playground's
// no-WebGPU message is tested against).
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser } from "puppeteer-core";
import { chromiumNeed, describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { openModulePage, type ModulePage } from "../helpers/browser/module-page.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";

const OUTPUT = path.join(REPO_ROOT, "tests/.output/browser");

describeBrowser("chromium headless", () => {
  let browser: Browser;
  let mp: ModulePage;
  beforeAll(async () => {
    browser = await launchChromium();
    mp = await openModulePage(browser);
  }, 120_000);
  afterAll(async () => {
    await mp?.server.close();
    await browser?.close();
  });

  it("gives the page a WebGPU adapter, and moec's createRuntime a device on it", async () => {
    const got = await mp.page.evaluate(async () => {
      const m = (globalThis as any).moec;
      const rt = await m.createRuntime();
      const { adapterInfo, features, limits } = rt.gpu;
      const adapter = await navigator.gpu.requestAdapter();
      const out = {
        userAgent: navigator.userAgent,
        adapterInfo,
        isFallbackAdapter: (adapter?.info as any)?.isFallbackAdapter,
        adapterFeatures: [...(adapter?.features ?? [])].sort(),
        moecFeatures: features,
        moecLimits: limits,
        deviceLost: false,
      };
      // The device works: a buffer round trip through a copy.
      const dev: GPUDevice = rt.gpu.device;
      const src = dev.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
      new Float32Array(src.getMappedRange()).set([1, 2, 3, 4]);
      src.unmap();
      const dst = dev.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
      const enc = dev.createCommandEncoder();
      enc.copyBufferToBuffer(src, 0, dst, 0, 16);
      dev.queue.submit([enc.finish()]);
      await dst.mapAsync(GPUMapMode.READ);
      const copied = [...new Float32Array(dst.getMappedRange())];
      rt.dispose();
      return { ...out, copied };
    });
    fs.mkdirSync(OUTPUT, { recursive: true });
    fs.writeFileSync(path.join(OUTPUT, "adapter.json"), JSON.stringify({ chromium: chromiumNeed.version, ...got }, null, 2) + "\n");
    expect(got.copied).toEqual([1, 2, 3, 4]);
    expect(got.adapterInfo.vendor).not.toBe("");
    // moec asks for the adapter's maximum: at least WebGPU's defaults (128 MiB bindings, 256 invocations).
    expect(got.moecLimits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(got.moecLimits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(got.moecFeatures.f16).toBe(got.adapterFeatures.includes("shader-f16"));
    expect(mp.take()).toEqual([]);
  }, 60_000);

  it("without --enable-unsafe-webgpu has navigator.gpu but no adapter", async () => {
    const plain = await launchChromium({ webgpu: false });
    try {
      const page = await plain.newPage();
      await page.goto(`${mp.server.origin}/`);
      const got = await page.evaluate(async () => ({ hasGpu: "gpu" in navigator, adapter: navigator.gpu ? (await navigator.gpu.requestAdapter()) !== null : false }));
      expect(got.adapter).toBe(false);
    } finally {
      await plain.close();
    }
  }, 60_000);
});
