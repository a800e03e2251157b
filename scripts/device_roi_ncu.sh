#!/usr/bin/env bash
# Nsight Compute profile of one ROI kernel launch in roi-bench (GPU machine, from the repository root):
#
#   scripts/device_roi_ncu.sh [kernel-name-regex] [launches-to-skip]
#
# Default: the first roiSlicesKernel launch (roi-bench's fp32 max case, kAUTO). Builds roi-bench (sm_90) in
# build-roi-ncu/ and writes $OUT/roi_ncu.txt (speed of light, memory, scheduler, warp states, source hot spots).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
out=${OUT:-$repo/device-out}
mkdir -p "$out"
regex=${1:-roiSlicesKernel}
skip=${2:-0}
cmake -S . -B build-roi-ncu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DCMAKE_CUDA_FLAGS=-lineinfo > "$out/roi_ncu_build.log" 2>&1 \
    && cmake --build build-roi-ncu -j "$(nproc)" --target roi-bench >> "$out/roi_ncu_build.log" 2>&1 \
    || { tail -30 "$out/roi_ncu_build.log"; exit 1; }
timeout 300 ncu --kernel-name "regex:$regex" --launch-skip "$skip" --launch-count 1 \
    --section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
    --section SchedulerStats --section WarpStateStats --section Occupancy --section LaunchStats \
    --section SourceCounters --print-details all --export "$out/roi_ncu" --force-overwrite \
    build-roi-ncu/bench/roi-bench --runs 50 > "$out/roi_ncu.txt" 2>&1
status=$?
# Per SASS instruction with its CUDA line (needs -lineinfo, set above): instructions executed, stall samples.
ncu --import "$out/roi_ncu.ncu-rep" --page source --print-source cuda,sass --csv > "$out/roi_ncu_source.csv" 2>&1
ncu --import "$out/roi_ncu.ncu-rep" --print-details all >> "$out/roi_ncu.txt" 2>&1 # --export printed no sections
rm -f "$out/roi_ncu.ncu-rep"
grep -E "Duration|Throughput|Registers|Achieved Occupancy|Issued Warp|No Eligible|Stall|Warp Cycles Per Issued|L1/TEX Hit|L2 Hit|Shared" \
    "$out/roi_ncu.txt" | head -60
exit $status
