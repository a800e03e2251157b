#!/usr/bin/env bash
# Builds spp-bench once per set of compile-time tuning knobs and benchmarks one kernel with each (GPU machine).
#   scripts/device_tune.sh ALGO "KNOB=V KNOB=V" ["KNOB=V ..." ...]
# Knobs (src/cuda/spp_kernels.cu): SPP_STAGED_MIN_BLOCKS, SPP_STAGED_TILE_KIB, SPP_COLUMNS_ROWS,
# SPP_COLUMNS_MIN_BLOCKS. Example:
#   scripts/device_tune.sh columns "SPP_COLUMNS_ROWS=8" "SPP_COLUMNS_ROWS=16"
set -uo pipefail
algo=${1:?usage: device_tune.sh ALGO \"KNOB=V ...\" ...}
shift
i=0
for variant in "$@"; do
    i=$((i + 1))
    b=build-tune-$i
    flags=""
    for knob in $variant; do flags="$flags -D$knob"; done
    cmake -S . -B $b -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DSPP_BUILD_TESTS=OFF \
        "-DCMAKE_CUDA_FLAGS=$flags" > /dev/null && \
        cmake --build $b -j "$(nproc)" --target spp-bench > /dev/null || { echo "build $variant failed"; continue; }
    echo "=== $variant"
    $b/bench/spp-bench --algo "$algo" --runs 50 | grep -E " $algo "
done
