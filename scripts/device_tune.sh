#!/usr/bin/env bash
# Builds spp-bench (or roi-bench with BENCH=roi) once per set of compile-time tuning knobs and benchmarks one kernel
# with each (GPU machine).
#   [BENCH=roi] [TESTS=1] [CASES="NAME ..."] [ROUNDS=N] scripts/device_tune.sh ALGO "KNOB=V KNOB=V" ["KNOB=V ..." ...]
# Knobs (src/cuda/spp_kernels.cu): SPP_THREADS, SPP_STAGED_MIN_BLOCKS, SPP_STAGED_TILE_KIB, SPP_COLUMNS_ROWS,
# SPP_COLUMNS_MIN_BLOCKS, SPP_GRID_MIN_BLOCKS, SPP_GRID_BATCH, SPP_GRID_BUTTERFLY; (src/cuda/spp_tasks*)
# SPP_TASKS_CONTIGUOUS, SPP_TASKS_MIN_BLOCKS, SPP_TASKS_CTAS_PER_SM, SPP_TASKS_BATCH, SPP_TASKS_FIXED, SPP_TASKS_PAIRS,
# SPP_TASKS_DEAL, SPP_TASKS_VSTORE, SPP_TASKS_BULK; (src/cuda/roi_slices.cuh) SPP_ROI_SLICE_WARPS,
# SPP_ROI_DYNAMIC, SPP_ROI_FIXED_DERIVED, SPP_ROI_BIN_MAJOR, SPP_ROI_BIN_MAJOR_WARPS,
# SPP_ROI_GATHER_UNROLL, SPP_ROI_BIN_MAJOR_HALF, SPP_ROI_ROWS, SPP_ROI_ROWS_ROTATE. Knobs go to both the CUDA and
# the C++ compiler. Example:
#   scripts/device_tune.sh columns "SPP_COLUMNS_ROWS=8" "SPP_COLUMNS_ROWS=16"
# TESTS=1 also builds each variant's GPU kernel tests and runs them before any timing (spp: spp_cuda_tests' grids and
# tasks kernel shapes; roi: spp_roi_cuda_tests' RoiKernels.*; every algorithm against the CPU reference); a variant
# that fails is not timed. BUILD_ONLY=1 builds the variants (build-tune-N, here, without a GPU), copies their bench
# and test binaries to build-tune-bin/N/ and stops; PREBUILT=1 (the same arguments) then skips the build on the GPU
# machine and runs those binaries, which saves device time: `run` with carry ["build-tune-bin"] (~6.5 MB a variant,
# ~10.5 MB with LINEINFO=1).
# LINEINFO=1 builds with -lineinfo, so that scripts/device_roi_ncu.sh (ROI_BENCH_BIN=build-tune-N/bench/roi-bench) can
# profile a variant by source line (the sm_90 SASS is the same as without it: checked with scripts/sass.sh).
# CASES="NAME ..." times those spp-bench cases only. Variants are timed ROUNDS times in
# turns (A B A B; default 1 for spp, 2 for roi), so drift of the machine shows. A bench run that fails or prints no
# row fails the script.
set -uo pipefail
algo=${1:?usage: device_tune.sh ALGO \"KNOB=V ...\" ...}
shift
bench=${BENCH:-spp}
rounds=${ROUNDS:-$([ "$bench" = roi ] && echo 2 || echo 1)}
targets=$bench-bench
tests_bin=$([ "$bench" = roi ] && echo spp_roi_cuda_tests || echo spp_cuda_tests)
tests_filter=$([ "$bench" = roi ] && echo 'RoiKernels.*' || echo 'Kernels.Grid*:Kernels.TasksKernel*:Kernels.Nan*')
[ "${TESTS:-0}" = 1 ] && targets="$targets $tests_bin"
export SPP_REQUIRE_GPU=1
status=0
ok=()
# The variants build side by side (each build is mostly one long translation unit, spp_kernels.cu, so one build
# leaves most cores idle), then are tested and timed one after another.
jobs=$(( $(nproc) / $# + 1 ))
pids=()
i=0
for variant in "$@"; do
    i=$((i + 1))
    b=build-tune-$i
    if [ "${PREBUILT:-0}" = 1 ]; then
        [ -d build-tune-bin/$i ] && mkdir -p $b && cp -r build-tune-bin/$i/. $b/ # else a build-tune-N carried as is
        continue
    fi
    flags=""
    for knob in $variant; do flags="$flags -D$knob"; done
    mkdir -p $b
    { cmake -S . -B $b -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
        -DSPP_BUILD_TESTS="$([ "${TESTS:-0}" = 1 ] && echo ON || echo OFF)" \
        "-DCMAKE_CUDA_FLAGS=$flags$([ "${LINEINFO:-0}" = 1 ] && echo ' -lineinfo')" "-DCMAKE_CXX_FLAGS=$flags" \
        && cmake --build $b -j "$jobs" --target $targets; } > $b/build.log 2>&1 &
    pids[$i]=$!
done
i=0
if [ "${BUILD_ONLY:-0}" = 1 ]; then
    for i in $(seq 1 $#); do
        wait "${pids[$i]}" \
            || { echo "=== build $i failed:"; grep -E "error|Error" build-tune-$i/build.log | head -10; status=1; }
    done
    rm -rf build-tune-bin
    for i in $(seq 1 $#); do
        mkdir -p build-tune-bin/$i/bench build-tune-bin/$i/tests
        cp build-tune-$i/bench/$bench-bench build-tune-bin/$i/bench/ || status=1
        if [ "${TESTS:-0}" = 1 ]; then cp build-tune-$i/tests/$tests_bin build-tune-bin/$i/tests/ || status=1; fi
    done
    [ $status = 0 ] && echo "built $# variants; binaries in build-tune-bin/ ($(du -sh build-tune-bin | cut -f1))"
    exit $status
fi
for variant in "$@"; do
    i=$((i + 1))
    b=build-tune-$i
    ok[$i]=0
    if [ "${PREBUILT:-0}" != 1 ] && ! wait "${pids[$i]}"; then
        echo "=== build of '$variant' failed:"
        grep -E "error|Error" $b/build.log | head -10
        status=1
        continue
    fi
    if [ "${TESTS:-0}" = 1 ]; then
        $b/tests/$tests_bin --gtest_brief=1 --gtest_filter="$tests_filter" > $b/tests.log 2>&1
        rc=$?
        passed=$(grep -oE '^\[  PASSED  \] [0-9]+' $b/tests.log | grep -oE '[0-9]+$')
        if [ $rc -eq 0 ] && [ "${passed:-0}" -gt 0 ]; then
            echo "=== tests of '$variant': $passed passed ($(grep -cE '^\[ (roi )?grid' $b/tests.log) grids)"
        else
            echo "=== tests of '$variant' FAILED:"
            grep -E "Failure|FAILED|error" $b/tests.log | head -20
            status=1
            continue
        fi
    fi
    ok[$i]=1
done
for round in $(seq 1 "$rounds"); do
    i=0
    for variant in "$@"; do
        i=$((i + 1))
        [ "${ok[$i]}" = 1 ] || continue
        echo "=== round $round: $variant"
        if [ "$bench" = spp ]; then
            read -r -a cases <<< "${CASES:-}"
            [ ${#cases[@]} -eq 0 ] && cases=("")
            for c in "${cases[@]}"; do
                build-tune-$i/bench/spp-bench --algo "$algo" --runs 50 ${c:+--case "$c"} | grep -E " $algo " \
                    || { echo "    (spp-bench failed or printed no '$algo' row${c:+ for $c})"; status=1; }
            done
        else
            build-tune-$i/bench/roi-bench --algo "$algo" --runs 100 | grep -E " $algo " \
                || { echo "    (roi-bench failed or printed no '$algo' row)"; status=1; }
        fi
    done
done
exit $status
