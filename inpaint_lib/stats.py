"""Seed spread: 95% t-intervals and when a difference between two rows is real.

Two questions, two intervals:
- Does *this network* (one set of weights) beat a classical method on these images?
  `paired_bootstrap`: the per-image differences resampled over images (the inpaint tool's
  choice rests on it: the shipped weights are what a user runs).
- Does *this configuration* (the recipe, retrained with any seed) beat it?
  `seed_interval`: a t interval whose standard error adds the seed-to-seed spread of the
  network's mean to the image sampling; with one seed, the spread measured on other
  configurations of the same family (`pooled_seed_spread`: a fraction of the mean for an
  error, the metric's own units for dB), and the row says so.
- Does a claimed ordering of configurations hold? `ordering`: every step beyond the seed
  noise (`difference_threshold`), the rule the sections' rankings use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile (scipy.stats.t.ppf's own kernel, `scipy.special.stdtrit`, imported
    on first use: the inpaint command's start-up need not load scipy.stats)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, p))


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """(mean, half-width of the t-interval); half-width is NaN for a single value."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n)

def pooled_sd(groups: Sequence[Sequence[float]]) -> tuple[float, int]:
    """Pooled within-group standard deviation over groups with >= 2 values, and its df."""
    ss, df = 0.0, 0
    for g in groups:
        if len(g) >= 2:
            m = sum(g) / len(g)
            ss += sum((v - m) ** 2 for v in g)
            df += len(g) - 1
    return (math.sqrt(ss / df), df) if df else (math.nan, 0)


def seed_half_width(n: int, sd: float, df: int, level: float = 0.95) -> float:
    """Half-width of the `level` interval of a mean over `n` seeds whose seed-to-seed standard
    deviation `sd` is known with `df` degrees of freedom (NaN if no spread is known)."""
    if df < 1 or math.isnan(sd):
        return math.nan
    return t_quantile(0.5 + level / 2, df) * sd / math.sqrt(n)


def noise_of_difference(*half_widths: float) -> float:
    """The noise threshold of a difference between independent estimates, from each one's own
    95% half-width: the half-widths added in quadrature (NaN if one is unknown). The one rule
    by which the report tells two estimates apart: two seed means (`difference_threshold`,
    every step of an ordering) and a finding of this run against the published copy's
    (`report.first_screen.compare`)."""
    return math.hypot(*half_widths)


def beyond_noise(diff: float, threshold: float) -> bool:
    """Whether a difference exceeds its noise threshold (never where no noise is known: NaN)."""
    return not math.isnan(threshold) and abs(diff) > threshold


def difference_threshold(n1: int, n2: int, sd: float, df: int, level: float = 0.95) -> float:
    """Smallest |mean1 - mean2| that exceeds seed noise at `level` (NaN if no spread known):
    the two means' half-widths (`seed_half_width`) added in quadrature."""
    return noise_of_difference(seed_half_width(n1, sd, df, level), seed_half_width(n2, sd, df, level))


# ------------------------------------------------------------------ orderings
@dataclass(frozen=True)
class Step:
    """One step of an ordering: `worse` should have the higher value, `better` the lower
    (as the ordering claims), each a mean over its seeds; judged against the seed noise
    (`difference_threshold`, the rule every section's ranking uses)."""

    better: str
    worse: str
    diff: float  # ours: worse minus better (> 0: the claimed direction)
    threshold: float  # NaN: no seed spread known, the step cannot be judged

    @property
    def judged(self) -> bool:
        return not math.isnan(self.threshold)

    @property
    def beyond_noise(self) -> bool:
        return beyond_noise(self.diff, self.threshold)

    @property
    def as_claimed(self) -> bool:
        return self.diff > 0

    def label(self) -> str:
        """'128 vs 256' (the one claimed worse first, as the sections' ranking lines)."""
        return f"{self.worse} vs {self.better}"

# what an ordering's steps add up to (`Ordering.verdict`)
HOLDS, WITHIN_NOISE, NOT_SETTLED, DOES_NOT_HOLD, NOT_JUDGED = (
    "holds", "same order, within noise", "not settled", "does not hold", "not judged")

