"""The paired test: per-image differences on the same images and masks, a bootstrap interval
over images (and seeds), and a verdict only where the interval excludes zero."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from inpaint_lib import stats
from inpaint_lib.report import tables


def test_bootstrap_interval_covers_the_mean_and_shrinks_with_more_images() -> None:
    rng = np.random.default_rng(1)
    small = rng.normal(0.5, 1.0, 20)
    large = rng.normal(0.5, 1.0, 2000)
    m_s, lo_s, hi_s = stats.paired_bootstrap(small)
    m_l, lo_l, hi_l = stats.paired_bootstrap(large)
    assert lo_s < m_s < hi_s and lo_l < m_l < hi_l
    assert m_l == pytest.approx(large.mean())
    assert hi_l - lo_l < (hi_s - lo_s) / 5  # about 1/sqrt(100)
    assert lo_l > 0  # 2000 images of a 0.5 shift: clearly nonzero


def test_a_seed_interval_widens_when_seeds_disagree() -> None:
    rng = np.random.default_rng(2)
    images = rng.normal(0.0, 0.1, 500)
    agree = np.stack([images + 1.0, images + 1.0, images + 1.0])
    disagree = np.stack([images - 2.0, images + 1.0, images + 4.0])  # same mean, seeds spread
    a, d = stats.seed_interval(agree), stats.seed_interval(disagree)
    assert d.high - d.low > 10 * (a.high - a.low)
    assert a.low > 0 and d.low < 0  # three seeds this far apart cannot settle the sign
    assert a.noise == d.noise == "images and 3 seeds"


def _simulate(seeds: int, seed_sd: float, image_sd: float, n: int, borrowed: bool,
              trials: int = 600, level: float = 2.0) -> float:
    """Coverage of `seed_interval` for a true mean difference of 0: each trial draws a
    configuration's `seeds` networks on the same n images (image effects shared by every
    seed, plus per-seed image noise); the network's error is `level` and its seed effects
    ~ N(0, seed_sd * level): an error's seed spread grows with it. With `borrowed`, the
    family's spread is estimated from 3 other configurations of 3 seeds each whose error is
    1.0 (seed sd `seed_sd`), and carried to this row as a fraction of its own mean."""
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(trials):
        image = rng.normal(0, image_sd, n)
        d = rng.normal(0, seed_sd * level, (seeds, 1)) + image + rng.normal(0, image_sd, (seeds, n))
        if borrowed:  # the family: 3 other configurations of 3 seeds, means around 1.0
            family = [1.0 + rng.normal(0, seed_sd, 3) for _ in range(3)]
            spread = stats.pooled_seed_spread([f.tolist() for f in family], relative=True)
            iv = stats.seed_interval(d, pooled_sd=spread.sd(level), pooled_df=spread.df)
        else:
            iv = stats.seed_interval(d)
        covered += iv.low <= 0 <= iv.high
    return covered / trials


@pytest.mark.parametrize(("seeds", "seed_sd", "borrowed"), [
    (3, 0.05, False),  # seed noise dominant (the case where resampling 3 seeds gave 74%)
    (2, 0.05, False),  # two seeds: resampling them gave 52%
    (3, 0.002, False),  # image noise dominant
    (1, 0.05, True),  # one seed, the pooled spread of its family
    (3, 0.05, True),  # three seeds, the pooled spread (more df than its own 2)
])
def test_seed_intervals_cover_the_true_difference_95_percent_of_the_time(seeds, seed_sd, borrowed) -> None:
    coverage = _simulate(seeds, seed_sd, image_sd=0.2, n=400, borrowed=borrowed)
    assert 0.92 <= coverage <= 0.99, coverage


def test_one_seed_without_a_known_spread_says_it_holds_image_noise_only() -> None:
    d = np.random.default_rng(3).normal(0.1, 1.0, 300)
    iv = stats.seed_interval(d)
    assert iv.seeds == 1 and iv.noise == "images only (one seed, no seed spread known)"
    assert stats.seed_interval(d, pooled_sd=0.5, pooled_df=4).high - stats.seed_interval(
        d, pooled_sd=0.5, pooled_df=4).low > iv.high - iv.low


def test_a_pooled_spread_scales_with_an_error_but_not_with_decibels() -> None:
    family = [[1.0, 1.1, 0.9], [2.0, 2.2, 1.8]]  # an error: twice the mean, twice the spread
    error = stats.pooled_seed_spread(family, relative=True)
    assert error.value == pytest.approx(0.1) and error.df == 4
    assert error.sd(3.0) == pytest.approx(0.3) and error.sd(0.5) == pytest.approx(0.05)
    db = stats.pooled_seed_spread([[20.0, 20.5, 19.5], [30.0, 30.5, 29.5]], relative=False)
    assert db.value == pytest.approx(0.5) and db.df == 4
    assert db.sd(20.0) == db.sd(35.0) == pytest.approx(0.5)  # dB: the same at every level


def _one_seed_frame(metric_values: dict[str, list[np.ndarray]], classical: np.ndarray) -> pd.DataFrame:
    return _frame("A", metric_values, {"fill": classical})


@pytest.mark.parametrize("metric", ["hole_mse", "hole_psnr"])
def test_a_one_seed_row_gets_the_pooled_spread_on_its_own_scale(metric: str) -> None:
    """Two networks of 3 seeds (means 1.0 and 2.0, seed spread 10% of each) and one of one
    seed with mean 4.0, on 50 images: its interval is pinned by hand. For hole MSE the seed
    part is 10% of 4.0; for hole PSNR the pooled standard deviation in dB, whatever its mean."""
    from scipy import stats as st

    base = np.linspace(-0.05, 0.05, 50)  # per-image variation, shared
    nets = {"a": [base + 1.0 + e for e in (0.0, 0.1, -0.1)],
            "b": [base + 2.0 + e for e in (0.0, 0.2, -0.2)],
            "one": [base * 3 + 4.0]}
    classical = base + 3.0
    out = tables.paired_comparisons(_one_seed_frame(nets, classical), metric).set_index("network")
    row = out.loc["one"]
    diff = nets["one"][0] - classical
    v_img = diff.var(ddof=1) / 50
    if metric == "hole_mse":
        sd = 0.1 * 4.0  # pooled coefficient of variation, times this row's mean
    else:
        sd = math.sqrt((0.1**2 * 2 + 0.2**2 * 2) / 4)  # pooled sd of the seed means, in dB
    half = math.hypot(st.t.ppf(0.975, 49) * math.sqrt(v_img), st.t.ppf(0.975, 4) * sd)
    assert row.seeds == 1 and row["seed spread"] == "pooled (4 df)"
    assert row.difference == pytest.approx(1.0)
    assert (row.low, row.high) == (pytest.approx(1.0 - half), pytest.approx(1.0 + half))
    if metric == "hole_mse":
        assert row.low < 0 < row.high  # 10% of 4.0 over 4 df: a +1.0 gap is not settled
    else:
        assert row.low > 0 and row.verdict == "better"  # 0.16 dB of seed spread settles +1 dB


@pytest.mark.parametrize("seeds", [1, 3])
def test_an_ordering_holds_only_when_every_step_is_beyond_the_seed_noise(seeds: int) -> None:
    """The sections' rule (`difference_threshold`) on each step, with 1 or 3 seeds per name."""
    names = ["a", "b", "c"]
    n = dict.fromkeys(names, seeds)
    sd, df = 0.01, 4
    t = stats.difference_threshold(seeds, seeds, sd, df)
    assert t == pytest.approx(2.776445 * 0.01 * math.sqrt(2 / seeds), rel=1e-5)
    clear = stats.ordering(names, {"a": 1.0, "b": 1.0 + 2 * t, "c": 1.0 + 4 * t}, n, sd, df)
    assert clear.verdict == stats.HOLDS and clear.describe() == "holds"
    close = stats.ordering(names, {"a": 1.0, "b": 1.0 + t / 2, "c": 1.0 + 3 * t}, n, sd, df)
    assert close.verdict == stats.WITHIN_NOISE
    assert close.describe() == "same order; b vs a within seed noise"
    assert stats.ordering(names, {"a": 1.0, "b": 1.0 + t / 2, "c": 1.0 + t}, n, sd, df).describe() \
        == "same order; every step within seed noise"
    flipped = stats.ordering(names, {"a": 1.0, "b": 1.0 - t / 2, "c": 1.0 + 3 * t}, n, sd, df)
    assert flipped.verdict == stats.NOT_SETTLED
    assert flipped.describe() == "not settled: b before a, within seed noise"
    wrong = stats.ordering(names, {"a": 1.0, "b": 1.0 - 2 * t, "c": 1.0 + 3 * t}, n, sd, df)
    assert wrong.verdict == stats.DOES_NOT_HOLD
    assert wrong.describe() == "does not hold (b before a beyond seed noise)"
    unknown = stats.ordering(names, {"a": 1.0, "b": 2.0, "c": 3.0}, n, math.nan, 0)
    assert unknown.verdict == stats.NOT_JUDGED and "not judged" in unknown.describe()


