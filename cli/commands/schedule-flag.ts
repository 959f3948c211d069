// The `--schedule auto|token|expert|dense` flag `moec run`, `generate` and `bench` share: its
// declaration (one help text) and its parse (ExecutorOptions.fineSchedule; docs/kernels.md,
// "Three schedules" and "Tuning").
import { type FlagSpec, UsageError } from "../args.js";

export const SCHEDULES = ["auto", "token", "expert", "dense"] as const;
export type Schedule = (typeof SCHEDULES)[number];

export const SCHEDULE_FLAG: FlagSpec = {
  name: "schedule",
  type: "string",
  value: "auto|token|expert|dense",
  help: "how routed pools run: token-centric kernels, grouped expert GEMMs, or dense GEMMs over every expert (exact for any selection, paying where the router gives every token every expert; no expert biases); auto (the default) picks per run from the crossovers `moec tune` measured, else from fixed rules (docs/kernels.md)",
};

/** A schedule name, or a usage error naming where it was found (`--schedule`, `coarse@tokn`). */
export function parseSchedule(v: string, where: string): Schedule {
  if (!(SCHEDULES as readonly string[]).includes(v)) throw new UsageError(`unknown schedule \`${v}\` in ${where}; use ${SCHEDULES.join(", ")}`);
  return v as Schedule;
}

/** The flag's value, or undefined when absent. */
export function scheduleFlag(f: Record<string, unknown>): Schedule | undefined {
  const v = f["schedule"];
  return v === undefined ? undefined : parseSchedule(String(v), "--schedule");
}
