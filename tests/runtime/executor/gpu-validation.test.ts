// An invalid command buffer must fail the run with a named error, never return stale data
// (Dawn only prints an uncaptured-error warning and runs nothing).
import { it, expect, beforeAll, afterAll } from "vitest";
import { acquireGpu, type GpuContext } from "../../../runtime/index.js";
import { Recorder, GpuValidationError } from "../../../runtime/executor/recorder.js";
import { describeGpu } from "../../helpers/gpu-context.js";

describeGpu("Recorder validation", () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await acquireGpu(); });
  afterAll(() => gpu?.dispose());

  it("throws GpuValidationError when the device rejects the commands, and reads nothing back", async () => {
    const d = gpu.device;
    const src = d.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.STORAGE });
    const dst = d.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const rec = new Recorder(d, 1, false);
    rec.copy(src, 0, dst, 0, 6); // copy sizes must be multiples of 4: an invalid command buffer
    await expect(rec.finish([{ buffer: dst, bytes: 16 }])).rejects.toBeInstanceOf(GpuValidationError);
    expect(rec.info.readbacks).toBe(0);
    // A valid run afterwards works: the error scope did not leak.
    const ok = new Recorder(d, 1, false);
    ok.copy(src, 0, dst, 0, 8);
    const [data] = await ok.finish([{ buffer: dst, bytes: 16 }]);
    expect(data!.byteLength).toBe(16);
    src.destroy();
    dst.destroy();
  });
});