@dataclass(frozen=True)
class Ordering:
    """A claimed ordering (lowest first) tested on our means: it *holds* only where every
    step is in the claimed direction and beyond the seed noise; the same order with a step
    within noise is not confirmed; a step reversed beyond noise refutes it; a step reversed
    within noise leaves it unsettled."""

    names: tuple[str, ...]
    steps: tuple[Step, ...]

    @property
    def verdict(self) -> str:
        if any(not s.as_claimed and s.beyond_noise for s in self.steps):
            return DOES_NOT_HOLD
        if any(not s.judged for s in self.steps):
            return NOT_JUDGED
        if any(not s.as_claimed for s in self.steps):
            return NOT_SETTLED
        if any(not s.beyond_noise for s in self.steps):
            return WITHIN_NOISE
        return HOLDS

    def describe(self, sep: str = "; ") -> str:
        """'holds'; 'same order; 128 vs 256 within seed noise'; 'does not hold (SGD before
        RMSprop beyond seed noise)'; 'not settled: 64 before 128, within seed noise'; ...
        (`sep` between the order and its steps within noise)."""
        within = [s.label() for s in self.steps if s.judged and not s.beyond_noise and s.as_claimed]
        reversed_ = [s for s in self.steps if not s.as_claimed]
        v = self.verdict

        def joined(items: list[str]) -> str:
            return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

        noise = ("" if not within else
                 "every step within seed noise" if len(within) == len(self.steps) else
                 f"{joined(within)} within seed noise")
        if v == HOLDS:
            return "holds"
        if v == WITHIN_NOISE:
            return f"same order{sep}{noise}"
        if v == NOT_JUDGED:
            order = "same order" if not reversed_ else "a different order"
            return f"{order}, not judged (no seed spread measured)"
        flipped = [f"{s.worse} before {s.better}" for s in reversed_]
        if v == DOES_NOT_HOLD:
            beyond = [f"{s.worse} before {s.better}" for s in reversed_ if s.beyond_noise]
            return f"does not hold ({joined(beyond)} beyond seed noise)"
        return f"not settled: {joined(flipped)}, within seed noise" + (f"{sep}{noise}" if noise else "")

def ordering(claimed: Sequence[str], means: dict[str, float], seeds: dict[str, int],
             sd: float, df: int, level: float = 0.95) -> Ordering:
    """`claimed` (names, lowest value first) tested on `means` (mean over each name's
    `seeds`), each consecutive step against `difference_threshold` with the pooled seed
    spread `sd` (`df` degrees of freedom)."""
    names = tuple(claimed)
    steps = tuple(Step(a, b, float(means[b] - means[a]),
                       difference_threshold(int(seeds[a]), int(seeds[b]), sd, df, level))
                  for a, b in pairwise(names))
    return Ordering(names, steps)

TIE = "tie (within noise)"

