#!/usr/bin/env python3
"""Checks spp-trt's ROI pooling (CPU reference and CUDA kernels) against torchvision.ops.roi_pool, an oracle we did
not write.

max:  torch.cat([torchvision.ops.roi_pool(x, rois, (Lh, Lw), scale).flatten(1) for each level], 1), computed on the
      fp32 copy of the features and rois (fp16/bf16 values are exact in fp32, and a max is one of its inputs), then
      cast to the feature dtype: must match bit for bit.
      Rows that docs/roi.md defines as invalid (batch index outside [0, N) after truncation, or a non-finite value)
      are undefined behaviour in torchvision, so they are not given to it: they must be all zero.
avg:  torchvision has no average RoIPool. The documented definition (the mean of each max bin's cells) is checked
      through a torch re-implementation written from docs/roi.md, on a subset of rois, and its max variant is
      first checked against torchvision so the windows it uses are torchvision's.

Usage: check_torchvision_roi.py path/to/libspp_testapi.so [--seed N]
Needs torch and torchvision; the CUDA part runs when torch sees a GPU and the library was built with CUDA.
"""
import argparse
import ctypes
import math
import random
import sys

import torch
import torchvision

DTYPE_CODE = {torch.float32: 0, torch.float16: 1, torch.bfloat16: 2}
MODE_CODE = {"max": 0, "avg": 1}


def random_rois(k, n, h, w, scale, gen, rng):
    """Rows (b, x1, y1, x2, y2) in image coordinates, multiples of 0.25, with edge cases mixed in."""
    ih, iw = h / scale, w / scale
    rows = []
    for i in range(k):
        b = float(rng.randrange(max(n, 1)))
        x1, y1 = rng.uniform(0, iw), rng.uniform(0, ih)
        x2, y2 = x1 + rng.uniform(0, iw * 0.6), y1 + rng.uniform(0, ih * 0.6)
        kind = i % 11
        if kind == 2:
            x1, y2 = -rng.uniform(0, iw / 2), ih * 1.4  # over the border
        elif kind == 3:
            x1, x2 = x1 + 2 * iw, x2 + 2 * iw  # outside the map
        elif kind == 4:
            x1, x2 = x2, x1  # degenerate
        elif kind == 5:
            b = float(n)  # batch index out of range
        elif kind == 6:
            b = -1.0
        elif kind == 7:
            x2 = math.nan
        elif kind == 8:
            y1 = -math.inf
        elif kind == 9:
            x1, y1, x2, y2 = 0.0, 0.0, iw, ih
        rows.append([b] + [round(v * 4) / 4 if math.isfinite(v) else v for v in (x1, y1, x2, y2)])
    return torch.tensor(rows, dtype=torch.float32).reshape(k, 5)


def valid_rows(rois, n):
    finite = torch.isfinite(rois).all(dim=1)
    b = rois[:, 0]
    return finite & (b > -1) & (b < n)


def torchvision_max(x, rois, levels, scale):
    """[K, C * sum(Lh*Lw)] in the feature dtype; invalid rows zero."""
    k = rois.shape[0]
    features = x.shape[1] * sum(lh * lw for lh, lw in levels)
    out = torch.zeros((k, features), dtype=torch.float32, device=x.device)
    ok = valid_rows(rois, x.shape[0])
    if bool(ok.any()):
        xf, rf = x.float(), rois[ok].float()
        out[ok] = torch.cat([torchvision.ops.roi_pool(xf, rf, (lh, lw), scale).flatten(1) for lh, lw in levels], 1)
    return out.to(x.dtype)


def docs_windows(start, extent, bins, size):
    """docs/roi.md bin edges along one axis, fp32 bin size (torch float32 arithmetic)."""
    size_f = torch.tensor(float(extent), dtype=torch.float32) / torch.tensor(float(bins), dtype=torch.float32)
    out = []
    for i in range(bins):
        s = int(torch.floor(torch.tensor(float(i), dtype=torch.float32) * size_f)) + start
        e = int(torch.ceil(torch.tensor(float(i + 1), dtype=torch.float32) * size_f)) + start
        out.append((min(max(s, 0), size), min(max(e, 0), size)))
    return out


