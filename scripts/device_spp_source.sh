#!/usr/bin/env bash
# Nsight Compute source-level profile of one SPP kernel launch (GPU machine, from the repository root): executed
# warp instructions and stall samples per CUDA source line, to see which stage of a kernel costs what.
#   scripts/device_spp_source.sh [case] [algo] [kernel-name-regex] [launches-to-skip] [tag]
# Writes $OUT/spp_src_<tag>.csv (the source page) and $OUT/spp_src_<tag>.txt (summary sections).
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
rep=/tmp/spp_src_$tag
timeout 300 ncu --kernel-name "regex:$regex" --launch-skip "$skip" --launch-count 1 --import-source yes \
    --section SourceCounters --section SpeedOfLight --section WarpStateStats --section InstructionStats \
    --section LaunchStats --section Occupancy -f -o "$rep" \
    build-spp-ncu/bench/spp-bench --case "$case_name" --algo "$algo" --runs 50 > "$out/spp_src_$tag.log" 2>&1
status=$?
ncu -i "$rep.ncu-rep" --print-details all > "$out/spp_src_$tag.txt" 2>&1
ncu -i "$rep.ncu-rep" --page source --csv --print-source sass > "$out/spp_src_$tag.csv" 2>&1 || status=1
grep -E "Duration|Executed Instructions|Issued Warp|Registers|Achieved Occupancy|Warp Cycles Per Issued" \
    "$out/spp_src_$tag.txt" | head -20
exit $status
