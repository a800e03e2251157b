#!/usr/bin/env bash
# GPU-machine run of everything ROI (docs/roi.md), from the repository root, in about 3 minutes:
#
#   scripts/device_roi.sh            (scripts/device_all.sh calls it with OUT set)
#
# Builds (build-roi-device/, sm_90; the TensorRT plugin and its ROI harness too when a header set is under
# .trt/TensorRT-<version>), then runs: the ROI CPU tests; the ROI GPU tests, every kernel (spp::RoiAlgo) that can run
# a case (a skipped GPU test is a failure here); the same GPU tests as 4 concurrent processes, 3 repeats each (the load
# of ctest -j4, under which a stream-ordering bug in the test helper once showed); compute-sanitizer memcheck and
# initcheck on the kernel grid, racecheck on the slices kernel's small tests, when the tool is installed (up to
# 3 x 240 s; ROI_SANITIZER=0 skips them); the ROI plugin harness with SPP_TRT_REQUIRE_GPU=1;
# tests/oracle/check_torchvision_roi.py (torchvision.ops.roi_pool as the oracle); roi-bench and
# bench/torchvision_roi_bench.py.
# Files in $OUT/roi (or ./device-out/roi), few on purpose: build.log, roi_tests.log, roi_plugin_tests.log,
# oracle.log, roi_bench.json, torchvision_roi_bench.json; the summary is on stdout.
# Exit status non-zero on any failure; every GPU step has a time limit, so a hang fails instead of eating the call.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
out=${OUT:-$repo/device-out}/roi
mkdir -p "$out"
build="build-roi-device"
jobs=${JOBS:-$(nproc)}
status=0
step() { echo "=== $*"; }
fail() { echo "FAIL: $*"; status=1; }
tests_log=$out/roi_tests.log
: > "$tests_log"

echo "GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"
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
if ! cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 ${trt_args[@]+"${trt_args[@]}"} \
    > "$out/build.log" 2>&1; then
    tail -30 "$out/build.log"; exit 1
fi
if cmake --build $build --target help 2>/dev/null | grep -q 'spp_trt_roi_plugin_tests'; then
    targets+=(spp_trt_plugin spp_trt_roi_plugin_tests)
fi
if ! cmake --build $build -j "$jobs" --target "${targets[@]}" >> "$out/build.log" 2>&1; then
    tail -50 "$out/build.log"; exit 1
fi

# Runs one gtest binary with a time limit, appending its output to roi_tests.log under a header.
run_gtest() {
    local name=$1 limit=$2
    shift 2
    local log
    log=$(mktemp)
    timeout "$limit" "$@" > "$log" 2>&1
    local rc=$?
    { echo "##### $name (exit $rc)"; cat "$log"; } >> "$tests_log"
    grep -E "roi grid|^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ test|^\[  FAILED  \] [A-Za-z]+\.[A-Za-z0-9]+ \(" "$log" \
        | sed "s/^/$name: /"
    [ $rc -eq 124 ] && echo "$name: timed out after ${limit}s"
    if grep -q "SKIPPED \]" "$log"; then
        grep "GPU test skipped" "$log" | head -2
        rc=99
    fi
    rm -f "$log"
    return $rc
}

step "ROI CPU tests"
run_gtest cpu 120 $build/tests/spp_roi_core_tests || fail "spp_roi_core_tests"

step "ROI GPU tests (kernels vs CPU reference)"
run_gtest gpu 240 $build/tests/spp_roi_cuda_tests || fail "spp_roi_cuda_tests (exit 99: a GPU test was skipped)"

step "ROI GPU tests under load: 4 concurrent processes x 3 repeats"
filter='RoiKernels.*:-RoiKernels.FeaturesOver2Pow31Elements'
pids=()
logs=()
for i in 1 2 3 4; do
    logs+=("$(mktemp)")
    timeout 240 $build/tests/spp_roi_cuda_tests --gtest_filter="$filter" --gtest_repeat=3 --gtest_brief=1 \
        > "${logs[-1]}" 2>&1 &
    pids+=($!)