def docs_pool(x, rois, levels, scale, mode):
    """The documented operation, written from docs/roi.md (float64 accumulation), for a few rois."""
    k, c = rois.shape[0], x.shape[1]
    rows = []
    ok = valid_rows(rois, x.shape[0])
    sc = torch.tensor(scale, dtype=torch.float32)
    for r in range(k):
        parts = []
        for lh, lw in levels:
            block = torch.zeros((c, lh, lw), dtype=torch.float64)
            if bool(ok[r]):
                b = int(rois[r, 0])  # truncation toward zero
                corner = [int(torch.round(rois[r, j].float() * sc)) for j in range(1, 5)]  # half away from zero
                sw, sh, ew, eh = corner
                width, height = max(ew - sw + 1, 1), max(eh - sh + 1, 1)
                for by, (y0, y1) in enumerate(docs_windows(sh, height, lh, x.shape[2])):
                    for bx, (x0, x1) in enumerate(docs_windows(sw, width, lw, x.shape[3])):
                        if y1 > y0 and x1 > x0:
                            cell = x[b, :, y0:y1, x0:x1].double()
                            block[:, by, bx] = cell.amax(dim=(1, 2)) if mode == "max" else cell.mean(dim=(1, 2))
            parts.append(block.flatten())
        rows.append(torch.cat(parts))
    return torch.stack(rows).to(x.dtype)


class RoiLib:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.roiTestReference.restype = ctypes.c_int32
        self.lib.roiTestForward.restype = ctypes.c_int32

    @staticmethod
    def _args(x, rois, levels, mode, scale, layout, cs):
        n = len(levels)
        lh = (ctypes.c_int32 * n)(*[a for a, _ in levels])
        lw = (ctypes.c_int32 * n)(*[b for _, b in levels])
        types = (ctypes.c_int32 * 3)(DTYPE_CODE[x.dtype], DTYPE_CODE[rois.dtype], layout)
        dims = (ctypes.c_int64 * 6)(*x.shape, rois.shape[0], cs)
        return [lh, lw, n, MODE_CODE[mode], ctypes.c_float(scale), types, dims]

    @staticmethod
    def poisoned(x, rois, levels):
        features = x.shape[1] * sum(a * b for a, b in levels)
        return torch.full((rois.shape[0], features), math.nan, dtype=x.dtype, device=x.device)

    def reference(self, x, rois, levels, mode, scale):
        out = self.poisoned(x, rois, levels)
        msg = ctypes.create_string_buffer(256)
        rc = self.lib.roiTestReference(*self._args(x, rois, levels, mode, scale, 0, 0), ctypes.c_void_p(x.data_ptr()),
                                       ctypes.c_void_p(rois.data_ptr()), ctypes.c_void_p(out.data_ptr()), msg, 256)
        if rc != 0:
            raise RuntimeError(msg.value.decode())
        return out

    def forward(self, x, rois, levels, mode, scale, layout=0, cs=0, storage=None):
        out = self.poisoned(x, rois, levels)
        src = storage if storage is not None else x
        stream = torch.cuda.current_stream().cuda_stream
        rc = self.lib.roiTestForward(*self._args(x, rois, levels, mode, scale, layout, cs),
                                     ctypes.c_void_p(src.data_ptr()), ctypes.c_void_p(rois.data_ptr()),
                                     ctypes.c_void_p(out.data_ptr()), ctypes.c_void_p(stream))
        if rc != 0:
            raise RuntimeError(f"roiForward returned cudaError {rc}")
        torch.cuda.synchronize()
        return out


