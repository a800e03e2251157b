#!/usr/bin/env bash
# GPU-machine run of everything ROI (docs/roi.md), from the repository root, in under 5 minutes:
#
#   scripts/device_roi.sh
#
# Builds (build-roi-device/, sm_90; the TensorRT plugin and its ROI harness too when a header set is under
# .trt/TensorRT-<version>), then runs: the ROI CPU tests, the ROI GPU tests (a skipped GPU test is a failure here),
# the ROI plugin harness with SPP_TRT_REQUIRE_GPU=1, tests/oracle/check_torchvision_roi.py (torchvision.ops.roi_pool
# as the oracle), roi-bench and bench/torchvision_roi_bench.py. Logs and JSON go to $OUT (or ./device-out/roi).
# Exit status non-zero on any failure.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=${OUT:-$repo/device-out}/roi
mkdir -p "$out"
build=build-roi-device
jobs=${JOBS:-$(nproc)}
status=0
step() { echo "=== $*"; }
fail() { echo "FAIL: $*"; status=1; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
trt_args=()
shopt -s nullglob
sets=(.trt/TensorRT-*)
if [ ${#sets[@]} -gt 0 ]; then
    trt=$(printf '%s\n' "${sets[@]}" | sort -V | tail -1) # newest header set
    trt_args=(-DTENSORRT_ROOT="$repo/$trt")
    echo "TensorRT headers: $trt"
else
    echo "no .trt/TensorRT-* header set: the plugin harness is not built (copy /usr/local/TensorRT-* to .trt/)"
fi

step "configure + build (sm_90)"
targets=(spp_roi_core_tests spp_roi_cuda_tests spp_testapi roi-bench)
if ! cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 "${trt_args[@]}" \
    > "$out/configure.log" 2>&1; then
    tail -30 "$out/configure.log"; exit 1
fi
if cmake --build $build --target help 2>/dev/null | grep -q 'spp_trt_roi_plugin_tests'; then
    targets+=(spp_trt_plugin spp_trt_roi_plugin_tests)
fi
if ! cmake --build $build -j "$jobs" --target "${targets[@]}" > "$out/build.log" 2>&1; then
    tail -50 "$out/build.log"; exit 1
fi

step "ROI CPU tests"
$build/tests/spp_roi_core_tests > "$out/roi_core_tests.log" 2>&1 || fail "spp_roi_core_tests"
tail -1 "$out/roi_core_tests.log"

step "ROI GPU tests (kernels vs CPU reference)"
$build/tests/spp_roi_cuda_tests > "$out/roi_cuda_tests.log" 2>&1 || fail "spp_roi_cuda_tests"
grep -E "roi grid|PASSED|FAILED" "$out/roi_cuda_tests.log"
if grep -q "SKIPPED \]" "$out/roi_cuda_tests.log"; then
    grep "GPU test skipped" "$out/roi_cuda_tests.log" | head -3
    fail "GPU tests skipped on the GPU machine"
fi

if [ -x $build/tests/tensorrt/spp_trt_roi_plugin_tests ]; then
    step "ROI plugin harness (GPU required)"
    SPP_TRT_REQUIRE_GPU=1 SPP_TRT_PLUGIN_LIBRARY=$build/src/tensorrt/libspp_trt_plugin.so \
        $build/tests/tensorrt/spp_trt_roi_plugin_tests > "$out/roi_plugin_tests.log" 2>&1 || fail "ROI plugin harness"
    tail -1 "$out/roi_plugin_tests.log"
fi

step "torchvision oracle"
PYTHONUNBUFFERED=1 timeout 150 python3 tests/oracle/check_torchvision_roi.py $build/tests/libspp_testapi.so \
    2>&1 | tee "$out/oracle.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "check_torchvision_roi.py"

step "roi-bench (ours)"
$build/bench/roi-bench --json "$out/roi_bench.json" 2>&1 | tee "$out/roi_bench.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "roi-bench"

step "torchvision roi_pool per level + cat"
PYTHONUNBUFFERED=1 python3 bench/torchvision_roi_bench.py --json "$out/torchvision_roi_bench.json" 2>&1 \
    | grep -v Warning | tee "$out/torchvision_roi_bench.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "torchvision_roi_bench.py"

echo "device_roi: status $status (logs in $out)"
exit $status
