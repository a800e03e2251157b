#!/usr/bin/env bash
# Build, test and benchmark on the GPU machine (H100/H200, CUDA 13, torch 2.11), in one go:
#   scripts/device_check.sh [all|test|bench]
# Logs and JSON go to $OUT (or ./device-out). Exits non-zero if any test or check fails.
set -uo pipefail
what=${1:-all}
out=${OUT:-$PWD/device-out}
mkdir -p "$out"
build=build-device
status=0
step() { echo "=== $*"; }

export SPP_REQUIRE_GPU=1 # GPU tests must run here: a missing GPU fails instead of skipping
step "configure + build (sm_90)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 > "$out/configure.log" 2>&1 \
    && cmake --build $build -j 16 > "$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }

if [ "$what" = all ] || [ "$what" = test ]; then
    step "ctest (CPU + GPU tests)"
    (cd $build && ctest --output-on-failure -j 4 > "$out/ctest.log" 2>&1) || status=1
    tail -5 "$out/ctest.log"; grep -E "Skipped|SKIP|grid" "$out/ctest.log" | head -5
    $build/tests/spp_cuda_tests --gtest_brief=1 2>&1 | grep -E "grid|PASSED|FAILED" | tee -a "$out/grid.log"
    step "PyTorch oracle"
    PYTHONUNBUFFERED=1 python3 tests/oracle/check_torch.py $build/tests/libspp_testapi.so 2>&1 | tee "$out/oracle.log" \
        || status=1
    step "demo"
    $build/samples/demo/spp-demo | tee "$out/demo.log" || status=1
fi
if [ "$what" = all ] || [ "$what" = bench ]; then
    step "spp-bench"
    $build/bench/spp-bench --algo all --json "$out/spp_bench.json" | tee "$out/spp_bench.txt" || status=1
    step "torch bench"
    PYTHONUNBUFFERED=1 python3 bench/torch_bench.py --json "$out/torch_bench.json" 2>&1 | grep -v Warning \
        | tee "$out/torch_bench.txt" || status=1
fi
echo "device_check: status $status"
exit $status
