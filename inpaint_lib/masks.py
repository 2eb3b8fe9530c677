"""Seeded, vectorised occlusion masks: random squares, True = missing pixel.

Every generator draws from a `torch.Generator` on the device the masks live on,
and builds all squares of a batch at once, with no Python loop over images or
squares. Masks are boolean (N, 1, H, W), True = missing: a quarter of float32's
memory (an epoch of full-profile ViT masks is 295 MB instead of 1.2 GB) and one
`torch.where` to apply. The union of `count` squares per image is built:
- on CUDA, as one batched matrix product (N, H, count) @ (N, count, W) > 0;
- on the CPU, when all squares share a side s, by writing each square's top row
  (s pixels) and then dilating downwards s - 1 rows by doubling shifts, 8 pixels
  per int64 word (`benchmarks/mask_bench.py` times it against a per-square loop);
- on the CPU, for squares of mixed sides, by a difference array (+1/-1 at each
  square's four corners) and a 2-D prefix sum.

Strategies of the study (Part A table 2.4, Part B phases):
- one 10x10 square: ``MaskConfig(size=10, count=1)``;
- random-size squares: ``size=(5, 15)``: one square whose side is drawn
  per image uniformly in [5, 15] (mean area 110 px, close to the baseline's 100);
- multiple: ``size=5, count=4, disjoint=True``: four 5x5 squares resampled until
  they do not overlap, so every image has exactly 100 missing pixels;
- ViT phases: ``size=k, count=N`` on 224x224 (overlaps allowed, counted once),
  phase 7 (``size=(9, 12), count=(175, 300), draw="per_batch"``) draws k and N once per batch.

Free-form strokes (``shape="strokes"``, `random_strokes`), in the manner of the irregular
masks of Liu et al. 2018 and LaMa's thin/medium/thick masks: each stroke is a random walk of
`STROKE_SEGMENTS` straight segments drawn with a round brush `size` px wide. A mixture
(``mix=[...]``) gives each image one of its settings. `random_masks` draws any of them.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .schema import MaskConfig

MAX_RESAMPLES = 1000
HELD_OUT_SEED_OFFSET = 10_007  # held-out masks: fixed per run, distinct from training draws


def _uniform_int(low: int, high: int, shape: tuple[int, ...], g: torch.Generator) -> Tensor:
    """Integers uniform in [low, high] (inclusive), on the generator's device."""
    return torch.randint(low, high + 1, shape, generator=g, device=g.device)


# Images per union call: bounds the temporaries of an epoch-wide draw (a full-profile
# epoch is 5,880 masks); the CPU row dilation takes small chunks, so that its two
# buffers stay in cache (measured fastest at 16 of 4-64 for 224 px masks).
CHUNK_IMAGES = 1024
DILATION_CHUNK_IMAGES = 16


def squares_union(tops: Tensor, lefts: Tensor, sizes: Tensor, height: int, width: int,
                  algorithm: str | None = None) -> Tensor:
    """Union of squares as a mask.

    tops, lefts, sizes: (N, K) int, each square's top-left corner and side.
    Returns (N, 1, H, W) bool, True where at least one square covers the pixel.
    `algorithm` (a key of `UNION_ALGORITHMS`) defaults to the measured fastest for
    the device and the sides; all three give identical masks (tests), and
    `benchmarks/` times them against each other.
    """
    n, device = tops.shape[0], tops.device
    if algorithm is None:
        if device.type == "cuda":
            algorithm = "batched_matmul"
        elif tops.numel() and bool((sizes == sizes.view(-1)[0]).all()):
            algorithm = "row_dilation"
        else:
            algorithm = "difference_array"
    union = UNION_ALGORITHMS[algorithm]
    chunk = DILATION_CHUNK_IMAGES if algorithm == "row_dilation" else CHUNK_IMAGES
    if n <= chunk:
        return union(tops, lefts, sizes, height, width)
    out = torch.empty(n, 1, height, width, dtype=torch.bool, device=device)
    for start in range(0, n, chunk):
        part = slice(start, start + chunk)
        out[part] = union(tops[part], lefts[part], sizes[part], height, width)
    return out


def _union_bmm(tops: Tensor, lefts: Tensor, sizes: Tensor, height: int, width: int) -> Tensor:
    """A square is the outer product of a row band and a column band: sum them by bmm."""
    device = tops.device
    rows = torch.arange(height, device=device)
    cols = torch.arange(width, device=device)
    in_rows = (rows >= tops[..., None]) & (rows < (tops + sizes)[..., None])  # (N, K, H)
    in_cols = (cols >= lefts[..., None]) & (cols < (lefts + sizes)[..., None])  # (N, K, W)
    cover = torch.bmm(in_rows.transpose(1, 2).float(), in_cols.float())  # (N, H, W) overlap count
    return (cover > 0).unsqueeze(1)


