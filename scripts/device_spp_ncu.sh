#!/usr/bin/env bash
# Nsight Compute profile of one SPP kernel launch in spp-bench (GPU machine, from the repository root):
#   scripts/device_spp_ncu.sh [case] [algo] [kernel-name-regex] [launches-to-skip] [tag]
# Default: the 32x32 fp32 case, the columns kernel, its 20th launch (past the warm-up of the first dtype). Writes
# $OUT/spp_ncu_<tag>.txt (speed of light, memory, scheduler, warp states).
# SPP_NCU_SOURCE=1 profiles source counters instead: executed warp instructions and stall samples per CUDA source
# line ($OUT/spp_src_<tag>.csv, CUDA lines with their SASS), and prints the 25 lines with the most instructions (an
# inlined call counts at every level of its inline stack, so shares overlap). Per SASS instruction, on this machine:
# scripts/ncu_sass.py $OUT/spp_src_<tag>.csv --warps <grid x warps per CTA> [--split <phase offsets>].
# NCU_NAME_BASE=demangled matches the regex against the demangled name (e.g. 'sppGridKernel<__half' for one dtype).
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
if [ "${SPP_NCU_SOURCE:-0}" = 1 ]; then
    rep=/tmp/spp_src_$tag
    timeout 300 ncu --kernel-name-base "${NCU_NAME_BASE:-function}" --kernel-name "regex:$regex" \
        --launch-skip "$skip" --launch-count 1 --import-source yes \
        --section SourceCounters --section SpeedOfLight --section WarpStateStats --section InstructionStats \
        --section LaunchStats --section Occupancy -f -o "$rep" \
        build-spp-ncu/bench/spp-bench --case "$case_name" --algo "$algo" --runs 50 > "$out/spp_src_$tag.log" 2>&1
    status=$?
    ncu -i "$rep.ncu-rep" --print-details all > "$out/spp_ncu_$tag.txt" 2>&1
    ncu -i "$rep.ncu-rep" --page source --csv --print-source cuda,sass > "$out/spp_src_$tag.csv" 2>&1 || status=1
else
    timeout 300 ncu --kernel-name-base "${NCU_NAME_BASE:-function}" --kernel-name "regex:$regex" \
        --launch-skip "$skip" --launch-count 1 \
        --section SpeedOfLight --section MemoryWorkloadAnalysis --section SchedulerStats --section WarpStateStats \
        --section Occupancy --section LaunchStats --print-details all \
        build-spp-ncu/bench/spp-bench --case "$case_name" --algo "$algo" --runs 50 > "$out/spp_ncu_$tag.txt" 2>&1
    status=$?
fi
grep -E "Duration|DRAM Throughput|Memory Throughput|Registers|Achieved Occupancy|Theoretical Occupancy|Issued Warp|No Eligible|Stall|Warp Cycles Per Issued|Block Limit|Grid Size|Shared Memory Config|Executed Instructions  " \
    "$out/spp_ncu_$tag.txt" | head -40
if [ "${SPP_NCU_SOURCE:-0}" = 1 ]; then
    # per CUDA source line: share of executed instructions and of stall samples (top 25 by instructions)
    python3 - "$out/spp_src_$tag.csv" <<'PY'
import collections, csv, sys
header, file, lines = None, None, collections.defaultdict(lambda: [0.0, 0.0, ""])
for row in csv.reader(open(sys.argv[1])):
    if not row:
        continue
    if row[0] == "File Path":
        file = row[1].split("/")[-1]
    elif row[0] == "Line No":
        header = row
    elif header and row[0].isdigit() and len(row) == len(header):
        entry = lines[(file, int(row[0]))]
        for k, name in enumerate(("Instructions Executed", "Warp Stall Sampling (All Samples)")):
            entry[k] += float(row[header.index(name)] or 0)
        entry[2] = row[1].strip()[:70]
totals = [sum(v[k] for v in lines.values()) or 1 for k in (0, 1)]
for (f, n), (inst, stall, text) in sorted(lines.items(), key=lambda kv: -kv[1][0])[:25]:
    print(f"{f[:16]:16} {n:5} {100 * inst / totals[0]:5.1f}% inst {100 * stall / totals[1]:5.1f}% stalls  {text}")
PY
fi
exit $status
