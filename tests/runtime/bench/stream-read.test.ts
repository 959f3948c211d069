// The streaming-read yardstick of `moec bench --decode`: every word is read (thread 0's sum is
// the hand count of the words it visits), the size is rounded to whole vec4 words.
import { afterAll, expect, it } from "vitest";
import { STREAM_READ_FILL, StreamRead } from "../../../runtime/bench/stream-read.js";
import { STREAM_READ_WG } from "../../../runtime/kernels/stream-read-kernel.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

describeGpu("StreamRead", () => {
  it("reads every vec4 of the buffer: thread 0 sums ⌈n / threads⌉ words of four ones", async () => {
    for (const bytes of [100, (3 << 20) + 8]) {
      const s = await StreamRead.create(ctx, bytes);
      try {
        const nVec4 = Math.ceil(bytes / 16);
        expect(s.bytes).toBe(nVec4 * 16);
        expect(s.buffers).toBe(1);
        const r = await s.run();
        expect(r.ms).toBeGreaterThan(0);
        expect(r.firstSum).toBe(4 * STREAM_READ_FILL * Math.ceil(nVec4 / (s.firstWorkgroups * STREAM_READ_WG)));
      } finally {
        s.dispose();
      }
    }
  });
});
