"""Seed spread: 95% t-intervals and when a difference between two rows is real."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats as _st


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """(mean, half-width of the t-interval); half-width is NaN for a single value."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, _st.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)


def pooled_sd(groups: Sequence[Sequence[float]]) -> tuple[float, int]:
    """Pooled within-group standard deviation over groups with >= 2 values, and its df."""
    ss, df = 0.0, 0
    for g in groups:
        if len(g) >= 2:
            m = sum(g) / len(g)
            ss += sum((v - m) ** 2 for v in g)
            df += len(g) - 1
    return (math.sqrt(ss / df), df) if df else (math.nan, 0)


def difference_threshold(n1: int, n2: int, sd: float, df: int, level: float = 0.95) -> float:
    """Smallest |mean1 - mean2| that exceeds seed noise at `level` (NaN if no spread known)."""
    if df < 1 or math.isnan(sd):
        return math.nan
    return _st.t.ppf(0.5 + level / 2, df) * sd * math.sqrt(1 / n1 + 1 / n2)


TIE = "tie (within noise)"


def paired_bootstrap(diffs, n_boot: int = 2000, level: float = 0.95,
                     seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of the mean per-image difference between two methods scored on the
    same images and masks, with a percentile interval from a bootstrap over images (and over
    seeds, when `diffs` has one row per seed of the network).

    diffs: (n_images,) or (n_seeds, n_images), e.g. network minus classical per image. One
    multinomial draw of image weights per replicate, applied to every seed at once (a
    matrix product), then one draw of seed weights: no Python loop over replicates."""
    import numpy as np

    d = np.atleast_2d(np.asarray(diffs, dtype=np.float64))
    n_seeds, n = d.shape
    if n == 0:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    image_w = rng.multinomial(n, np.full(n, 1 / n), size=n_boot) / n  # (B, N)
    per_seed = image_w @ d.T  # (B, S): each seed's image-resampled mean
    if n_seeds > 1:
        seed_w = rng.multinomial(n_seeds, np.full(n_seeds, 1 / n_seeds), size=n_boot) / n_seeds
        boot = (per_seed * seed_w).sum(axis=1)
    else:
        boot = per_seed[:, 0]
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(boot, [tail, 100 - tail])
    return float(d.mean()), float(low), float(high)


def paired_verdict(low: float, high: float, lower_is_better: bool) -> str:
    """"better" or "worse" (for the first method of the difference) when the interval of the
    difference excludes zero, else "tie (within noise)"."""
    if low > 0 or high < 0:
        return "better" if (high < 0) == lower_is_better else "worse"
    return TIE
