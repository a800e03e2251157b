#!/usr/bin/env bash
# Builds spp-bench with several compile-time tuning knobs of the staged kernel and benchmarks each (GPU machine).
#   scripts/device_tune.sh "MIN_BLOCKS:TILE_KIB ..."
set -uo pipefail
variants=${1:-"4:16 6:16 6:8 8:8"}
for v in $variants; do
    mb=${v%%:*}; kib=${v##*:}
    b=build-tune-$mb-$kib
    cmake -S . -B $b -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DSPP_BUILD_TESTS=OFF \
        "-DCMAKE_CUDA_FLAGS=-DSPP_STAGED_MIN_BLOCKS=$mb -DSPP_STAGED_TILE_KIB=$kib" > /dev/null && \
        cmake --build $b -j 16 --target spp-bench > /dev/null || { echo "build $v failed"; continue; }
    echo "=== min blocks $mb, tile $kib KiB"
    $b/bench/spp-bench --algo staged --runs 50 | grep -E "staged"
done
