// The tuning table: per shape class the shape the search chose, with the times it measured (the
// choice's, the fallback's, every candidate's), keyed by the adapter (vendor, architecture, device,
// description — Dawn's description carries the driver) and the moec version that measured it.
// Format 2 adds `schedules`, the pool classes' schedule crossovers (schedule-table.ts), next to the
// GEMM entries, which are unchanged. Serialised to JSON for the cache (tuning-cache.ts); parsing
// checks every field, so a corrupt or hand-edited file is reported by name and never reaches the
// kernel generator; a file of an older format is refused as such (TuningFormatError).

import { allClasses, type ShapeClass } from "./shape-class.js";
import { layoutOf, tunedShapeProblem, type TunedShape } from "./tuned-shape.js";
import { allPoolClasses, scheduleEntriesProblem, type ScheduleClass, type ScheduleEntry } from "./schedule-table.js";

/** 1: GEMM shapes; 2: also the schedule crossovers. */
export const TUNING_FORMAT = 2;

export interface AdapterKey {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface TuningKey extends AdapterKey {
  moec: string;
}

export interface CandidateTime {
  shape: TunedShape;
  /** Median milliseconds, or absent when the candidate was rejected. */
  ms?: number;
  /** Why the candidate was not eligible (its output differed from the first candidate's). */
  rejected?: string;
}

export interface TuningEntry {
  shape: TunedShape;
  ms: number;
  /** The deterministic fallback's shape and time (gemm-shape.ts without a table). */
  fallback: TunedShape;
  fallbackMs: number;
  /** The problem measured: rows × K × N (grouped: tokens × D = I, experts, top-k). */
  problem: string;
  candidates: CandidateTime[];
}

export interface TuningTable {
  moec_tuning: typeof TUNING_FORMAT;
  key: TuningKey;
  /** How time was taken: GPU timestamps or the host's wall clock. */
  clock: "gpu-timestamps" | "wall-clock";
  /** ISO time of the search. */
  measured: string;
  entries: Record<ShapeClass, TuningEntry>;
  /** Per pool class, the schedule that won at each T and its crossovers (`auto`'s lookup). */
  schedules: Record<ScheduleClass, ScheduleEntry>;
}

export class TuningTableError extends Error {
  override name = "TuningTableError";
}

/** A moec tuning table of another (older or newer) format. */
export class TuningFormatError extends TuningTableError {
  override name = "TuningFormatError";
  constructor(readonly format: number) {
    super(`format ${format}, not ${TUNING_FORMAT}${format < TUNING_FORMAT ? " (an earlier moec's, without the schedule crossovers)" : ""}`);
  }
}

/** The chosen shape of `cls`, or undefined when the table has no entry for it. */
export function tunedShapeFor(table: TuningTable | undefined, cls: ShapeClass, layout?: "kn" | "nk"): TunedShape | undefined {
  const e = table?.entries[cls];
  if (!e || layout === undefined || layoutOf(e.shape) === layout) return e?.shape;
  // Weights held in the other layout than the winner's: the fastest eligible candidate over this
  // one, measured in the same round-robin (the layout is fixed per weight, not per row class).
  let best: CandidateTime | undefined;
  for (const c of e.candidates) if (c.ms !== undefined && layoutOf(c.shape) === layout && (!best || c.ms < best.ms!)) best = c;
  return best?.shape;
}

export const keyOf = (adapter: AdapterKey, moec: string): TuningKey => ({ vendor: adapter.vendor, architecture: adapter.architecture, device: adapter.device, description: adapter.description, moec });

/** Whether `table` was measured on this adapter by this moec version. */
export function tableMatches(table: TuningTable, adapter: AdapterKey, moec: string): boolean {
  const want = keyOf(adapter, moec);
  return (Object.keys(want) as (keyof TuningKey)[]).every((k) => table.key[k] === want[k]);
}

export const serializeTuningTable = (t: TuningTable): string => JSON.stringify(t, null, 2) + "\n";

/** Parses and checks a table; the error names the field that is wrong. */
export function parseTuningTable(text: string): TuningTable {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new TuningTableError(`not JSON (${(e as Error).message})`);
  }
  const t = data as Partial<Omit<TuningTable, "moec_tuning">> & { moec_tuning?: unknown } | null;
  if (typeof t === "object" && t !== null && typeof t.moec_tuning === "number" && Number.isSafeInteger(t.moec_tuning) && t.moec_tuning !== TUNING_FORMAT) throw new TuningFormatError(t.moec_tuning);
  if (typeof t !== "object" || t === null || t.moec_tuning !== TUNING_FORMAT) throw new TuningTableError(`not a moec tuning table of format ${TUNING_FORMAT} (field moec_tuning)`);
  const key = t.key as Partial<TuningKey> | undefined;
  for (const f of ["vendor", "architecture", "device", "description", "moec"] as const) {
    if (typeof key?.[f] !== "string") throw new TuningTableError(`key.${f} is not a string`);
  }
  if (t.clock !== "gpu-timestamps" && t.clock !== "wall-clock") throw new TuningTableError(`clock ${JSON.stringify(t.clock)} is neither "gpu-timestamps" nor "wall-clock"`);
  if (typeof t.entries !== "object" || t.entries === null) throw new TuningTableError("entries is not an object");
  const known = new Set(allClasses());
  for (const [cls, e] of Object.entries(t.entries)) {
    if (!known.has(cls)) throw new TuningTableError(`entries: unknown shape class '${cls}'`);
    for (const f of ["shape", "fallback"] as const) {
      const problem = tunedShapeProblem(e?.[f]);
      if (problem) throw new TuningTableError(`entries['${cls}'].${f}: ${problem}`);
    }
    for (const f of ["ms", "fallbackMs"] as const) {
      if (typeof e[f] !== "number" || !(e[f] >= 0)) throw new TuningTableError(`entries['${cls}'].${f} is not a non-negative number`);
    }
    if (!Array.isArray(e.candidates)) throw new TuningTableError(`entries['${cls}'].candidates is not a list`);
  }
  const schedules = scheduleEntriesProblem(t.schedules, new Set(allPoolClasses()));
  if (schedules) throw new TuningTableError(schedules);
  return t as TuningTable;
}
