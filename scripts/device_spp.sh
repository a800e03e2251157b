#!/usr/bin/env bash
# Quick SPP loop on the GPU machine (from the repository root): build the SPP kernel tests and spp-bench (sm_90),
# run the GPU tests (kernels vs the CPU reference), then the benchmark. For the full set of checks use
# scripts/device_all.sh.
#   scripts/device_spp.sh [spp-bench arguments...]     (default: --algo all)
# SPP_SANITIZER=1 also runs compute-sanitizer memcheck and racecheck over the fp32 grid, the misaligned-input test and
# the grid kernel's tests (a few minutes).
# SPP_FLAGS="-DKNOB=V ..." builds with tuning knobs (scripts/device_tune.sh lists them) given to the CUDA and C++
# compilers, so a knob's variant is tested against the CPU reference before it is timed.
# Logs and the benchmark JSON go to $OUT (or ./device-out). Exits non-zero if a test fails.
set -uo pipefail
out=${OUT:-$PWD/device-out}
mkdir -p "$out"
build=build-spp-device
export SPP_REQUIRE_GPU=1
flags=${SPP_FLAGS:-}
cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 "-DCMAKE_CUDA_FLAGS=$flags" \
    "-DCMAKE_CXX_FLAGS=$flags" > "$out/spp_configure.log" 2>&1 \
    && cmake --build $build -j "$(nproc)" --target spp_cuda_tests spp-bench > "$out/spp_build.log" 2>&1 \
    || { tail -40 "$out/spp_build.log"; exit 1; }
status=0
echo "=== spp_cuda_tests"
$build/tests/spp_cuda_tests --gtest_brief=1 > "$out/spp_tests.log" 2>&1 || status=1
grep -E "grid|PASSED|FAILED|Failure|error" "$out/spp_tests.log" | head -40
if [ "${SPP_SANITIZER:-0}" = 1 ]; then
    for tool in memcheck racecheck; do
        echo "=== compute-sanitizer $tool"
        compute-sanitizer --tool $tool --print-limit 20 $build/tests/spp_cuda_tests --gtest_brief=1 \
            --gtest_filter='Kernels.GridFloat:Kernels.ColumnsKernelMisalignedInput:Kernels.GridKernel*' \
            > "$out/spp_$tool.log" 2>&1 \
            || status=1
        grep -E "ERROR SUMMARY|RACECHECK SUMMARY|PASSED|FAILED" "$out/spp_$tool.log"
    done
fi
echo "=== spp-bench"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--algo all)
$build/bench/spp-bench "${args[@]}" --json "$out/spp_bench.json" | tee "$out/spp_bench.txt" || status=1
echo "device_spp: status $status"
exit $status