def _doubling_steps(size: int) -> list[int]:
    """Shifts whose running OR widens a 1-pixel line to `size` pixels: 12 -> [1, 2, 4, 4]."""
    steps, covered = [], 1
    while covered < size:
        steps.append(min(covered, size - covered))
        covered += steps[-1]
    return steps


def _union_rows_dilate(tops: Tensor, lefts: Tensor, sizes: Tensor, height: int, width: int) -> Tensor:
    """Squares of one side (every entry of `sizes` equal): write each top row, then OR each
    row into the `size - 1` rows below.

    The vertical pass moves whole image rows, so it runs on the rows viewed as
    int64 words (8 pixels each) when the width allows; two buffers alternate,
    as an in-place shifted OR would read what it has just written.
    """
    n, size = tops.shape[0], int(sizes.view(-1)[0])
    image = torch.arange(n, device=tops.device)[:, None]  # (N, 1)
    starts = (image * height + tops) * width + lefts  # (N, K) flat index of each top-left pixel
    row_pixels = (starts[..., None] + torch.arange(size, device=tops.device)).reshape(-1)
    cover = torch.zeros(n, height, width, dtype=torch.bool, device=tops.device)
    cover.view(-1).index_fill_(0, row_pixels, True)  # the top row of every square
    spare = torch.empty_like(cover)
    words, spare_words = ((cover.view(torch.int64), spare.view(torch.int64)) if width % 8 == 0
                          else (cover.view(torch.uint8), spare.view(torch.uint8)))  # (N, H, W/8 or W)
    for step in _doubling_steps(size):  # rows r gets OR of rows r - step .. (doubling)
        spare_words[:, :step] = words[:, :step]
        torch.bitwise_or(words[:, step:], words[:, :-step], out=spare_words[:, step:])
        words, spare_words = spare_words, words
    return words.view(torch.bool).unsqueeze(1)


def _union_cumsum(tops: Tensor, lefts: Tensor, sizes: Tensor, height: int, width: int) -> Tensor:
    """+1/-1 at each square's four corners, then a 2-D prefix sum counts the cover."""
    n, k = tops.shape
    diff = torch.zeros(n, height + 1, width + 1, dtype=torch.int32, device=tops.device)
    image = torch.arange(n, device=tops.device)[:, None].expand(n, k)  # (N, K)
    bottoms, rights = tops + sizes, lefts + sizes  # (N, K), exclusive ends
    one = torch.ones(n, k, dtype=torch.int32, device=tops.device)
    for rows, cols, sign in ((tops, lefts, one), (tops, rights, -one),
                             (bottoms, lefts, -one), (bottoms, rights, one)):
        diff.index_put_((image, rows, cols), sign, accumulate=True)
    cover = diff.cumsum(1).cumsum(2)[:, :height, :width]  # (N, H, W) overlap count
    return (cover > 0).unsqueeze(1)


UNION_ALGORITHMS = {"batched_matmul": _union_bmm, "row_dilation": _union_rows_dilate,
                    "difference_array": _union_cumsum}


