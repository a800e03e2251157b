#!/usr/bin/env bash
# Nsight Compute profile of one ROI kernel launch in roi-bench (GPU machine, from the repository root):
#
#   [ROI_BENCH_ARGS="--runs 50 --k 16 --algo slices"] [NCU_TAG=name] [ROI_BENCH_BIN=path]
#       scripts/device_roi_ncu.sh [kernel-name-regex] [launches-to-skip]
#
# ROI_BENCH_BIN: a roi-bench built elsewhere (e.g. here, without a GPU: cmake with -DCMAKE_CUDA_FLAGS=-lineinfo, then
# carried), so the GPU machine spends no time building; without -lineinfo the source page has no CUDA lines.
# Default: the first roiSlicesKernel launch (roi-bench's fp32 max case, kAUTO). Builds roi-bench (sm_90) in
# build-roi-ncu/ and writes $OUT/roi_ncu${NCU_TAG}.txt (speed of light, memory, scheduler, warp states, source hot
# spots) and roi_ncu${NCU_TAG}_source.csv. ROI_BENCH_ARGS default to --runs 50; with --runs 50 --algo slices, each
# case launches each slices kernel 1071 times (1 checked, 20 warm-up, 50 x 20 pipelined, 50 single), so the fp16 max
# case's first launch comes after 2142.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
out=${OUT:-$repo/device-out}
mkdir -p "$out"
regex=${1:-roiSlicesKernel}
skip=${2:-0}
bench=${ROI_BENCH_BIN:-build-roi-ncu/bench/roi-bench}
if [ -z "${ROI_BENCH_BIN:-}" ]; then
    cmake -S . -B build-roi-ncu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
        -DCMAKE_CUDA_FLAGS=-lineinfo > "$out/roi_ncu_build.log" 2>&1 \
        && cmake --build build-roi-ncu -j "$(nproc)" --target roi-bench >> "$out/roi_ncu_build.log" 2>&1 \
        || { tail -30 "$out/roi_ncu_build.log"; exit 1; }
fi
timeout 300 ncu --kernel-name "regex:$regex" --launch-skip "$skip" --launch-count 1 \
    --section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
    --section SchedulerStats --section WarpStateStats --section Occupancy --section LaunchStats \
    --section SourceCounters --print-details all --export "$out/roi_ncu${NCU_TAG:-}" --force-overwrite \
    "$bench" ${ROI_BENCH_ARGS:---runs 50} > "$out/roi_ncu${NCU_TAG:-}.txt" 2>&1
status=$?
# Per SASS instruction with its CUDA line (needs -lineinfo, set above): instructions executed, stall samples.
ncu --import "$out/roi_ncu${NCU_TAG:-}.ncu-rep" --page source --print-source cuda,sass --csv > "$out/roi_ncu${NCU_TAG:-}_source.csv" 2>&1
ncu --import "$out/roi_ncu${NCU_TAG:-}.ncu-rep" --print-details all >> "$out/roi_ncu${NCU_TAG:-}.txt" 2>&1 # --export printed no sections
rm -f "$out/roi_ncu${NCU_TAG:-}.ncu-rep"
grep -E "Duration|Throughput|Registers|Achieved Occupancy|Issued Warp|No Eligible|Stall|Warp Cycles Per Issued|L1/TEX Hit|L2 Hit|Shared" \
    "$out/roi_ncu${NCU_TAG:-}.txt" | head -60
exit $status
