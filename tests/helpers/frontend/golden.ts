// Golden files: reviewed snapshots of printed ASTs and rendered diagnostics. They are written only
// when asked (`UPDATE_GOLDEN=1 npx vitest run tests/compiler`, or vitest's `-u`), so a change in
// output shows up as a failing diff that someone has to look at and accept deliberately.
import * as fs from "node:fs";
import { expect } from "vitest";
import { rel } from "./paths.js";

export function updating(): boolean {
  if (process.env.UPDATE_GOLDEN === "1") return true;
  // vitest -u / --update sets the snapshot state to "all".
  const state = (expect.getState() as { snapshotState?: { _updateSnapshot?: string } }).snapshotState;
  return state?._updateSnapshot === "all";
}

/** Compares `actual` with the golden file, or (re)writes the golden when updating. */
export function matchGolden(file: string, actual: string): void {
  const text = actual.endsWith("\n") ? actual : actual + "\n";
  if (updating()) {
    const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    if (old !== text) fs.writeFileSync(file, text);
    return;
  }
  if (!fs.existsSync(file)) {
    throw new Error(`golden file ${rel(file)} is missing; create it with UPDATE_GOLDEN=1 and review it`);
  }
  const expected = fs.readFileSync(file, "utf8").replace(/\r\n/g, "\n");
  expect(text, `golden ${rel(file)} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)`).toBe(expected);
}
