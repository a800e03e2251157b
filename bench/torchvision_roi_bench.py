#!/usr/bin/env python3
"""torchvision baseline for roi-bench: torch.cat([torchvision.ops.roi_pool(x, rois, L, 1/16).flatten(1) for L in
(1, 2, 3, 6)], 1) on features 1x256x38x63 and K = 2000 random proposals (the same generator as bench/roi_bench.cu),
fp32 and fp16. CUDA events, 20 warm-up calls, then, rotating over 8 input sets, the median of --runs (>= 50) single
calls between two events ("1 call") and of --runs batches of 20 back-to-back calls, per call ("pipelined"), as
roi-bench does.

Usage: torchvision_roi_bench.py [--json FILE] [--runs N] [--k K]
"""
import argparse
import json
import random
import statistics

import torch
import torchvision


def proposals(k, rng):
    rows = []
    for _ in range(k):
        x1, y1 = rng.uniform(0, 1008), rng.uniform(0, 600)
        rows.append([0.0, x1, y1, min(x1 + rng.uniform(16, 400), 1007.0), min(y1 + rng.uniform(16, 400), 599.0)])
    return torch.tensor(rows, dtype=torch.float32)


def spp_roi(x, rois):
    return torch.cat([torchvision.ops.roi_pool(x, rois, (L, L), 1.0 / 16).flatten(1) for L in (1, 2, 3, 6)], 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--k", type=int, default=2000)
    args = parser.parse_args()
    runs = max(50, args.runs)
    rng = random.Random(7)
    results = []
    name = torch.cuda.get_device_name()
    print(f"torchvision {torchvision.__version__} roi_pool per level + cat on {name}: 1x256x38x63, K = {args.k}, "
          f"levels 1,2,3,6, median of {runs}")
    for dtype in (torch.float32, torch.float16):
        sets = [(torch.randn((1, 256, 38, 63), device="cuda").to(dtype), proposals(args.k, rng).cuda().to(dtype))
                for _ in range(8)]
        with torch.no_grad():
            for i in range(20):
                spp_roi(*sets[i % 8])
            torch.cuda.synchronize()
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            batches = []
            for r in range(runs):
                start.record()
                for i in range(20):
                    spp_roi(*sets[(r * 20 + i) % 8])
                stop.record()
                stop.synchronize()
                batches.append(start.elapsed_time(stop) * 1000.0 / 20)
            times = []
            for r in range(runs):
                x, rois = sets[r % 8]
                start.record()
                spp_roi(x, rois)
                stop.record()
                stop.synchronize()
                times.append(start.elapsed_time(stop) * 1000.0)
        us = statistics.median(times)
        pipelined = statistics.median(batches)
        print(f"  {str(dtype)[6:]:8s} median 1 call {us:8.1f} us, pipelined {pipelined:8.1f} us")
        results.append({"dtype": str(dtype)[6:], "median_us": us, "pipelined_us": pipelined, "runs": runs})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name, "k": args.k, "torchvision": torchvision.__version__, "results": results}, f)


if __name__ == "__main__":
    main()