def draw_squares(n: int, height: int, width: int, cfg: MaskConfig,
                 g: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """Corners and sides (N, K) of one batch's squares, fully inside the image."""
    count = _uniform_int(*cfg.count, (1,), g).item() if isinstance(cfg.count, tuple) else cfg.count
    if not isinstance(cfg.size, tuple):
        sizes = torch.full((n, count), cfg.size, device=g.device)
    elif cfg.draw == "per_batch":
        sizes = _uniform_int(*cfg.size, (1, 1), g).expand(n, count)
    else:
        sizes = _uniform_int(*cfg.size, (n, count), g)
    # Corner uniform over the in-bounds positions of each square's own size.
    if cfg.nested_of is None:
        u_top = torch.rand((n, count), generator=g, device=g.device)
        u_left = torch.rand((n, count), generator=g, device=g.device)
    else:  # square-major draws: the first `count` squares are the same for any count
        u_top = torch.rand((cfg.nested_of, n), generator=g, device=g.device).T[:, :count]
        u_left = torch.rand((cfg.nested_of, n), generator=g, device=g.device).T[:, :count]
    tops = (u_top * (height - sizes + 1)).long()
    lefts = (u_left * (width - sizes + 1)).long()
    return tops, lefts, sizes


def random_squares(n: int, height: int, width: int, cfg: MaskConfig,
                   generator: torch.Generator) -> Tensor:
    """A batch of masks drawn as `cfg` says: (N, 1, H, W) bool, True = missing.

    With ``cfg.disjoint`` the images whose squares overlap are redrawn (all at
    once, as a batch) until none do, so the missing area is exactly count * size^2.
    """
    if cfg.sizes[1] > min(height, width):
        raise ValueError(f"mask size {cfg.sizes[1]} does not fit a {height}x{width} image")
    tops, lefts, sizes = draw_squares(n, height, width, cfg, generator)
    masks = squares_union(tops, lefts, sizes, height, width)
    if not cfg.disjoint:
        return masks
    for _ in range(MAX_RESAMPLES):
        overlapping = masks.sum(dim=(1, 2, 3)) != (sizes**2).sum(dim=1)  # (N,)
        bad = overlapping.nonzero().squeeze(1)
        if bad.numel() == 0:
            return masks
        t, lf, s = draw_squares(bad.numel(), height, width, cfg, generator)
        masks[bad] = squares_union(t, lf, s, height, width)
        sizes[bad] = s
    raise RuntimeError(f"could not place {cfg.count} disjoint {cfg.size}px squares in "
                       f"{height}x{width} after {MAX_RESAMPLES} tries")


STROKE_SEGMENTS = 4  # straight segments per stroke (a random walk of 5 vertices)
STROKE_TURN = 0.5 * torch.pi  # each segment turns by at most this from the previous one
STROKE_LENGTH = (0.1, 0.3)  # a segment's length, as a fraction of the image's shorter side


def draw_strokes(n: int, height: int, width: int, cfg: MaskConfig,
                 g: torch.Generator) -> tuple[Tensor, Tensor]:
    """Vertices (N, K, STROKE_SEGMENTS + 1, 2) as (row, col) floats, clamped to the image,
    and widths (N, K) of `count` random-walk strokes per image."""
    count = _uniform_int(*cfg.count, (1,), g).item() if isinstance(cfg.count, tuple) else cfg.count
    if not isinstance(cfg.size, tuple):
        widths = torch.full((n, count), cfg.size, device=g.device)
    elif cfg.draw == "per_batch":
        widths = _uniform_int(*cfg.size, (1, 1), g).expand(n, count)
    else:
        widths = _uniform_int(*cfg.size, (n, count), g)
    side = min(height, width)
    start = torch.rand((n, count, 1, 2), generator=g, device=g.device) * torch.tensor(
        [height - 1, width - 1], device=g.device)
    heading = torch.rand((n, count, 1), generator=g, device=g.device) * 2 * torch.pi
    turns = (torch.rand((n, count, STROKE_SEGMENTS - 1), generator=g, device=g.device) * 2 - 1) \
        * STROKE_TURN
    angles = torch.cat([heading, heading + turns.cumsum(-1)], dim=-1)  # (N, K, S)
    lo, hi = STROKE_LENGTH
    lengths = (lo + (hi - lo) * torch.rand((n, count, STROKE_SEGMENTS), generator=g,
                                           device=g.device)) * side
    steps = torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1) * lengths[..., None]
    vertices = torch.cat([start, start + steps.cumsum(dim=2)], dim=2)  # (N, K, S + 1, 2)
    limit = torch.tensor([height - 1, width - 1], device=g.device, dtype=vertices.dtype)
    return torch.minimum(vertices.clamp(min=0), limit), widths


def strokes_union(vertices: Tensor, widths: Tensor, height: int, width: int) -> Tensor:
    """Pixels within width / 2 of a stroke's polyline (a round brush): (N, 1, H, W) bool.

    One pass per segment slot (K strokes x S segments), each vectorised over images and
    pixels: the distance of every pixel to that segment of every image."""
    n, device = vertices.shape[0], vertices.device
    rows = torch.arange(height, device=device, dtype=torch.float32).view(1, height, 1)
    cols = torch.arange(width, device=device, dtype=torch.float32).view(1, 1, width)
    cover = torch.zeros(n, height, width, dtype=torch.bool, device=device)
    radius2 = (widths.float() / 2).square()  # (N, K)
    for k in range(vertices.shape[1]):
        r2 = radius2[:, k].view(n, 1, 1)
        for s in range(vertices.shape[2] - 1):
            a, b = vertices[:, k, s].float(), vertices[:, k, s + 1].float()  # (N, 2)
            ay, ax = a[:, 0].view(n, 1, 1), a[:, 1].view(n, 1, 1)
            dy, dx = (b - a)[:, 0].view(n, 1, 1), (b - a)[:, 1].view(n, 1, 1)
            py, px = rows - ay, cols - ax  # (N, H, 1), (N, 1, W)
            t = ((py * dy + px * dx) / (dy * dy + dx * dx).clamp(min=1e-6)).clamp(0, 1)
            cover |= (py - t * dy).square() + (px - t * dx).square() <= r2
    return cover.unsqueeze(1)