def test_more_seeds_can_settle_a_step_one_seed_left_within_noise() -> None:
    """Latent 256 against 128 at the study's scale: 0.00045 apart with the baseline's spread
    (sd 0.000121, 2 df) is within noise for 1 seed against 3 and beyond it for 3 against 3
    with the pool's 4 df."""
    one = stats.ordering(["256", "128"], {"256": 0.007816, "128": 0.008265}, {"256": 1, "128": 3},
                         0.000121, 2)
    assert one.verdict == stats.WITHIN_NOISE
    assert one.steps[0].threshold == pytest.approx(4.302653 * 0.000121 * math.sqrt(4 / 3), rel=1e-5)
    three = stats.ordering(["256", "128"], {"256": 0.007816, "128": 0.008265}, {"256": 3, "128": 3},
                           0.000121, 4)
    assert three.verdict == stats.HOLDS


@pytest.mark.parametrize(("low", "high", "lower_is_better", "expected"), [
    (-0.3, -0.1, True, "better"), (0.1, 0.3, True, "worse"), (-0.1, 0.2, True, stats.TIE),
    (0.1, 0.3, False, "better"), (-0.3, -0.1, False, "worse"), (-0.2, 0.1, False, stats.TIE)])
def test_verdict_only_when_the_interval_excludes_zero(low, high, lower_is_better, expected) -> None:
    assert stats.paired_verdict(low, high, lower_is_better) == expected


