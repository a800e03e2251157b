"""ROI spatial pyramid pooling in plain PyTorch (autograd, any device), following docs/roi.md.

``roi_spatial_pyramid_pool(features, rois, levels, pool_mode, spatial_scale)`` -> [K, C * sum(L*L)], level-major,
then channel, then bins row-major: ``torch.cat([roi_pool(features, rois, (L, L), scale).flatten(1) for L in
levels], 1)`` with invalid roi rows zeroed.

- ``max``: ``torchvision.ops.roi_pool`` per level when torchvision is importable, on the fp32 copy of fp16 / bf16
  features (docs/roi.md: the geometry is fp32 for every type; the max selects an input value, so the cast back is
  exact). Without torchvision, for float64 features, and for the rare rows whose scaled corners exceed what
  torchvision's int arithmetic holds (|x * scale| >= 2^29), a pure-torch implementation of the same rule runs.
- ``avg``: torchvision has none; the mean of the same windows, pure torch (summed-area tables accumulated in
  float64, non-finite cells counted separately so a NaN / inf only affects the bins that contain it).

The window geometry (``roi_boxes`` / ``roi_bin_edges``) is docs/roi.md steps 1-4 evaluated with fp32 tensor
operations: corners round(x * s) half away from zero (not ``torch.round``, which is half to even), clamped to
+-2^40, width/height >= 1, fp32 bin size, floor/ceil edges offset by the start, clipped to the map.

Known difference inside the eager ``max`` path: torchvision skips NaN cells and turns a bin of -inf cells into
-FLT_MAX; the pure-torch path (and the plugin) keep NaN and -inf (docs/roi.md step 6). Finite features agree.
"""

from typing import NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from . import _contract as C

#: rows whose |corner * scale| reaches this are pooled by the pure-torch path even when torchvision is present:
#: torchvision converts corners and bin edges to C int, which would overflow (undefined behaviour) near 2^31.
_TORCHVISION_CORNER_LIMIT = float(2 ** 29)

#: elements of one intermediate tensor of the pure-torch max path (rois are processed in chunks below this).
_MAX_CHUNK_ELEMENTS = 1 << 24

_torchvision_state = {}


def torchvision_roi_pool():
    """``torchvision.ops.roi_pool`` when torchvision imports here, else None (cached; never raises)."""
    if "fn" not in _torchvision_state:
        try:
            from torchvision.ops import roi_pool  # noqa: WPS433 - optional dependency

            _torchvision_state["fn"] = roi_pool
            _torchvision_state["why"] = ""
        except Exception as exc:  # ImportError, or a torchvision built for another torch
            _torchvision_state["fn"] = None
            _torchvision_state["why"] = f"{exc.__class__.__name__}: {exc}"
    return _torchvision_state["fn"]


def torchvision_missing_reason() -> str:
    """Why torchvision is not used ("" when it is)."""
    torchvision_roi_pool()
    return _torchvision_state["why"]


class RoiBoxes(NamedTuple):
    """docs/roi.md steps 1-3 for every roi row (all [K] tensors on the rois' device)."""

    valid: torch.Tensor  #: bool; False: batch index outside [0, N) after truncation, or a non-finite value
    batch: torch.Tensor  #: int64 image index (0 for invalid rows)
    start_h: torch.Tensor  #: int64 round(y1 * s)
    start_w: torch.Tensor  #: int64 round(x1 * s)
    height: torch.Tensor  #: int64 max(end_h - start_h + 1, 1)
    width: torch.Tensor  #: int64 max(end_w - start_w + 1, 1)
    small: torch.Tensor  #: bool; every |corner * s| < 2^29 (torchvision's int arithmetic is safe)


def _check_inputs(features: torch.Tensor, rois: torch.Tensor) -> None:
    if not isinstance(features, torch.Tensor) or not isinstance(rois, torch.Tensor):
        raise TypeError(
            f"expected tensors features [N, C, H, W] and rois [K, 5], got {type(features).__name__} and "
            f"{type(rois).__name__}"
        )
    if features.dim() != 4:
        raise ValueError(f"expected 4-D features [N, C, H, W], got shape {tuple(features.shape)}")
    if rois.dim() != 2 or rois.shape[1] != C.ROI_COLUMNS:
        raise ValueError(
            f"expected rois [K, 5] with rows (batch_index, x1, y1, x2, y2), got shape {tuple(rois.shape)}"
        )
    if not features.is_floating_point():
        raise TypeError(f"features must be a floating-point tensor, got {features.dtype}")
    if not (rois.is_floating_point() or rois.dtype in (torch.int32, torch.int64, torch.int16, torch.int8,
                                                      torch.uint8)):
        raise TypeError(f"rois must be a real-valued tensor, got {rois.dtype}")