def random_strokes(n: int, height: int, width: int, cfg: MaskConfig,
                   generator: torch.Generator) -> Tensor:
    """A batch of free-form stroke masks (`cfg.shape == "strokes"`): (N, 1, H, W) bool."""
    if cfg.sizes[1] > min(height, width):
        raise ValueError(f"stroke width {cfg.sizes[1]} does not fit a {height}x{width} image")
    vertices, widths = draw_strokes(n, height, width, cfg, generator)
    out = torch.empty(n, 1, height, width, dtype=torch.bool, device=generator.device)
    for start in range(0, n, DILATION_CHUNK_IMAGES):  # bounds the (chunk, H, W) temporaries
        part = slice(start, start + DILATION_CHUNK_IMAGES)
        out[part] = strokes_union(vertices[part], widths[part], height, width)
    return out


def random_masks(n: int, height: int, width: int, cfg: MaskConfig,
                 generator: torch.Generator) -> Tensor:
    """Masks of any `MaskConfig`: squares, strokes, or a mixture where each image draws one
    of `cfg.mix` with equal probability. (N, 1, H, W) bool, True = missing."""
    if cfg.mix:
        choice = torch.randint(len(cfg.mix), (n,), generator=generator, device=generator.device)
        out = torch.zeros(n, 1, height, width, dtype=torch.bool, device=generator.device)
        for i, part in enumerate(cfg.mix):
            idx = (choice == i).nonzero().squeeze(1)
            if idx.numel():
                out[idx] = random_masks(idx.numel(), height, width, part, generator)
        return out
    if cfg.shape == "strokes":
        return random_strokes(n, height, width, cfg, generator)
    return random_squares(n, height, width, cfg, generator)


def hole_width(masks: Tensor) -> Tensor:
    """masks: (N, 1, H, W) bool -> (N,) the width of each image's holes in px: twice the
    largest distance from a hole pixel to the nearest known pixel (a square's side, a
    stroke's width); 0 for an image without holes."""
    from scipy.ndimage import distance_transform_edt

    out = torch.zeros(len(masks))
    for i, m in enumerate(masks[:, 0].cpu().numpy()):  # one scipy call per image
        if m.any():
            out[i] = 2 * float(distance_transform_edt(m).max())
    return out


def apply_masks(imgs: Tensor, masks: Tensor, fill: float) -> Tensor:
    """Black out missing pixels.

    imgs: (N, C, H, W) float; masks: (N, 1, H, W) bool, True = missing; fill: value
    of black on the images' scale (-1 for [-1, 1] images, 0 for [0, 1] images).
    Returns (N, C, H, W) in imgs' dtype and memory format.
    """
    return torch.where(masks, fill, imgs)


def occluded_fraction(masks: Tensor) -> Tensor:
    """masks: (N, 1, H, W) bool -> (N,) fraction of missing pixels, overlaps counted once."""
    return masks.float().mean(dim=(1, 2, 3))


def naive_fraction(cfg: MaskConfig, height: int, width: int) -> tuple[float, float]:
    """(low, high) of the study's naive count * size^2 / (H * W) estimate."""
    sizes, counts = cfg.sizes, cfg.counts
    area = height * width
    return counts[0] * sizes[0] ** 2 / area, counts[1] * sizes[1] ** 2 / area


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def fixed_masks(n: int, height: int, width: int, cfg: MaskConfig, seed: int,
                device: torch.device | str = "cpu", batch: int = 4096) -> Tensor:
    """Deterministic masks for an evaluation set: (N, 1, H, W) bool, same for every model."""
    g = make_generator(seed, device)
    parts = [random_masks(min(batch, n - i), height, width, cfg, g) for i in range(0, n, batch)]
    return torch.cat(parts) if parts else torch.zeros(0, 1, height, width, dtype=torch.bool, device=device)