def mismatch(actual, expected, exact):
    a, e = actual.cpu().double(), expected.cpu().double()
    both_nan = torch.isnan(a) & torch.isnan(e)
    if exact:
        ok = (a == e) | both_nan
    else:
        tol = {torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 1.6e-2}[actual.dtype]
        ok = ((a - e).abs() <= tol * (1 + e.abs())) | both_nan
    if bool(ok.all()):
        return ""
    bad = (~ok).nonzero()[0].tolist()
    return (f"{int((~ok).sum())} mismatches, first at {bad}: got {a[tuple(bad)].item()} "
            f"expected {e[tuple(bad)].item()}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("library")
    parser.add_argument("--seed", type=int, default=2015)
    args = parser.parse_args()
    lib = RoiLib(args.library)
    gen = torch.Generator().manual_seed(args.seed)
    rng = random.Random(args.seed)
    cuda = torch.cuda.is_available()
    if not cuda:
        print("check_torchvision_roi: torch sees no GPU - checking the CPU reference against torchvision only")
    # (N, C, H, W, K, scale)
    maps = [(1, 16, 38, 63, 500, 1 / 16), (2, 3, 5, 7, 90, 0.5), (3, 4, 13, 17, 200, 0.25), (1, 2, 150, 200, 60, 1.0),
            (2, 3, 9, 9, 0, 1.0)]
    level_sets = [[(1, 1), (2, 2), (3, 3), (6, 6)], [(7, 7)], [(7, 5)], [(2, 2), (1, 1), (13, 13)]]
    counts = {"reference": 0, "cuda": 0, "docs-avg": 0}
    failures = []
    for (n, c, h, w, k, scale) in maps:
        for dtype in (torch.float32, torch.float16, torch.bfloat16):
            x = (torch.randn((n, c, h, w), generator=gen) * 3).to(dtype)
            rois32 = random_rois(k, n, h, w, scale, gen, rng)
            for roi_dtype in {torch.float32, dtype}:
                rois = rois32.to(roi_dtype)  # what the kernel sees; torchvision gets the same values in fp32
                for levels in level_sets:
                    tag = f"N{n} C{c} {h}x{w} K{k} {str(dtype)[6:]} rois {str(roi_dtype)[6:]} levels={levels}"
                    expected = torchvision_max(x, rois.float(), levels, scale)
                    got = lib.reference(x, rois, levels, "max", scale)
                    counts["reference"] += 1
                    if err := mismatch(got, expected, True):
                        failures.append(f"reference max {tag}: {err}")
                    # avg: the documented definition (its max variant must agree with torchvision first)
                    few = rois[: min(k, 24)]
                    if few.shape[0] > 0 and levels[0] != (7, 7):
                        docs_max = docs_pool(x, few.float(), levels, scale, "max")
                        if err := mismatch(docs_max, expected[: few.shape[0]], True):
                            failures.append(f"docs re-implementation max {tag}: {err}")
                        docs_avg = docs_pool(x, few.float(), levels, scale, "avg")
                        got_avg = lib.reference(x, few.contiguous(), levels, "avg", scale)
                        counts["docs-avg"] += 1
                        if err := mismatch(got_avg, docs_avg, False):
                            failures.append(f"reference avg {tag}: {err}")
                    if not cuda:
                        continue
                    xc, rc = x.cuda(), rois.cuda()
                    variants = [("NCHW", 0, 0, None)]
                    cl = xc.contiguous(memory_format=torch.channels_last)
                    variants.append(("NHWC", 1, 0, cl))
                    cpad = (c + 7) // 8 * 8
                    padded = torch.full((n, h, w, cpad), math.nan, dtype=dtype, device="cuda")
                    padded[..., :c] = xc.permute(0, 2, 3, 1)
                    variants.append(("NHWC8", 1, cpad, padded))
                    ref_avg = lib.reference(x, rois, levels, "avg", scale)
                    for name, layout, cs, storage in variants:
                        got = lib.forward(xc, rc, levels, "max", scale, layout, cs, storage)
                        counts["cuda"] += 1
                        if err := mismatch(got, expected, True):
                            failures.append(f"cuda max {name} {tag}: {err}")
                        got = lib.forward(xc, rc, levels, "avg", scale, layout, cs, storage)
                        counts["cuda"] += 1
                        if err := mismatch(got, ref_avg, False):
                            failures.append(f"cuda avg {name} {tag}: {err}")
    print(f"check_torchvision_roi: torch {torch.__version__}, torchvision {torchvision.__version__}; "
          f"{counts['reference']} reference and {counts['cuda']} CUDA results compared with torchvision / the "
          f"reference, {counts['docs-avg']} avg checks against the docs re-implementation; {len(failures)} failures")
    for f in failures[:20]:
        print("  FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