def paired_bootstrap(diffs, n_boot: int = 2000, level: float = 0.95,
                     seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of the mean per-image difference between one network (one set of
    weights) and another method scored on the same images and masks: a percentile interval
    from a bootstrap over images. It says nothing about retraining with another seed: for a
    configuration, `seed_interval`.

    diffs: (n_images,), e.g. network minus classical per image. One multinomial draw of image
    weights per replicate (a matrix product): no Python loop over replicates."""
    import numpy as np

    d = np.asarray(diffs, dtype=np.float64).reshape(-1)
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    boot = rng.multinomial(n, np.full(n, 1 / n), size=n_boot) / n @ d  # (B,)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(boot, [tail, 100 - tail])
    return float(d.mean()), float(low), float(high)

@dataclass(frozen=True)
class Interval:
    """A mean difference, its 95% interval, and what noise the interval holds."""

    mean: float
    low: float
    high: float
    seeds: int  # seeds of the network behind it
    noise: str  # e.g. "images and 3 seeds", "images, seed spread of 2 other configurations"

def seed_interval(diffs, pooled_sd: float = math.nan, pooled_df: int = 0,
                  level: float = 0.95) -> Interval:
    """Interval for the mean per-image difference of a configuration, over images and seeds.

    diffs: (n_images,) or (n_seeds, n_images) on the same images (network minus classical).
    Standard error² = the image part, var(seed-averaged per-image difference) / n, plus the
    seed part: `pooled_sd`² / k where the seed spread of this kind of network is known
    from a pool (`pooled_seed_cv`, with `pooled_df` df: more df than one network's own
    seeds give); else with k >= 2 seeds the variance of the k seed means / k (k - 1 df);
    else nothing (the interval then holds image noise only, and says so). Each part's half-width takes its own t quantile (k - 1 df for
    the seed part, so 4.30 with 3 seeds, not the normal 1.96) and the two add in quadrature:
    a t interval over seed means where seeds dominate, the image interval where images do.
    (Welch-Satterthwaite's pooled df covered only 87% with 3 seeds in the test's simulation:
    an underestimated seed variance also inflates its df.)"""
    import numpy as np

    d = np.atleast_2d(np.asarray(diffs, dtype=np.float64))
    k, n = d.shape
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, k, "no images")
    mean = float(d.mean())
    if not math.isfinite(mean) or n < 2:  # no spread over images can be known: no verdict
        return Interval(mean, -math.inf, math.inf, k, "too few images to tell" if n < 2 else "not finite")
    per_image = d.mean(axis=0)
    v_img = float(per_image.var(ddof=1)) / n
    if pooled_df >= 1 and not math.isnan(pooled_sd):
        v_seed, df_seed = pooled_sd ** 2 / k, pooled_df
        noise = (f"images, and {k} seed{'s' if k > 1 else ''} with the pooled seed spread of its "
                 f"family ({pooled_df} df)")
    elif k >= 2:
        v_seed, df_seed = float(d.mean(axis=1).var(ddof=1)) / k, k - 1
        noise = f"images and {k} seeds"
    else:
        v_seed, df_seed = 0.0, 1
        noise = "images only (one seed, no seed spread known)"
    q = 0.5 + level / 2
    half = math.hypot(t_quantile(q, max(n - 1, 1)) * math.sqrt(v_img),
                      t_quantile(q, df_seed) * math.sqrt(v_seed))
    return Interval(mean, mean - half, mean + half, k, noise)

def pooled_seed_cv(seed_means: Sequence[Sequence[float]]) -> tuple[float, int]:
    """The seed-to-seed spread of a family of networks as a fraction of their mean (pooled
    coefficient of variation over configurations with >= 2 seeds), and its df. A network's
    seed spread grows with its error (SGD's 2.5x test MSE is noisier than Adam's), so the
    spread carried to a one-seed row is this fraction of that row's own mean."""
    ss, df = 0.0, 0
    for g in seed_means:
        if len(g) >= 2 and all(math.isfinite(v) for v in g):
            m = sum(g) / len(g)
            if m == 0:
                continue
            ss += sum((v / m - 1) ** 2 for v in g)
            df += len(g) - 1
    return (math.sqrt(ss / df), df) if df else (math.nan, 0)

@dataclass(frozen=True)
class SeedSpread:
    """The seed-to-seed spread of a family of networks, pooled over its configurations with
    >= 2 seeds, for a row of one network: on a ratio scale (an error: MSE, MAE) as a fraction
    of the mean (`pooled_seed_cv`), carried to a row as that fraction of the row's own mean;
    on an interval scale (PSNR in dB, SSIM) in the metric's own units (`pooled_sd`), the same
    for every row (a network 2 dB better is not 'proportionally' noisier in dB)."""

    value: float  # the pooled coefficient of variation (relative) or standard deviation
    df: int
    relative: bool

    def sd(self, mean: float) -> float:
        """The seed standard deviation carried to a row whose seed mean is `mean`."""
        return self.value * abs(mean) if self.relative else self.value

def pooled_seed_spread(seed_means: Sequence[Sequence[float]], relative: bool) -> SeedSpread:
    """`SeedSpread` of a family from its configurations' seed means (`relative`: ratio scale)."""
    if relative:
        return SeedSpread(*pooled_seed_cv(seed_means), True)
    finite = [list(g) for g in seed_means if all(math.isfinite(v) for v in g)]
    return SeedSpread(*pooled_sd(finite), False)

def paired_verdict(low: float, high: float, lower_is_better: bool) -> str:
    """"better" or "worse" (for the first method of the difference) when the interval of the
    difference excludes zero, else "tie (within noise)"."""
    if low > 0 or high < 0:
        return "better" if (high < 0) == lower_is_better else "worse"
    return TIE
