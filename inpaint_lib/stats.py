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


def paired_bootstrap(diffs: Sequence[float], level: float = 0.95, resamples: int = 4000,
                     seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of per-image paired differences (method A minus method B on the
    same images and masks): the mean and its percentile bootstrap interval at `level`,
    from `resamples` resamples of the images drawn with a fixed `seed` (reproducible)."""
    import numpy as np

    d = np.asarray(diffs, dtype=np.float64)
    if d.size == 0:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, (resamples, d.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(d.mean()), float(low), float(high)
