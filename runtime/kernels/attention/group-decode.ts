// Group Think's shared KV cache (LANGUAGE.md §11.2 `concurrent(A, threads = N)`; docs/generation.md
// "Group Think"): N threads of one model decoded as one batch over ONE cache. Layout: the prompt's
// P rows first (row s = position s), then step-major rows, thread n's step-k token at row
// P + k·N + n, at position P + k for every thread. A step's state is a small u32 buffer `grp`
// = [P, N, k, seen_0 … seen_(N−1)], seen_m = how many of thread m's tokens are in the cache and
// visible (k while it runs; its length once it has stopped: a stopped thread's tokens stay
// visible, the rows it is given afterwards are never read). The visibility of §11.2 — row n at
// step k reads the prompt, every thread's rows of steps < k, and its own step-k row — is the WGSL
// below, shared by batch-decode.ts's kernels in their `shared` form (their slot form's one-slot-
// per-row ring is the other form); a sliding window applies to positions, not rows.

/** u32 values of the `grp` buffer: [P, N, k] then one `seen` per thread. */
export function groupStepState(prompt: number, threads: number, step: number, seen: readonly number[]): Uint32Array {
  return Uint32Array.from([prompt, threads, step, ...seen]);
}

/** Rows the shared cache needs for `steps` steps of N threads after a prompt of P. */
export function groupCacheRows(prompt: number, threads: number, steps: number): number {
  return prompt + threads * steps;
}

/**
 * WGSL over `grp` and `first_pos` (the window's first position): the rows row b's query scans
 * ([0, group_rows()): the prompt and every step up to this one), whether it reads row s, and where
 * thread t's new key/value row goes.
 */
export const GROUP_MASK_WGSL = /* wgsl */ `
fn group_rows() -> u32 { return grp[0] + (grp[2] + 1u) * grp[1]; }
fn group_dest_row(t: u32) -> u32 { return grp[0] + grp[2] * grp[1] + t; }
fn group_reads(b: u32, s: u32, qpos: u32) -> bool {
  let P = grp[0];
  if (s < P) { return s >= first_pos(qpos); }
  let j = (s - P) / grp[1];
  let m = (s - P) % grp[1];
  let visible = (j < grp[2] && j < grp[3u + m]) || (j == grp[2] && m == b);
  return visible && P + j >= first_pos(qpos);
}
`;
