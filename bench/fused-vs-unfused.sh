#!/usr/bin/env bash
# The §12 rows of bench/RESULTS.md "Runtime: fused vs unfused", one after the other, each printing
# its unfused / fused ratio (both lowerings run in the same process). To compare two trees on one
# machine, run it in each, alternating: `bash bench/fused-vs-unfused.sh [TREE]` (default: this one).
set -euo pipefail
tree="${1:-$(dirname "${BASH_SOURCE[0]}")/..}"
cd "$tree"
run() {
  echo "== moec bench $*"
  node bin/moec.js bench "$@" 2>&1 | grep -E "^  (fused|unfused) |unfused / fused"
}
run examples/mixtral.moe --tokens 64 --set D=64 I=128
run examples/mixtral.moe --tokens 1 --set D=64 I=128
run examples/mixtral.moe --tokens 64 --set D=64 I=128 --dtype f16
run examples/deepseek_moe.moe --tokens 64 --set D=64 N=8 I=128 SI=64
run examples/qwen_moe.moe --tokens 64 --set D=64 N=16 I=32 SI=64
run examples/dynamic_topp.moe --tokens 64 --set D=64 N=16 I=64
