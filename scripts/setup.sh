#!/usr/bin/env bash
# moec setup: installs the npm dependencies (which builds the project), then makes sure Dawn finds
# a WebGPU adapter. Where none is found on Debian 12 it installs Mesa's lavapipe (a Vulkan driver
# on the CPU) from bookworm-backports, since Debian 12's own Mesa 22 is too old for Dawn; elsewhere
# it prints what to install. Idempotent and non-interactive; run as root or with sudo for the
# install step (CI runs as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "moec setup: $*"; }
die() { echo "moec setup: error: $*" >&2; exit 1; }

# Dawn's Vulkan path wants a runtime dir; containers often have none.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="/tmp/moec-runtime-$(id -u)"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi

# 1. Node 20 or newer, then the dependencies (`npm ci` runs `prepare`, which builds with tsc -b).
command -v node >/dev/null 2>&1 || die "node is not installed; moec needs Node.js 20 or newer (https://nodejs.org, or your distribution's nodejs package)."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node $(node --version) is too old; moec needs Node.js 20 or newer."
command -v npm >/dev/null 2>&1 || die "npm is not installed; it comes with Node.js 20 or newer."
say "installing npm dependencies and building (npm ci)…"
# onnxruntime-node (optional: the ONNX Runtime cross-checks and --backend onnxruntime) would fetch
# CUDA provider libraries from NuGet on linux/x64; its CPU kernels ship in the package, so skip that.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund

# 2. A WebGPU adapter: probe quietly; install Mesa's lavapipe only if the probe fails.
if node scripts/check-adapter.mjs --quiet 2>/dev/null; then
  say "done."
  exit 0
fi

os_id=""; os_codename=""
if [ -r /etc/os-release ]; then
  os_id="$(. /etc/os-release && echo "${ID:-}")"
  os_codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
fi
if [ "$os_id" != "debian" ] || [ "$os_codename" != "bookworm" ] || ! command -v apt-get >/dev/null 2>&1; then
  # Not Debian 12: check-adapter prints the driver to install for this system.
  node scripts/check-adapter.mjs || die "no WebGPU adapter; install the driver named above and run this script again."
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  cat >&2 <<'MSG'
moec setup: no WebGPU adapter, and installing Mesa's lavapipe needs root. Run as root:
  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list
  apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers
then run this script again.
MSG
  exit 1
fi

say "installing Mesa lavapipe (no GPU adapter found)…"
# Add the backports suite unless some apt source (one-line or deb822) already has it.
if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  say "adding bookworm-backports to /etc/apt/sources.list.d/bookworm-backports.list"
  echo "deb http://deb.debian.org/debian bookworm-backports main" | "${as_root[@]}" tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1

say "checking the adapter again…"
node scripts/check-adapter.mjs || die "still no WebGPU adapter after installing Mesa's lavapipe (see above)."
say "done."
