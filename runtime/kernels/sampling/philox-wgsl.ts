// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; the
// Random123 constants) in WGSL: a counter-based generator, a pure function of (counter, key), so a
// draw depends only on (seed, sequence, step) and never on scheduling. WGSL has no 32×32→64
// multiply, so the high word is assembled from 16-bit halves.

export const PHILOX_WGSL = /* wgsl */ `
fn philox_mulhi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu; let a1 = a >> 16u;
  let b0 = b & 0xffffu; let b1 = b >> 16u;
  let lh = a0 * b1; let hl = a1 * b0;
  let mid = ((a0 * b0) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return a1 * b1 + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    let hi0 = philox_mulhi(0xD2511F53u, c.x); let lo0 = 0xD2511F53u * c.x;
    let hi1 = philox_mulhi(0xCD9E8D57u, c.z); let lo1 = 0xCD9E8D57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}
`;