def _round_half_away(p: torch.Tensor) -> torch.Tensor:
    """C ``roundf``: half away from zero, in the tensor's own (fp32) arithmetic. ``p - trunc(p)`` is exact, so the
    comparison with 0.5 is exact too (``floor(|p| + 0.5)`` in fp32 would round 0.49999997 up to 1)."""
    t = torch.trunc(p)
    frac = p - t
    return t + (frac >= 0.5).to(p.dtype) - (frac <= -0.5).to(p.dtype)


def roi_boxes(rois: torch.Tensor, spatial_scale: float, n: int) -> RoiBoxes:
    """docs/roi.md steps 1-3 (and the invalid-roi rule) for a [K, 5] roi tensor against a batch of ``n`` images."""
    r = rois.detach().to(torch.float32)  # fp16 / bf16 rois convert exactly; the plugin reads fp32 (or the type)
    # trunc(b) in [0, n) <=> -1 < b < n for n >= 1; with n = 0 no row is valid (not even -1 < b < 0)
    valid = torch.isfinite(r).all(1) & (r[:, 0] > -1) & (r[:, 0] < n)
    if n <= 0:
        valid = torch.zeros_like(valid)
    r = torch.where(valid[:, None], r, torch.zeros_like(r))
    batch = torch.trunc(r[:, 0]).to(torch.int64)  # truncation toward zero, as torchvision's float -> int
    scale = torch.tensor(C.float32_value(float(spatial_scale)), dtype=torch.float32, device=r.device)
    product = r[:, 1:] * scale  # one fp32 multiplication per corner; may overflow to +-inf (finite input)
    small = (product.abs() < _TORCHVISION_CORNER_LIMIT).all(1)
    limit = float(C.ROI_COORD_LIMIT)
    # clamping before rounding equals clamping after it: the limits are integers
    corners = _round_half_away(product.clamp(-limit, limit)).to(torch.int64)
    start_w, start_h, end_w, end_h = corners.unbind(1)
    width = (end_w - start_w + 1).clamp(min=1)
    height = (end_h - start_h + 1).clamp(min=1)
    return RoiBoxes(valid, batch, start_h, start_w, height, width, small)


def roi_bin_edges(start: torch.Tensor, extent: torch.Tensor, level: int, size: int) -> Tuple[torch.Tensor,
                                                                                             torch.Tensor]:
    """docs/roi.md step 4 along one axis: bin i = [floor(i * b) + start, ceil((i + 1) * b) + start) with
    b = float(extent) / float(level) in fp32, clipped to [0, size]. Returns (lo, hi), int64 [K, level]; a bin is
    empty when hi <= lo."""
    device = extent.device
    bin_size = extent.to(torch.float32) / torch.tensor(float(level), dtype=torch.float32, device=device)
    i = torch.arange(level, dtype=torch.float32, device=device)
    lo = torch.floor(i[None, :] * bin_size[:, None]).to(torch.int64) + start[:, None]
    hi = torch.ceil((i + 1.0)[None, :] * bin_size[:, None]).to(torch.int64) + start[:, None]
    return lo.clamp(0, size), hi.clamp(0, size)


# ----------------------------------------------------------------------------------------------------------------
# pure-torch pooling of the given (valid) rows