def _frame(comparison: str, net: dict[str, list[np.ndarray]], classical: dict[str, np.ndarray],
           run_prefix: str = "") -> pd.DataFrame:
    blocks = []
    for name, seeds in net.items():
        for s, values in enumerate(seeds):
            blocks.append(pd.DataFrame({"comparison": comparison, "method": name, "kind": "network",
                                        "image": range(len(values)), "value": values, "seed": s,
                                        "run": f"{run_prefix}{name}-{s}", "train_seconds": 10.0}))
    for name, values in classical.items():
        blocks.append(pd.DataFrame({"comparison": comparison, "method": name, "kind": "classical",
                                    "image": range(len(values)), "value": values, "seed": -1,
                                    "run": name, "train_seconds": 0.0}))
    return pd.concat(blocks, ignore_index=True)


def test_paired_comparisons_pin_better_worse_and_tie() -> None:
    rng = np.random.default_rng(0)
    hard = rng.uniform(0.0, 1.0, 400)  # per-image difficulty, shared by every method
    noise = rng.normal(0.0, 0.001, 400)
    frame = _frame("A", {
        "good": [hard * 0.8, hard * 0.8 + noise],  # 20% lower hole MSE on every image
        "bad": [hard * 1.2],
        # as good as the classical method on average; per image it differs by +-0.05
        "same": [hard + rng.choice([-0.05, 0.05], 400)],
    }, {"fill": hard, "worse fill": hard * 3})
    out = tables.paired_comparisons(frame, "hole_mse").set_index("network")
    assert set(out["classical"]) == {"fill"}  # the best classical method, by mean
    assert out.loc["good", "verdict"] == "better" and out.loc["good", "seeds"] == 2
    assert out.loc["bad", "verdict"] == "worse"
    assert out.loc["same", "verdict"] == stats.TIE
    assert out.loc["good", "high"] < 0 < out.loc["bad", "low"]
    assert tables.verdict_counts(out.reset_index()) == {"better": 1, "worse": 1, stats.TIE: 1}

    # higher is better (PSNR): a larger value wins
    psnr = tables.paired_comparisons(_frame("B", {"net": [hard + 1.0]}, {"fill": hard}), "hole_psnr")
    assert psnr["verdict"].tolist() == ["better"]


def test_a_run_in_several_studies_counts_once_and_slow_methods_pair_on_common_images() -> None:
    values = np.linspace(1.0, 2.0, 50)
    one = _frame("2.1", {"baseline": [values * 0.5]}, {"fill": values[:30]})
    two = _frame("2.2", {"baseline": [values * 0.5], "other": [values * 2]}, {"fill": values[:30]})
    out = tables.paired_comparisons(pd.concat([one, two], ignore_index=True), "hole_mse")
    assert out[["comparison", "network"]].values.tolist() == [["2.1", "baseline"], ["2.2", "other"]]
    assert out["images"].tolist() == [30, 30]  # the classical method scored 30 images only
    assert out.loc[0, "classical mean"] == pytest.approx(values[:30].mean())


