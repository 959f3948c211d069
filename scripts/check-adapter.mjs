#!/usr/bin/env node
// Is there a WebGPU adapter for moec? Requests one through Dawn (the `webgpu` package), creates a
// device on it, prints what the runtime cares about, and exits 0; otherwise prints exactly what to
// install and exits 1. `--quiet` prints nothing on failure (setup.sh probes with it first).
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const quiet = process.argv.includes("--quiet");
const log = (s) => process.stdout.write(s + "\n");

// Dawn's Vulkan loader wants a runtime dir; CI containers often have none.
if (!process.env.XDG_RUNTIME_DIR) {
  const dir = join(tmpdir(), `moec-runtime-${process.getuid?.() ?? "user"}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

function osRelease() {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    return Object.fromEntries(text.split("\n").filter((l) => l.includes("=")).map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, "")];
    }));
  } catch {
    return {};
  }
}

function advice(reason) {
  const os = osRelease();
  const lines = [`moec: no WebGPU adapter (${reason}).`, "moec needs a Vulkan driver for Dawn on Linux: your GPU vendor's, or Mesa's lavapipe (CPU) where there is no GPU."];
  if (process.platform !== "linux") {
    lines.push(`On ${process.platform}, Dawn uses ${process.platform === "darwin" ? "Metal, which every supported Mac has: check that the webgpu package installed its darwin binary (npm ci)" : "D3D12: update the GPU driver"}.`);
  } else if (os.ID === "debian" && os.VERSION_CODENAME === "bookworm") {
    lines.push(
      "Debian 12's own Mesa (22.x) is too old for Dawn; install Mesa from bookworm-backports (as root):",
      "  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list",
      "  apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers",
      "or run: bash scripts/setup.sh",
    );
  } else if (os.ID === "debian" || os.ID === "ubuntu" || (os.ID_LIKE ?? "").includes("debian")) {
    lines.push("Install Mesa's Vulkan drivers, version 24 or newer:  apt-get install -y mesa-vulkan-drivers");
  } else if (os.ID === "fedora" || (os.ID_LIKE ?? "").includes("fedora") || (os.ID_LIKE ?? "").includes("rhel")) {
    lines.push("Install Mesa's Vulkan drivers, version 24 or newer:  dnf install -y mesa-vulkan-drivers");
  } else if (os.ID === "arch" || (os.ID_LIKE ?? "").includes("arch")) {
    lines.push("Install Mesa's lavapipe:  pacman -S vulkan-swrast");
  } else if (os.ID === "alpine") {
    lines.push("Install Mesa's Vulkan drivers:  apk add mesa-vulkan-swrast");
  } else {
    lines.push("Install Mesa 24 or newer with its Vulkan drivers (lavapipe, the package often named mesa-vulkan-drivers).");
  }
  return lines.join("\n");
}

function fail(reason) {
  if (!quiet) process.stderr.write(advice(reason) + "\n");
  process.exit(1);
}

// A broken driver can hang adapter or device creation; never let setup hang with it.
setTimeout(() => fail("timed out after 60 s while requesting an adapter"), 60_000).unref();

let create;
try {
  ({ create } = await import("webgpu"));
} catch (e) {
  fail(`the webgpu package did not load: ${e instanceof Error ? e.message : e}; run npm ci first`);
}

let device;
try {
  const gpu = create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) fail("requestAdapter() returned null");
  const info = adapter.info ?? {};
  // Debian 12's Mesa 22 lavapipe is known to be too old for Dawn; 25 (bookworm-backports) works.
  const mesa = /Mesa (\d+)\./.exec(`${info.description ?? ""} ${info.device ?? ""}`);
  if (mesa && Number(mesa[1]) < 23) fail(`Mesa ${mesa[1]}'s Vulkan driver is too old for Dawn (${info.description})`);
  const features = [...adapter.features].sort();
  const limits = adapter.limits;
  const required = ["shader-f16", "subgroups", "timestamp-query"].filter((f) => adapter.features.has(f));
  device = await adapter.requestDevice({ requiredFeatures: required });
  const mib = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  log(`moec: WebGPU adapter: ${[info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" / ") || "(no info)"}`);
  for (const f of ["shader-f16", "subgroups", "timestamp-query"]) log(`  ${f.padEnd(16)} ${adapter.features.has(f) ? "yes" : "no"}`);
  log(`  maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize} (${mib(limits.maxStorageBufferBindingSize)})`);
  log(`  maxBufferSize ${limits.maxBufferSize} (${mib(limits.maxBufferSize)}), maxComputeWorkgroupStorageSize ${limits.maxComputeWorkgroupStorageSize}`);
  if (!quiet) log(`  features: ${features.join(", ")}`);
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
// dawn.node keeps a thread alive while a device lives: destroy it and exit explicitly.
device?.destroy();
process.exit(0);
