#!/usr/bin/env python3
"""The spp-bench cases through PyTorch: eager (adaptive_max_pool2d per level + cat) and torch.compile.

CUDA events, 10 warm-up runs, median of --runs, inputs rotated so that together they exceed 4x L2 (as spp-bench).
Usage: torch_bench.py [--json FILE] [--runs N]
"""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F

CASES = [
    ("N32_C256_13x13_L1236", (32, 256, 13, 13), (1, 2, 3, 6)),
    ("N1_C256_38x63_L1236", (1, 256, 38, 63), (1, 2, 3, 6)),
    ("N64_C512_32x32_L124", (64, 512, 32, 32), (1, 2, 4)),
    ("N16_C256_64x64_L124", (16, 256, 64, 64), (1, 2, 4)),
    ("N8_C256_96x96_L124", (8, 256, 96, 96), (1, 2, 4)),
]


def spp_eager(x, levels):
    return torch.cat([F.adaptive_max_pool2d(x, L).flatten(1) for L in levels], 1)


def time_batched(fn, inputs, runs, batch=20):
    """Per-call time in a stream of `batch` back-to-back calls (as spp-bench's pipelined column)."""
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    times = []
    for i in range(runs + 3):
        start.record()
        for b in range(batch):
            fn(inputs[(i * batch + b) % len(inputs)])
        stop.record()
        stop.synchronize()
        if i >= 3:
            times.append(start.elapsed_time(stop) * 1e3 / batch)
    return statistics.median(times)


def time_fn(fn, inputs, runs):
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    times = []
    for i in range(runs + 10):
        x = inputs[i % len(inputs)]
        start.record()
        fn(x)
        stop.record()
        stop.synchronize()
        if i >= 10:
            times.append(start.elapsed_time(stop) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    props = torch.cuda.get_device_properties(0)
    l2 = props.L2_cache_size
    results = []
    for name, shape, levels in CASES:
        for dtype in (torch.float32, torch.float16):
            x0 = torch.randn(shape, device="cuda", dtype=dtype)
            rotate = max(2, 4 * l2 // (x0.numel() * x0.element_size()) + 1)
            inputs = [torch.randn(shape, device="cuda", dtype=dtype) for _ in range(rotate)]
            eager = lambda x, lv=levels: spp_eager(x, lv)
            torch._dynamo.reset()  # one compiled graph per case: no recompile limit, no dtype guards
            compiled = torch.compile(lambda x, lv=levels: spp_eager(x, lv), dynamic=False)
            ref = eager(inputs[0])
            assert torch.equal(compiled(inputs[0]), ref), "torch.compile disagrees with eager"
            row = {"case": name, "dtype": "fp32" if dtype == torch.float32 else "fp16",
                   "eager_us": time_fn(eager, inputs, args.runs), "compile_us": time_fn(compiled, inputs, args.runs),
                   "eager_pipelined_us": time_batched(eager, inputs, args.runs),
                   "compile_pipelined_us": time_batched(compiled, inputs, args.runs)}
            results.append(row)
            print(f"{name:24s} {row['dtype']:5s} eager {row['eager_us']:9.2f} us (pipelined {row['eager_pipelined_us']:9.2f})"
                  f"   torch.compile {row['compile_us']:9.2f} us (pipelined {row['compile_pipelined_us']:9.2f})", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"gpu": props.name, "torch": torch.__version__, "runs": args.runs, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
