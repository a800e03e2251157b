#!/usr/bin/env python3
"""Checks spp-trt's CPU reference and CUDA kernels against PyTorch, an oracle we did not write.

adaptive bins: torch.nn.functional.adaptive_{max,avg}_pool2d per level + cat.
caffe bins:    torch's own max_pool2d / avg_pool2d with kernel = stride = k over an explicitly padded map
               (-inf padding for max, zero padding for avg, so avg divides by k*k); bins whose window lies wholly in
               the padding are zeroed, as docs/spp.md specifies.
int8:          computed in float64 by torch, then max cast exactly and avg rounded half-to-even (torch.round) and
               clamped.

Usage: check_torch.py path/to/libspp_testapi.so [--seed N]
Needs torch; the CUDA part runs when torch sees a GPU and the library was built with CUDA.
"""
import argparse
import ctypes
import math
import random
import sys

import torch
import torch.nn.functional as F

DTYPE_CODE = {torch.float32: 0, torch.float16: 1, torch.bfloat16: 2, torch.int8: 3}
MODE_CODE = {"max": 0, "avg": 1}
RULE_CODE = {"adaptive": 0, "caffe": 1}


def caffe_geometry(size, level):
    k = -(-size // level)
    pad = (k * level - size + 1) // 2
    return k, pad, k * level - size - pad


def torch_level(x, level, mode, rule):
    """[N, C, L, L] pooled by torch (x is float64)."""
    if rule == "adaptive":
        fn = F.adaptive_max_pool2d if mode == "max" else F.adaptive_avg_pool2d
        return fn(x, level)
    kh, top, bottom = caffe_geometry(x.shape[2], level)
    kw, left, right = caffe_geometry(x.shape[3], level)
    fill = -math.inf if mode == "max" else 0.0
    padded = F.pad(x, (left, right, top, bottom), value=fill)
    if mode == "max":
        y = F.max_pool2d(padded, (kh, kw), stride=(kh, kw))
    else:
        y = F.avg_pool2d(padded, (kh, kw), stride=(kh, kw))
    # windows entirely in the padding are empty: 0 by definition
    for i in range(level):
        if i * kh - top + kh <= 0 or i * kh - top >= x.shape[2]:
            y[:, :, i, :] = 0
        if i * kw - left + kw <= 0 or i * kw - left >= x.shape[3]:
            y[:, :, :, i] = 0
    return y


def torch_spp(x, levels, mode, rule):
    if x.shape[0] == 0:
        return torch.empty((0, x.shape[1] * sum(L * L for L in levels)), dtype=x.dtype)
    xd = x.double()
    y = torch.cat([torch_level(xd, L, mode, rule).flatten(1) for L in levels], 1)
    if x.dtype == torch.int8:
        y = y if mode == "max" else torch.round(y)
        return y.clamp(-128, 127).to(torch.int8)
    return y.to(x.dtype)


class Spp:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.sppTestReference.restype = ctypes.c_int32
        self.lib.sppTestForward.restype = ctypes.c_int32
        self.lib.sppTestAlgoSupported.restype = ctypes.c_int32

    def supported(self, x, levels, mode, rule, layout, cs, algo):
        return self.lib.sppTestAlgoSupported(*self._args(x, levels, mode, rule, layout, cs), algo) == 1

    def _args(self, x, levels, mode, rule, layout, cs):
        lv = (ctypes.c_int32 * len(levels))(*levels)
        n, c, h, w = x.shape
        dims = (ctypes.c_int64 * 4)(n, c, h, w)
        return [lv, len(levels), MODE_CODE[mode], RULE_CODE[rule], DTYPE_CODE[x.dtype], layout, dims, cs]

    def reference(self, x, levels, mode, rule, layout=0, cs=0, storage=None):
        out = self.poisoned(x, levels, x.device)
        msg = ctypes.create_string_buffer(256)
        src = storage if storage is not None else x
        rc = self.lib.sppTestReference(*self._args(x, levels, mode, rule, layout, cs), ctypes.c_void_p(src.data_ptr()),
                                       ctypes.c_void_p(out.data_ptr()), msg, 256)
        if rc != 0:
            raise RuntimeError(msg.value.decode())
        return out

    def forward(self, x, levels, mode, rule, layout=0, cs=0, storage=None, algo=0, poison=None):
        out = self.poisoned(x, levels, x.device, poison)
        src = storage if storage is not None else x
        stream = torch.cuda.current_stream().cuda_stream
        rc = self.lib.sppTestForward(*self._args(x, levels, mode, rule, layout, cs), ctypes.c_void_p(src.data_ptr()),
                                     ctypes.c_void_p(out.data_ptr()), ctypes.c_void_p(stream), algo)
        if rc != 0:
            raise RuntimeError(f"sppForward returned cudaError {rc}")
        torch.cuda.synchronize()
        return out

    @staticmethod
    def poisoned(x, levels, device, poison=None):
        features = x.shape[1] * sum(L * L for L in levels)
        if x.dtype == torch.int8:
            return torch.full((x.shape[0], features), -77 if poison is None else poison, dtype=torch.int8, device=device)
        return torch.full((x.shape[0], features), math.nan, dtype=x.dtype, device=device)


def matches(actual, expected, exact):
    a, e = actual.cpu().double(), expected.cpu().double()
    both_nan = torch.isnan(a) & torch.isnan(e)
    if exact:
        ok = (a == e) | both_nan
    else:
        tol = {torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 1.6e-2}[actual.dtype]
        ok = ((a - e).abs() <= tol * (1 + e.abs())) | both_nan
    if bool(ok.all()):
        return ""
    bad = (~ok).nonzero()[:3].flatten().tolist()
    return f"{int((~ok).sum())} mismatches, first at {bad}: got {a.flatten()[bad[0]].item()} expected {e.flatten()[bad[0]].item()}"


def random_input(shape, dtype, gen):
    if dtype == torch.int8:
        return torch.randint(-128, 128, shape, generator=gen, dtype=torch.int8)
    x = torch.randn(shape, generator=gen, dtype=torch.float32) * 3
    return x.to(dtype)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("library")
    parser.add_argument("--seed", type=int, default=2014)
    args = parser.parse_args()
    spp = Spp(args.library)
    gen = torch.Generator().manual_seed(args.seed)
    rng = random.Random(args.seed)
    cuda = torch.cuda.is_available()
    if not cuda:
        print("check_torch: torch sees no GPU - checking the CPU reference against torch only")

    shapes = [(2, 3, 1, 1), (1, 2, 1, 97), (2, 3, 5, 7), (2, 4, 13, 13), (1, 3, 38, 63), (1, 2, 96, 96),
              (2, 2, 257, 3), (3, 5, 6, 5), (1, 2, 300, 200), (1, 1, 3, 20000), (0, 3, 13, 13),
              (2, 5, 48, 96), (3, 4, 32, 64)]  # the last two: uniform grids for most level sets (algo 5, kGRID)
    level_sets = [[1], [1, 2, 4], [1, 2, 3, 6], [1, 2, 3, 4, 5, 6, 7, 8, 13], [6, 3]]
    dtypes = [torch.float32, torch.float16, torch.bfloat16, torch.int8]
    checked = {"reference": 0, "cuda": 0, "grid": 0, "tasks": 0}
    failures = []
    for shape in shapes:
        for dtype in dtypes:
            x = random_input(shape, dtype, gen)
            if dtype != torch.int8 and x.numel() > 8:  # NaN and -inf must survive max pooling
                flat = x.view(-1)
                flat[rng.randrange(flat.numel())] = math.nan
                flat[rng.randrange(flat.numel())] = -math.inf
            for mode in ("max", "avg"):
                for rule in ("adaptive", "caffe"):
                    levels = rng.choice(level_sets)
                    xin = x if mode == "max" else torch.nan_to_num(x, nan=0.5, neginf=-3.0)
                    expected = torch_spp(xin, levels, mode, rule)
                    exact = mode == "max" or dtype == torch.int8
                    tag = f"{tuple(shape)} {str(dtype)[6:]} {mode} {rule} levels={levels}"
                    got = spp.reference(xin, levels, mode, rule)
                    checked["reference"] += 1
                    if err := matches(got, expected, exact):
                        failures.append(f"reference {tag}: {err}")
                    if not cuda:
                        continue
                    xc = xin.cuda()
                    variants = [("NCHW", xc, 0, 0, None)]
                    cl = xc.contiguous(memory_format=torch.channels_last)
                    variants.append(("NHWC", cl, 1, 0, cl))
                    cpad = (shape[1] + 7) // 8 * 8  # kHWC8-style padded channels, padding poisoned
                    padded = torch.full((shape[0], shape[2], shape[3], cpad), math.nan if dtype != torch.int8 else 99,
                                        dtype=dtype, device="cuda")
                    padded[..., :shape[1]] = xc.permute(0, 2, 3, 1)
                    variants.append(("NHWC8", xc, 1, cpad, padded))
                    for name, xv, layout, cs, storage in variants:
                        # spp::Algo: 0 auto, 1 staged, 2 direct, 3 planes, 4 columns, 5 grid, 6 tasks (NCHW only but
                        # 0, 2)
                        for algo in ((0, 1, 2, 3, 4, 5, 6) if layout == 0 else (0, 2)):
                            if not spp.supported(xv, levels, mode, rule, layout, cs, algo):
                                continue  # e.g. a row too wide to stage (the C++ AlgoSupport test covers it)
                            for poison in ((None, 55) if dtype == torch.int8 else (None,)):
                                got = spp.forward(xv, levels, mode, rule, layout, cs, storage, algo, poison)
                                checked["cuda"] += 1
                                checked["grid"] += algo == 5
                                checked["tasks"] += algo == 6
                                if err := matches(got, expected, exact):
                                    failures.append(f"cuda {name} algo={algo} {tag}: {err}")
    if cuda and checked["grid"] == 0:
        failures.append("the grid kernel (algo 5) took none of the cases: the uniform shapes no longer reach it")
    if cuda and checked["tasks"] == 0:
        failures.append("the tasks kernel (algo 6) took none of the cases: the small shapes no longer reach it")
    print(f"check_torch: torch {torch.__version__}; {checked['reference']} reference and {checked['cuda']} CUDA "
          f"results ({checked['grid']} by the grid kernel, {checked['tasks']} by the tasks kernel) compared with torch; "
          f"{len(failures)} failures")
    for f in failures[:20]:
        print("  FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