done
loaded_failures=0
for i in 0 1 2 3; do
    rc=0
    wait "${pids[$i]}" || rc=$?
    { echo "##### load process $((i + 1)) (exit $rc)"; cat "${logs[$i]}"; } >> "$tests_log"
    grep -q "SKIPPED" "${logs[$i]}" && rc=99 # a skipped GPU test is a failure here too
    [ $rc -eq 0 ] || loaded_failures=$((loaded_failures + 1))
    rm -f "${logs[$i]}"
done
if [ $loaded_failures -eq 0 ]; then
    echo "load: PASSED in 4 of 4 processes"
else
    fail "ROI GPU tests under load: $loaded_failures of 4 processes failed (see roi_tests.log)"
fi

sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
if [ "${ROI_SANITIZER:-1}" = 0 ]; then
    echo "ROI_SANITIZER=0: sanitizer steps skipped"
elif [ -n "$sanitizer" ]; then
    for tool in memcheck initcheck; do
        step "compute-sanitizer --tool $tool (fp32 grid, stream test)"
        run_gtest "$tool" 240 "$sanitizer" --tool "$tool" --error-exitcode 86 \
            $build/tests/spp_roi_cuda_tests --gtest_filter='RoiKernels.GridFloat:RoiKernels.EnqueuesOnlyOnTheGivenStream' \
            || fail "compute-sanitizer $tool (exit 86: sanitizer errors, 124: timed out; see roi_tests.log)"
        grep -E "ERROR SUMMARY" "$tests_log" | tail -1
    done
    # Shared-memory hazards between the slices kernel's phases (warp-synchronous, __syncwarp only): racecheck is
    # slow, so on the small tests that take the derived and the direct schedules and NaN inputs.
    step "compute-sanitizer --tool racecheck (slices kernel tests)"
    run_gtest racecheck 240 "$sanitizer" --tool racecheck --racecheck-report hazard --error-exitcode 86 \
        $build/tests/spp_roi_cuda_tests \
        --gtest_filter='RoiKernels.SlicesDeriveOnlyNestedLevels:RoiKernels.NanAndNegativeInfinityPropagateInMax' \
        || fail "compute-sanitizer racecheck (exit 86: hazards, 124: timed out; see roi_tests.log)"
    grep -E "RACECHECK SUMMARY|ERROR SUMMARY" "$tests_log" | tail -1
else
    echo "compute-sanitizer not found: sanitizer steps skipped"
fi

if [ -x $build/tests/tensorrt/spp_trt_roi_plugin_tests ]; then
    step "ROI plugin harness (GPU required)"
    SPP_TRT_REQUIRE_GPU=1 SPP_TRT_PLUGIN_LIBRARY=$build/src/tensorrt/libspp_trt_plugin.so timeout 240 \
        $build/tests/tensorrt/spp_trt_roi_plugin_tests > "$out/roi_plugin_tests.log" 2>&1 || fail "ROI plugin harness"
    tail -1 "$out/roi_plugin_tests.log"
fi

step "torchvision oracle"
if python3 -c "import torch, torchvision" > /dev/null 2>&1; then
    PYTHONUNBUFFERED=1 timeout 240 python3 tests/oracle/check_torchvision_roi.py $build/tests/libspp_testapi.so \
        > "$out/oracle.log" 2>&1
    rc=$?
    grep -E "check_torchvision_roi|FAIL" "$out/oracle.log" | head -12
    [ $rc -eq 0 ] || fail "check_torchvision_roi.py (exit $rc)"
else
    fail "python3 cannot import torch and torchvision: the oracle did not run"
fi

step "roi-bench (ours: each kernel, spp::RoiAlgo)"
timeout 240 $build/bench/roi-bench --json "$out/roi_bench.json" 2>&1 || fail "roi-bench"

step "torchvision roi_pool per level + cat"
PYTHONUNBUFFERED=1 timeout 240 python3 bench/torchvision_roi_bench.py --json "$out/torchvision_roi_bench.json" 2>&1 \
    | grep -v Warning
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "torchvision_roi_bench.py"

echo "device_roi: status $status (logs in $out)"
exit $status