def _max_rows(x: torch.Tensor, boxes: RoiBoxes, rows: torch.Tensor, levels: Sequence[int]) -> torch.Tensor:
    """max over the documented windows for roi indices ``rows`` ([k] int64) -> [k, C * sum(L^2)] in x's dtype.

    Separable: per level, the max over each row window (masked amax over H), then over each column window.
    NaN propagates (amax), a bin of -inf cells stays -inf, an empty bin is 0. Rois are processed in chunks, each
    cropped to the chunk's windows, so intermediates stay below ~2^24 elements when possible.
    """
    n, c, h, w = x.shape
    k = int(rows.shape[0])
    features = c * C.bins_per_channel(levels)
    if k == 0:
        return x.reshape(-1)[:0].reshape(0, features)  # keeps the autograd connection
    device = x.device
    edges = []
    for level in levels:
        hl, hh = roi_bin_edges(boxes.start_h[rows], boxes.height[rows], level, h)
        wl, wh = roi_bin_edges(boxes.start_w[rows], boxes.width[rows], level, w)
        edges.append((level, hl, hh, wl, wh))
    batch = boxes.batch[rows].to(device)
    per_roi = c * max(levels) * max(h, 1) * max(w, 1)
    chunk = max(1, _MAX_CHUNK_ELEMENTS // max(per_roi, 1))
    neg_inf = torch.tensor(float("-inf"), dtype=x.dtype, device=device)
    zero = torch.zeros((), dtype=x.dtype, device=device)
    out_chunks = []
    for first in range(0, k, chunk):
        last = min(first + chunk, k)
        parts = []
        for level, hl, hh, wl, wh in edges:
            if h == 0 or w == 0:  # every window is empty
                parts.append(x.new_zeros((last - first, c * level * level)))
                continue
            hl_c, hh_c, wl_c, wh_c = (t[first:last].to(device) for t in (hl, hh, wl, wh))
            # crop to the region the chunk's windows touch (at least one cell, so shapes stay valid)
            y0, y1 = min(int(hl_c.min()), h - 1), int(hh_c.max())
            x0, x1 = min(int(wl_c.min()), w - 1), int(wh_c.max())
            y1, x1 = max(y1, y0 + 1), max(x1, x0 + 1)
            xs = x[batch[first:last], :, y0:y1, x0:x1]  # [k, C, h', w']
            ys = torch.arange(y0, y1, device=device)
            xs_idx = torch.arange(x0, x1, device=device)
            row_mask = (ys[None, None, :] >= hl_c[:, :, None]) & (ys[None, None, :] < hh_c[:, :, None])  # [k,L,h']
            col_mask = (xs_idx[None, None, :] >= wl_c[:, :, None]) & (xs_idx[None, None, :] < wh_c[:, :, None])
            # rows: [k, C, 1, h', w'] masked by [k, 1, L, h', 1] -> amax over h' -> [k, C, L, w']
            t = torch.where(row_mask[:, None, :, :, None], xs[:, :, None, :, :], neg_inf).amax(dim=3)
            # columns: [k, C, L, 1, w'] masked by [k, 1, 1, L, w'] -> amax over w' -> [k, C, L, L]
            t = torch.where(col_mask[:, None, None, :, :], t[:, :, :, None, :], neg_inf).amax(dim=4)
            empty = (hh_c <= hl_c)[:, :, None] | (wh_c <= wl_c)[:, None, :]  # [k, L, L]
            t = torch.where(empty[:, None, :, :], zero, t)
            parts.append(t.flatten(1))
        out_chunks.append(torch.cat(parts, 1))
    return torch.cat(out_chunks, 0)


def _accumulation_dtype(x: torch.Tensor) -> torch.dtype:
    if x.device.type == "mps":  # no float64 there
        return torch.float32
    return torch.float64


def _avg_rows(x: torch.Tensor, boxes: RoiBoxes, rows: torch.Tensor, levels: Sequence[int]) -> torch.Tensor:
    """mean over the documented windows for roi indices ``rows`` -> [k, C * sum(L^2)] in x's dtype, accumulated in
    float64 (float32 on MPS) and rounded once. An empty bin is 0.

    Summed-area tables: sum over [h0, h1) x [w0, w1) = S[h1, w1] - S[h0, w1] - S[h1, w0] + S[h0, w0]. Non-finite
    cells are left out of S and counted in their own tables (NaN, +inf, -inf), so a bin's result is what summing
    its cells gives: NaN if it holds a NaN or both infinities, +-inf if it holds only that infinity.
    """
    n, c, h, w = x.shape
    k = int(rows.shape[0])
    features = c * C.bins_per_channel(levels)
    acc = _accumulation_dtype(x)
    if k == 0:
        return x.reshape(-1)[:0].reshape(0, features)
    device = x.device
    xa = x.to(acc)
    finite = bool(torch.isfinite(xa).all())
    tables = [xa if finite else torch.where(torch.isfinite(xa), xa, torch.zeros((), dtype=acc, device=device))]
    if not finite:
        tables += [torch.isnan(xa).to(acc), (xa == float("inf")).to(acc), (xa == float("-inf")).to(acc)]
    flats = []
    for t in tables:
        s = F.pad(t.cumsum(2).cumsum(3), (1, 0, 1, 0))  # [N, C, H+1, W+1]
        flats.append(s.permute(0, 2, 3, 1).reshape(-1, c))  # [N*(H+1)*(W+1), C]
    batch = boxes.batch[rows].to(device)
    parts = []
    for level in levels:
        hl, hh = (t.to(device) for t in roi_bin_edges(boxes.start_h[rows], boxes.height[rows], level, h))
        wl, wh = (t.to(device) for t in roi_bin_edges(boxes.start_w[rows], boxes.width[rows], level, w))
        count = ((hh - hl)[:, :, None] * (wh - wl)[:, None, :]).clamp(min=0)  # [k, L, L]
        # rois in chunks so that each gathered [chunk, L, L, C] table stays near 2^22 elements
        chunk = max(1, (_MAX_CHUNK_ELEMENTS // 4) // (level * level * max(c, 1)))
        level_parts = []
        for first in range(0, k, chunk):
            sl = slice(first, min(first + chunk, k))
            base = batch[sl, None, None] * (h + 1)

            def box_sum(flat):
                def at(hv, wv):
                    return flat[((base + hv[sl, :, None]) * (w + 1) + wv[sl, None, :])]  # [chunk, L, L, C]

                return at(hh, wh) - at(hl, wh) - at(hh, wl) + at(hl, wl)

            cnt = count[sl]
            mean = box_sum(flats[0]) / cnt.clamp(min=1).to(acc)[..., None]
            if not finite:
                nan_n, pos_n, neg_n = (box_sum(f) for f in flats[1:])
                mean = torch.where(pos_n > 0, torch.full_like(mean, float("inf")), mean)
                mean = torch.where(neg_n > 0, torch.full_like(mean, float("-inf")), mean)
                mean = torch.where((nan_n > 0) | ((pos_n > 0) & (neg_n > 0)), torch.full_like(mean, float("nan")),
                                   mean)
            mean = torch.where((cnt > 0)[..., None], mean, torch.zeros((), dtype=acc, device=device))
            # [chunk, C, L, L] -> [chunk, C*L*L], rounded once from the accumulation type to the features' type
            level_parts.append(mean.permute(0, 3, 1, 2).flatten(1).to(x.dtype))
        parts.append(torch.cat(level_parts, 0))
    return torch.cat(parts, 1)


def _torchvision_max_rows(roi_pool, x32: torch.Tensor, rois32: torch.Tensor, levels: Sequence[int],
                          spatial_scale: float) -> torch.Tensor:
    return torch.cat([roi_pool(x32, rois32, (L, L), spatial_scale).flatten(1) for L in levels], 1)


def roi_spatial_pyramid_pool(
    features: torch.Tensor,
    rois: torch.Tensor,
    levels: Sequence[int] = (1, 2, 4),
    pool_mode: str = "max",
    spatial_scale: float = 1.0,
    *,
    use_torchvision: Optional[bool] = None,
) -> torch.Tensor:
    """ROI SPP of features [N, C, H, W] over rois [K, 5] (rows (batch_index, x1, y1, x2, y2), image coordinates)
    -> [K, C * sum(L*L)] in the features' dtype (docs/roi.md).

    ``use_torchvision``: None uses ``torchvision.ops.roi_pool`` for ``max`` when it imports; False always uses the
    pure-torch rule; True requires torchvision (RuntimeError when it is missing). Invalid rows are zero either way.
    Gradients flow to ``features`` (not to ``rois``).
    """
    levels, pool_mode, spatial_scale = C.validate_roi_config(levels, pool_mode, spatial_scale)
    _check_inputs(features, rois)
    n, c, h, w = features.shape
    k = int(rois.shape[0])
    out_features = c * C.bins_per_channel(levels)
    if k == 0:
        return features.reshape(-1)[:0].reshape(0, out_features)
    rois = rois.to(features.device)
    boxes = roi_boxes(rois, spatial_scale, n)

    roi_pool = None
    if pool_mode == "max" and use_torchvision is not False:
        roi_pool = torchvision_roi_pool()
        if roi_pool is None and use_torchvision:
            raise RuntimeError(f"use_torchvision=True but torchvision is not usable: {torchvision_missing_reason()}")
    if features.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        roi_pool = None  # torchvision would evaluate the geometry in float64; the rule is fp32

    if pool_mode == "max":
        # fp16 / bf16 are pooled as their exact fp32 copies (a max selects an input value: the cast back is exact)
        work = features if features.dtype == torch.float64 else features.to(torch.float32)
        out_dtype = work.dtype
    else:
        work = features
        out_dtype = features.dtype

    out = torch.zeros((k, out_features), dtype=out_dtype, device=features.device)
    if roi_pool is not None:
        tv_rows = (boxes.valid & boxes.small).nonzero().flatten()
        pure_rows = (boxes.valid & ~boxes.small).nonzero().flatten()
        if tv_rows.numel() > 0:
            rois32 = rois.detach().to(torch.float32)[tv_rows]
            # step 1 (truncation toward zero) done here: torchvision >= 0.2x rejects a batch index in (-1, 0)
            rois32 = torch.cat([torch.trunc(rois32[:, :1]), rois32[:, 1:]], 1)
            pooled = _torchvision_max_rows(roi_pool, work, rois32, levels, spatial_scale)
            out = out.index_copy(0, tv_rows, pooled.to(out_dtype))
    else:
        pure_rows = boxes.valid.nonzero().flatten()
    if pure_rows.numel() > 0:
        if pool_mode == "max":
            pooled = _max_rows(work, boxes, pure_rows, levels)
        else:
            pooled = _avg_rows(work, boxes, pure_rows, levels)
        out = out.index_copy(0, pure_rows, pooled.to(out_dtype))
    return out.to(features.dtype)


__all__ = ["roi_spatial_pyramid_pool", "roi_boxes", "roi_bin_edges", "RoiBoxes", "torchvision_roi_pool",
           "torchvision_missing_reason"]
