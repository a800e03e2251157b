#!/usr/bin/env python3
"""Per-instruction view of an Nsight Compute source-counter CSV (scripts/device_spp_ncu.sh with SPP_NCU_SOURCE=1 writes
$OUT/spp_src_<tag>.csv; scripts/device_roi_ncu.sh the same for ROI kernels).

    scripts/ncu_sass.py spp_src_t13.csv [--warps N] [--min X] [--split ADDR,ADDR,...]

Prints every executed SASS instruction in address order: its offset, executions per warp (executed warp instructions
divided by N, the launch's warps: grid size x warps per CTA; default 1, i.e. raw counts), stall samples and the
source lines it came from (file:line at each level of the inline stack). --min hides instructions executed less than
X times per warp. --split prints, instead, the executions per warp summed over address ranges cut at the given
offsets (hex), e.g. the load, program and store phases of a kernel, with the total.
"""
import argparse
import csv
import sys


def read(path):
    instructions = {}
    source = None
    header = None
    file = None
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if not row:
                continue
            if row[0] == "File Path":
                file = row[1].split("/")[-1]
                continue
            if row[0] == "Line No":
                header = row
                continue
            if header is None:
                continue
            if row[0].isdigit():
                source = f"{file}:{row[0]}"
                continue
            if row[0] == "" and len(row) > 7 and row[2].startswith("0x"):
                address = int(row[2], 16)
                executed = int(row[header.index("Instructions Executed")] or 0)
                stalls = int(row[header.index("Warp Stall Sampling (All Samples)")] or 0)
                entry = instructions.setdefault(address, [row[3], executed, stalls, []])
                entry[3].append(source)
    return instructions


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--warps", type=float, default=1.0)
    parser.add_argument("--min", type=float, default=0.0)
    parser.add_argument("--split", default="")
    args = parser.parse_args()
    instructions = read(args.csv)
    if not instructions:
        sys.exit(f"{args.csv}: no SASS rows (was it written with --print-source cuda,sass?)")
    base = min(instructions)
    total = sum(e[1] for e in instructions.values()) / args.warps
    if args.split:
        cuts = [int(c, 16) for c in args.split.split(",")]
        sums = [0.0] * (len(cuts) + 1)
        for address, (_, executed, _, _) in instructions.items():
            offset = address - base
            sums[sum(1 for c in cuts if offset >= c)] += executed / args.warps
        bounds = ["0"] + [f"{c:x}" for c in cuts] + ["end"]
        for k, value in enumerate(sums):
            print(f"[{bounds[k]}, {bounds[k + 1]}): {value:10.1f}")
        print(f"total: {total:10.1f} per warp")
        return
    for address in sorted(instructions):
        text, executed, stalls, sources = instructions[address]
        per_warp = executed / args.warps
        if per_warp == 0 or per_warp < args.min:
            continue
        print(f"{address - base:6x} {per_warp:9.2f} {stalls:5d}  {text[:64]:64} {';'.join(sources)}")
    print(f"total: {total:.1f} executed per warp")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()
