#!/usr/bin/env bash
# Quick GPU-machine loop for the ROI kernels while working on them (the full run is scripts/device_roi.sh):
#
#   scripts/device_roi_quick.sh [roi-bench algo ...]      default: slices auto
#
# Builds spp_roi_cuda_tests and roi-bench (build-roi-quick/, sm_90), runs the ROI GPU tests (every kernel against the
# CPU reference; a skip is a failure here), then roi-bench for each named kernel at K = 2000 and at K = 16 (where the
# staging of the map, not the pooling, dominates). ROI_NCU=1 adds scripts/device_roi_ncu.sh (first slices launch).
# Output under $OUT/roi-quick (or ./device-out/roi-quick); exit status non-zero on any failure.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
out=${OUT:-$repo/device-out}/roi-quick
mkdir -p "$out"
algos=("$@")
[ ${#algos[@]} -gt 0 ] || algos=(slices auto)
status=0
echo "GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>&1 | head -1)"
if ! { cmake -S . -B build-roi-quick -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
        && cmake --build build-roi-quick -j "$(nproc)" --target spp_roi_cuda_tests roi-bench; } > "$out/build.log" 2>&1; then
    tail -40 "$out/build.log"; exit 1
fi
timeout 300 build-roi-quick/tests/spp_roi_cuda_tests > "$out/tests.log" 2>&1 || { status=1; echo "FAIL: ROI GPU tests"; }
grep -E "^\[  (PASSED|FAILED|SKIPPED) |roi grid|Failure|error" "$out/tests.log" | head -40
if grep -q "^\[  SKIPPED" "$out/tests.log"; then status=1; echo "FAIL: a GPU test skipped on the GPU machine"; fi
for algo in "${algos[@]}"; do
    for k in 2000 16; do
        timeout 120 build-roi-quick/bench/roi-bench --algo "$algo" --k "$k" --json "$out/bench_${algo}_k$k.json" \
            > "$out/bench_${algo}_k$k.log" 2>&1 || { status=1; echo "FAIL: roi-bench --algo $algo --k $k"; }
        grep -E "median" "$out/bench_${algo}_k$k.log"
    done
done
if [ "${ROI_NCU:-0}" = 1 ]; then
    OUT=$out scripts/device_roi_ncu.sh || status=1
fi
exit $status