def test_a_slow_classical_method_is_chosen_on_the_images_all_share() -> None:
    """A classical method scored on a spread of the images (`evaluate.scored_images`) is the
    best only if it is on the images every classical method has, and the network is then
    paired with it on its own images, matched by index."""
    from inpaint_lib.evaluate import scored_images

    hard = np.linspace(1.0, 2.0, 40)  # per-image hole MSE of the fill
    idx = scored_images(40, 8).numpy()
    frame = _frame("A", {"net": [hard * 0.9]}, {"fill": hard})
    # "slow" is better than "fill" on its 8 images (those images are easy for both)
    slow = pd.DataFrame({"comparison": "A", "method": "slow", "kind": "classical", "image": idx,
                         "value": hard[idx] * 0.5, "seed": -1, "run": "slow", "train_seconds": 0.0})
    out = tables.paired_comparisons(pd.concat([frame, slow], ignore_index=True), "hole_mse")
    assert out.loc[0, "classical"] == "slow" and out.loc[0, "images"] == 8
    assert out.loc[0, "network mean"] == pytest.approx((hard[idx] * 0.9).mean())  # matched by index
    assert out.loc[0, "verdict"] == "worse"
    # a fill that beats "slow" on the shared images is chosen and paired on all 40
    better = frame.assign(value=np.where(frame.kind == "classical", frame.value * 0.4, frame.value))
    out = tables.paired_comparisons(pd.concat([better, slow], ignore_index=True), "hole_mse")
    assert out.loc[0, "classical"] == "fill" and out.loc[0, "images"] == 40


def test_findings_figure_one_row_per_network_legible_at_1024_px() -> None:
    from inpaint_lib.report import figures

    paired = pd.DataFrame({
        "part": ["A", "A", "B", "B"], "notebook": ["a2_optimizers", "a3_latent", "b8_evaluation"] * 1 + ["b8_evaluation"],
        "comparison": ["2.2 · 10x10", "2.3 · 10x10", "pets · 150", "pets · 200"],
        "network": ["Adam", "16", "ViT", "ViT"], "classical": ["biharmonic"] * 4,
        "metric": ["hole MSE", "hole MSE", "hole MAE", "hole MAE"],
        "network mean": [1.0, 2.5, 1.0, 1.0], "classical mean": [2.0, 2.0, 1.0, 1.0],
        "difference": [-1.0, 0.5, 0.0, 0.1], "low": [-1.2, 0.4, -0.1, 0.05], "high": [-0.8, 0.6, 0.1, 0.15],
        "verdict": ["better", "worse", stats.TIE, "worse"], "seeds": [3, 1, 1, 1],
        "seed spread": ["its own", "pooled (2 df)", "unknown", "unknown"], "images": [100] * 4,
        "training s": [1.0] * 4})
    networks = tables.by_network(paired)
    assert networks.network.tolist() == ["Adam", "16", "ViT"]  # the ViT once, for its 2 settings
    assert networks.set_index("network").loc["ViT", "verdict"] == "mixed"
    fig = figures.findings_forest(networks, "Figure 27. t")
    a, b = fig.axes
    assert [a.get_title(loc="left"), b.get_title(loc="left")] == ["Part A", "Part B"]
    # 10 pt at 96 dpi on a 7-inch figure, shown unscaled on a page 1024 px wide: 13 px tall
    assert fig.get_figwidth() <= 7 and min(t.get_fontsize() for t in a.get_yticklabels()) >= 10
    assert a.xaxis.label.get_fontsize() >= 10
    assert [t.get_text() for t in a.get_yticklabels()] == ["16 · latent", "Adam · optimizers"]
    points = [line for line in a.lines if line.get_marker() == "o"]
    assert sorted((p.get_xdata()[0], p.get_color()) for p in points) == [(-50.0, "#1a7f37"),
                                                                          (25.0, "#cf222e")]
    assert [p.get_color() for p in b.lines if p.get_marker() == "o"] == ["#888888"]
    # saved with its labels (bbox "tight": nothing cut) and narrower than the report's 900 px
    # cap on images, so the page shows it unscaled: 10 pt stays about 13 px
    import base64
    import io

    from PIL import Image

    from inpaint_lib.report.show import _png

    width, height = Image.open(io.BytesIO(base64.b64decode(_png(fig)))).size
    assert 600 <= width <= 900 and height <= 760
    # the study's own network is marked, in this profile and at the study's scale, no other
    scaled = pd.concat([networks, networks[networks.network == "Adam"].assign(
        network="Adam" + tables.AT_STUDY_SCALE)], ignore_index=True)
    marked = figures.findings_forest(scaled, "Figure 27. t", {"A": "Adam", "B": "ViT"})
    labels = [t.get_text() for ax in marked.axes for t in ax.get_yticklabels()]
    assert sorted(x for x in labels if x.endswith("(the study's)")) == [
        "Adam at the study's scale · optimizers (the study's)", "Adam · optimizers (the study's)",
        "ViT · evaluation (the study's)"]
