#!/usr/bin/env node
// Measures host memory while a Hugging Face checkpoint directory streams to the device: writes a
// few-hundred-MB Mixtral-layout BF16 checkpoint in shards to a temporary directory, then, in a
// fresh process each, (a) loads it with rt.load (streamed: one tensor at a time) and runs one
// forward, sampling memory after every tensor read, and (b) binds it eagerly into one host Map,
// as a single safetensors file used to be read, for contrast. Prints the peaks in MB.
// Needs `npx tsc -b` first (it imports dist/). Usage: node scripts/measure-checkpoint-memory.mjs
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const dist = (p) => join(root, "dist", p);
const MODEL = join(root, "examples/models/mixtral_8x7b.moe");
const SIZES = { V: 8000, D: 1024, L: 2, H: 8, KV: 2, N: 8, I: 2048 };
const MB = (b) => (b / 1e6).toFixed(1);

if (!process.env.XDG_RUNTIME_DIR) {
  const dir = join(tmpdir(), `moec-runtime-${process.getuid?.() ?? "user"}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

async function compileModel() {
  const { compile } = await import(dist("compiler/index.js"));
  const c = compile({ file: MODEL, set: SIZES });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c;
}

function sampler() {
  const peak = { rss: 0, heapUsed: 0, arrayBuffers: 0, external: 0 };
  return {
    peak,
    sample() {
      const m = process.memoryUsage();
      for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
    },
  };
}

async function writeCheckpoint(dir) {
  const c = await compileModel();
  const { hfCheckpointNames } = await import(dist("compiler/index.js"));
  const { encodeSafetensors } = await import(dist("runtime/safetensors/writer.js"));
  const names = hfCheckpointNames(c)[0];
  // Shards of about 100 MB, as transformers' max_shard_size would cut them.
  const shards = [];
  let cur = [], bytes = 0, total = 0, largest = 0;
  for (const t of names.tensors) {
    const n = t.shape.reduce((a, d) => a * d, 1);
    largest = Math.max(largest, n * 2);
    if (bytes + 2 * n > 100e6 && cur.length) shards.push(cur), (cur = []), (bytes = 0);
    cur.push(t), (bytes += 2 * n), (total += 2 * n);
  }
  if (cur.length) shards.push(cur);
  const weightMap = {};
  let seed = 1;
  shards.forEach((list, s) => {
    const file = `model-${String(s + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`;
    const entries = {};
    for (const t of list) {
      const n = t.shape.reduce((a, d) => a * d, 1);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = (((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5) * 0.05;
      entries[t.file] = { dtype: "BF16", shape: t.shape, data };
      weightMap[t.file] = file;
    }
    writeFileSync(join(dir, file), encodeSafetensors(entries));
  });
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "mixtral" }));
  return { total, shards: shards.length, tensors: names.tensors.length };
}

async function child(mode, dir) {
  const c = await compileModel();
  const { hfCheckpointNames } = await import(dist("compiler/index.js"));
  const s = sampler();
  s.sample();
  const base = { ...s.peak };
  let largestCanonical = 0;
  const t0 = performance.now();
  if (mode === "streamed") {
    const { createRuntime } = await import(dist("runtime/index.js"));
    const rt = await createRuntime();
    // `live`: after a forced collection, with the tensor just read still referenced: what moec holds.
    const live = sampler();
    const m = await rt.load(c.program, {
      weights: dir, checkpointNames: hfCheckpointNames(c),
      onProgress: () => {
        s.sample();
        globalThis.gc?.();
        live.sample();
      },
    });
    for (const k of m.weights.keys()) largestCanonical = Math.max(largestCanonical, 4 * (m.weights.shape?.(k) ?? []).reduce((a, d) => a * d, 1));
    const loadS = (performance.now() - t0) / 1000;
    s.sample();
    const logits = await m.forward([1, 2, 3]);
    s.sample();
    m.dispose();
    rt.dispose();
    console.log(JSON.stringify({ mode, base, peak: s.peak, live: live.peak, largestCanonical, loadS, logits: logits.length }));
  } else {
    const { loadCheckpointDir } = await import(dist("runtime/weights/load-checkpoint.js"));
    const r = loadCheckpointDir(c.program, dir, { names: hfCheckpointNames(c) });
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    const all = new Map();
    for (const k of r.weights.keys()) all.set(k, r.weights.get(k)), s.sample();
    console.log(JSON.stringify({ mode, base, peak: s.peak, tensors: all.size, loadS: (performance.now() - t0) / 1000 }));
  }
}

if (process.argv[2] === "--child") {
  await child(process.argv[3], process.argv[4]);
} else {
  const dir = mkdtempSync(join(tmpdir(), "moec-mem-"));
  try {
    const w = await writeCheckpoint(dir);
    console.log(`checkpoint: ${MB(w.total)} MB BF16 in ${w.shards} shards, ${w.tensors} tensors (Mixtral layout, ${Object.entries(SIZES).map(([k, v]) => `${k}=${v}`).join(" ")})`);
    for (const mode of ["streamed", "eager"]) {
      const r = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--child", mode, dir], { encoding: "utf8", env: process.env });
      if (r.status !== 0) throw new Error(`${mode} run failed:\n${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split("\n").pop());
      const grown = (k) => MB(m.peak[k] - m.base[k]);
      console.log(`${mode}: peak above start: array buffers ${grown("arrayBuffers")} MB, JS heap ${grown("heapUsed")} MB, RSS ${grown("rss")} MB; load ${m.loadS.toFixed(1)} s${m.largestCanonical ? `; largest canonical tensor ${MB(m.largestCanonical)} MB f32` : ""}`);
      if (m.live) console.log(`${mode}: live array buffers at each tensor read (after a forced GC): at most ${MB(m.live.arrayBuffers - m.base.arrayBuffers)} MB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
