#!/usr/bin/env bash
# Builds spp-bench (or roi-bench with BENCH=roi) once per set of compile-time tuning knobs and benchmarks one kernel
# with each (GPU machine).
#   [BENCH=roi] scripts/device_tune.sh ALGO "KNOB=V KNOB=V" ["KNOB=V ..." ...]
# Knobs (src/cuda/spp_kernels.cu): SPP_THREADS, SPP_STAGED_MIN_BLOCKS, SPP_STAGED_TILE_KIB, SPP_COLUMNS_ROWS,
# SPP_COLUMNS_MIN_BLOCKS; (src/cuda/spp_tasks*) SPP_TASKS_CONTIGUOUS, SPP_TASKS_MIN_BLOCKS,
# SPP_TASKS_CTAS_PER_SM, SPP_TASKS_BATCH, SPP_TASKS_FIXED, SPP_TASKS_PAIRS; (src/cuda/roi_slices.cuh)
# SPP_ROI_SLICE_WARPS. Knobs go to both the CUDA and the C++ compiler. Example:
#   scripts/device_tune.sh columns "SPP_COLUMNS_ROWS=8" "SPP_COLUMNS_ROWS=16"
# With BENCH=roi, every variant is timed twice, in turns (A B A B), so drift of the machine shows.
set -uo pipefail
algo=${1:?usage: device_tune.sh ALGO \"KNOB=V ...\" ...}
shift
bench=${BENCH:-spp}
i=0
for variant in "$@"; do
    i=$((i + 1))
    b=build-tune-$i
    flags=""
    for knob in $variant; do flags="$flags -D$knob"; done
    cmake -S . -B $b -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DSPP_BUILD_TESTS=OFF \
        "-DCMAKE_CUDA_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags" > /dev/null && \
        cmake --build $b -j "$(nproc)" --target $bench-bench > /dev/null || { echo "build $variant failed"; continue; }
    if [ "$bench" = spp ]; then
        echo "=== $variant"
        $b/bench/spp-bench --algo "$algo" --runs 50 | grep -E " $algo "
    fi
done
if [ "$bench" = roi ]; then
    for round in 1 2; do
        i=0
        for variant in "$@"; do
            i=$((i + 1))
            echo "=== round $round: $variant"
            build-tune-$i/bench/roi-bench --algo "$algo" --runs 100 | grep -E " $algo "
        done
    done
fi
