// Dawn's adapter-discovery warnings kept off stderr: the filter around native writes to fd 2 (run in
// a child node process, since it swaps that process's fd 2), the places it deliberately stands
// aside, and a real GPU command whose piped stderr must be empty. "Piped" is an OS pipe, as a shell
// or CI makes it (`2>&1 >out | cat`): Node's own spawn pipes are sockets, which cannot be reopened.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";
import { itGpu } from "../../helpers/gpu-context.js";

const WARNINGS =
  "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n" +
  "Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n";
const FILTER = path.join(REPO_ROOT, "dist/runtime/gpu/dawn-stderr.js");

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs node with `args`: stderr to the file descriptor `stderrFd`, or else through an OS pipe
 *  (a shell pipeline) to `stderr`, and stdout to a file read back into `stdout`. */
function node(args: string[], stderrFd?: number): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-dawn-stderr-"));
  const outFile = path.join(dir, "out.txt");
  const quoted = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const line = stderrFd === undefined ? `${quoted} 2>&1 >'${outFile}' | cat` : `${quoted} >'${outFile}'`;
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/bash", ["-o", "pipefail", "-c", line], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", stderrFd ?? "ignore"] });
    let stdout = "", stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      stdout = fs.readFileSync(outFile, "utf8");
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** A script that writes, the way Dawn does (straight to fd 2), the two warnings between two other
 *  lines inside the filter, then writes after it through process.stderr. */
const script = `
import * as fs from "node:fs";
const { withoutDawnLimitWarnings } = await import(${JSON.stringify(FILTER)});
process.stderr.write("before\\n");
const r = withoutDawnLimitWarnings(() => { fs.writeSync(2, "loader: kept\\n" + ${JSON.stringify(WARNINGS)} + "kept too\\n"); return 42; });
process.stderr.write("after " + r + "\\n");
console.log("stdout still works");
`;

describe.skipIf(process.platform !== "linux")("withoutDawnLimitWarnings", () => {
  it("drops exactly the two warnings from a pipe, passes every other line through in order, returns the call's value", async () => {
    const r = await node(["--input-type=module", "-e", script]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("before\nloader: kept\nkept too\nafter 42\n");
    expect(r.stdout).toBe("stdout still works\n");
  });

  it("drops them from a file opened for appending, keeping what was there", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-dawn-stderr-"));
    const log = path.join(dir, "err.log");
    fs.writeFileSync(log, "earlier\n");
    const fd = fs.openSync(log, "a");
    const r = await node(["--input-type=module", "-e", script], fd);
    fs.closeSync(fd);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(log, "utf8")).toBe("earlier\nbefore\nloader: kept\nkept too\nafter 42\n");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("leaves a file opened for writing alone (its offset is shared with whoever opened it)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-dawn-stderr-"));
    const log = path.join(dir, "err.log");
    const fd = fs.openSync(log, "w");
    const r = await node(["--input-type=module", "-e", script], fd);
    fs.closeSync(fd);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(log, "utf8")).toBe("before\nloader: kept\n" + WARNINGS + "kept too\nafter 42\n");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("a GPU command's output", () => {
  itGpu("moec run with random weights prints its result on stdout and nothing on a piped stderr", async () => {
    const r = await node([path.join(REPO_ROOT, "bin/moec.js"), "run", "examples/mixtral.moe", "--random-weights", "--tokens", "4", "--set", "D=16", "I=8"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^y: \[4, 16\] f32 /);
  }, 120_000);
});
