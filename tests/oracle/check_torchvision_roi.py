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
      Corners are round(x * scale) half AWAY from zero, as torchvision's C++ round(); torch.round would be half to
      even (2.5 -> 2), which moved windows in an earlier version of this script. Every roi set has rows whose
      corners land exactly on .5, and a sensitivity check at the end requires that a half-to-even variant of the
      re-implementation, a one-ulp change of a max and a shifted avg window are all reported as mismatches.

Every CUDA case runs with each kernel that can take it (spp::RoiAlgo: auto, planes, direct, segments, slices).

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
ALGO_CODE = {"auto": 0, "planes": 1, "direct": 2, "segments": 3, "slices": 4}  # spp::RoiAlgo
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
        elif kind == 10:
            # every corner exactly on .5 after scaling (multiples of 0.25 for the scales used; exact in fp16 and,
            # while 2m + 1 < 256, bf16), x1 < 0 too: half away from zero and half to even disagree on every other one
            def half(m):
                return (m + 0.5) / scale
            x1 = -half(rng.randrange(2))
            y1 = half(rng.randrange(max(min(h, 100) // 2, 1)))
            x2 = half(rng.randrange(min(w, 100)))
            y2 = half(rng.randrange(min(h, 100)))
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


def round_half_away(v):
    """C/C++ round(): half away from zero (2.5 -> 3, -0.5 -> -1). v is a Python float holding an fp32 value, so
    abs(v) + 0.5 is exact in double and the floor cannot be off by one."""
    return math.copysign(math.floor(abs(v) + 0.5), v)


def round_half_even(v):
    """torch.round / Python round(): half to even. Wrong for docs/roi.md; used only to show the check can fail."""
    return float(round(v))


COORD_LIMIT = float(2 ** 40)  # docs/roi.md: corners are clamped to +-2^40 feature cells


def docs_corner(value, scale, rounding=round_half_away):
    """docs/roi.md step 2: one fp32 multiplication, then round half away from zero, clamped."""
    product = float(torch.tensor(value, dtype=torch.float32) * torch.tensor(scale, dtype=torch.float32))
    return int(min(max(rounding(product), -COORD_LIMIT), COORD_LIMIT))


def docs_pool(x, rois, levels, scale, mode, rounding=round_half_away):
    """The documented operation, written from docs/roi.md (float64 accumulation), for a few rois. `rois` are the
    fp32 values the library sees (fp16/bf16 rois converted exactly)."""
    k, c = rois.shape[0], x.shape[1]
    rows = []
    ok = valid_rows(rois, x.shape[0])
    for r in range(k):
        parts = []
        for lh, lw in levels:
            block = torch.zeros((c, lh, lw), dtype=torch.float64)
            if bool(ok[r]):
                b = int(rois[r, 0])  # truncation toward zero
                sw, sh, ew, eh = [docs_corner(float(rois[r, j]), scale, rounding) for j in range(1, 5)]
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
        self.lib.roiTestWorkspaceSize.restype = ctypes.c_int64
        self.lib.roiTestAlgoSupported.restype = ctypes.c_int32

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

    def workspace_bytes(self, x, rois, levels, mode, scale, layout=0, cs=0):
        return int(self.lib.roiTestWorkspaceSize(*self._args(x, rois, levels, mode, scale, layout, cs)))

    def supported(self, x, rois, levels, mode, scale, layout, cs, algo, workspace_bytes):
        return self.lib.roiTestAlgoSupported(*self._args(x, rois, levels, mode, scale, layout, cs),
                                             ctypes.c_int32(ALGO_CODE[algo]), ctypes.c_int64(workspace_bytes)) == 1

    def forward(self, x, rois, levels, mode, scale, layout=0, cs=0, storage=None, algo="auto"):
        out = self.poisoned(x, rois, levels)
        src = storage if storage is not None else x
        stream = torch.cuda.current_stream().cuda_stream
        ws_bytes = self.workspace_bytes(x, rois, levels, mode, scale, layout, cs)
        ws = torch.empty(max(ws_bytes, 1), dtype=torch.uint8, device="cuda")
        rc = self.lib.roiTestForward(*self._args(x, rois, levels, mode, scale, layout, cs),
                                     ctypes.c_void_p(src.data_ptr()), ctypes.c_void_p(rois.data_ptr()),
                                     ctypes.c_void_p(out.data_ptr()), ctypes.c_void_p(stream),
                                     ctypes.c_int32(ALGO_CODE[algo]), ctypes.c_void_p(ws.data_ptr()),
                                     ctypes.c_int64(ws_bytes))
        if rc != 0:
            raise RuntimeError(f"roiForward ({algo}) returned cudaError {rc}")
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


def sensitivity_failures(lib, gen):
    """The comparisons above must be able to fail. On rois whose corners all land on .5 (where half away from zero
    and half to even disagree), each deliberately wrong result below must be reported as a mismatch; an empty
    mismatch() string here is a failure of the checker itself."""
    n, c, h, w, scale = 2, 3, 5, 7, 0.5
    levels = [(1, 1), (2, 2), (3, 3)]
    x = torch.randn((n, c, h, w), generator=gen) * 3
    rows = [[float(i % 2), -(i % 2 + 0.5) / scale, (i % 3 + 0.5) / scale, (i % 7 + 0.5) / scale,
             (i % 5 + 0.5) / scale] for i in range(16)]
    rois = torch.tensor(rows, dtype=torch.float32)
    expected = torchvision_max(x, rois, levels, scale)
    out = []
    if err := mismatch(docs_pool(x, rois, levels, scale, "max"), expected, True):
        out.append(f"sensitivity: the docs re-implementation (half away from zero) disagrees with torchvision: {err}")
    if not mismatch(docs_pool(x, rois, levels, scale, "max", round_half_even), expected, True):
        out.append("sensitivity: a half-to-even docs re-implementation was not caught by the max comparison")
    ref_avg = lib.reference(x, rois, levels, "avg", scale)
    if not mismatch(ref_avg, docs_pool(x, rois, levels, scale, "avg", round_half_even), False):
        out.append("sensitivity: half-to-even avg windows were not caught by the avg comparison")
    ref_max = lib.reference(x, rois, levels, "max", scale)
    nudged = ref_max.clone()
    nudged[3, 1] = torch.nextafter(nudged[3, 1], torch.tensor(math.inf))
    if not mismatch(nudged, expected, True):
        out.append("sensitivity: a one-ulp change of a max was not caught")
    return out


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
    maps = [(1, 40, 38, 63, 500, 1 / 16), (2, 3, 5, 7, 90, 0.5), (3, 4, 13, 17, 200, 0.25), (1, 2, 150, 200, 60, 1.0),
            (2, 3, 9, 9, 0, 1.0)]
    level_sets = [[(1, 1), (2, 2), (3, 3), (6, 6)], [(7, 7)], [(7, 5)], [(2, 2), (1, 1), (13, 13)]]
    counts = {"reference": 0, "cuda": 0, "docs-avg": 0, "segments": 0, "slices": 0}
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
                        ws_bytes = lib.workspace_bytes(xc, rc, levels, "max", scale, layout, cs)
                        for algo in ALGO_CODE:  # every kernel that can run the case, kAUTO first
                            if algo != "auto" and not lib.supported(xc, rc, levels, "max", scale, layout, cs, algo,
                                                                    ws_bytes):
                                continue
                            got = lib.forward(xc, rc, levels, "max", scale, layout, cs, storage, algo)
                            counts["cuda"] += 1
                            counts["segments"] += algo == "segments"
                            counts["slices"] += algo == "slices"
                            if err := mismatch(got, expected, True):
                                failures.append(f"cuda max {algo} {name} {tag}: {err}")
                            got = lib.forward(xc, rc, levels, "avg", scale, layout, cs, storage, algo)
                            counts["cuda"] += 1
                            if err := mismatch(got, ref_avg, False):
                                failures.append(f"cuda avg {algo} {name} {tag}: {err}")
    if cuda and counts["segments"] == 0:
        failures.append("the segments kernel (RoiAlgo::kSEGMENTS) never ran")
    if cuda and counts["slices"] == 0:
        failures.append("the slices kernel (RoiAlgo::kSLICES) never ran")
    sensitivity = sensitivity_failures(lib, gen)
    failures += sensitivity
    print(f"check_torchvision_roi: torch {torch.__version__}, torchvision {torchvision.__version__}; "
          f"{counts['reference']} reference and {counts['cuda']} CUDA results compared with torchvision / the "
          f"reference ({counts['segments']} max cases by the segments kernel, {counts['slices']} by the slices "
          f"kernel), {counts['docs-avg']} avg checks against the docs re-implementation, sensitivity checks "
          f"{'failed' if sensitivity else 'passed'}; {len(failures)} failures")
    for f in failures[:20]:
        print("  FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
