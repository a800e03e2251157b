#!/usr/bin/env bash
# Nsight Compute profile of one SPP kernel launch in spp-bench (GPU machine, from the repository root):
#   scripts/device_spp_ncu.sh [case] [algo] [kernel-name-regex] [launches-to-skip] [tag]
# Default: the 32x32 fp32 case, the columns kernel, its 20th launch (past the warm-up of the first dtype). Writes
# $OUT/spp_ncu_<tag>.txt (speed of light, memory, scheduler, warp states).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
out=${OUT:-$repo/device-out}
mkdir -p "$out"
case_name=${1:-N64_C512_32x32_L124}
algo=${2:-columns}
regex=${3:-sppColumnsKernel}
skip=${4:-20}
tag=${5:-$algo}
cmake -S . -B build-spp-ncu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DSPP_BUILD_TESTS=OFF \
    -DCMAKE_CUDA_FLAGS=-lineinfo > "$out/spp_ncu_build.log" 2>&1 \
    && cmake --build build-spp-ncu -j "$(nproc)" --target spp-bench >> "$out/spp_ncu_build.log" 2>&1 \
    || { tail -30 "$out/spp_ncu_build.log"; exit 1; }
timeout 300 ncu --kernel-name "regex:$regex" --launch-skip "$skip" --launch-count 1 \
    --section SpeedOfLight --section MemoryWorkloadAnalysis --section SchedulerStats --section WarpStateStats \
    --section Occupancy --section LaunchStats --print-details all \
    build-spp-ncu/bench/spp-bench --case "$case_name" --algo "$algo" --runs 50 > "$out/spp_ncu_$tag.txt" 2>&1
status=$?
grep -E "Duration|DRAM Throughput|Memory Throughput|Registers|Achieved Occupancy|Theoretical Occupancy|Issued Warp|No Eligible|Stall|Warp Cycles Per Issued|Block Limit|Grid Size|Shared Memory Config" \
    "$out/spp_ncu_$tag.txt" | head -40
exit $status
