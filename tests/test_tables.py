"""Table builders on small hand-made long tables with known answers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from inpaint_lib.report import tables
from inpaint_lib.schema import DataConfig, Reference, RunConfig


def metrics(mse: float, hole_psnr: float = 20.0, ssim: float = 0.9) -> dict[str, float]:
    return {"mse": mse, "mse_composite": mse / 10, "hole_mse": mse, "hole_mae": mse * 2,
            "hole_psnr": hole_psnr, "ssim": ssim}


def long_table() -> pd.DataFrame:
    """Network A: 3 seeds (mse 1, 2, 3); network B: 1 seed; two classical methods."""
    rows = [{"method": "A", "kind": "network", "seed": s, "setting": "1 × 10×10 px", "images": 10,
             **metrics(float(s + 1), hole_psnr=18.0)} for s in range(3)]
    rows.append({"method": "B", "kind": "network", "seed": 0, "setting": "1 × 10×10 px", "images": 10,
                 **metrics(5.0, hole_psnr=22.0, ssim=0.95)})
    rows.append({"method": "fill", "kind": "classical", "seed": None, "setting": "1 × 10×10 px",
                 "images": 10, **metrics(1.5, hole_psnr=21.0, ssim=0.99)})
    rows.append({"method": "blur", "kind": "classical", "seed": None, "setting": "1 × 10×10 px",
                 "images": 10, **metrics(4.0, hole_psnr=19.0, ssim=0.5)})
    return pd.DataFrame(rows)


def test_split_methods_means_over_seeds_in_first_seen_order() -> None:
    nets, classical = tables.split_methods(long_table())
    assert list(nets.index) == ["A", "B"] and list(classical.index) == ["fill", "blur"]
    assert nets.loc["A", "mse"] == 2.0 and nets.loc["B", "mse"] == 5.0


def test_seed_summary_interval_reference_and_classical_rows() -> None:
    summary = tables.seed_summary(long_table(), {"A": Reference(test_mse=0.5)}).set_index("method")
    assert summary.loc["A", "test MSE"] == 2.0 and summary.loc["A", "seeds"] == 3
    # t(0.975, df=2) * sd 1 / sqrt(3)
    assert summary.loc["A", "±95% CI"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    assert math.isnan(summary.loc["B", "±95% CI"])  # one seed: no interval
    assert summary.loc["A", "study's test MSE"] == 0.5 and math.isnan(summary.loc["B", "study's test MSE"])
    assert summary.loc["fill", "seeds"] == "-" and summary.loc["fill", "kind"] == "classical"
    assert summary.loc["A", "hole PSNR (dB)"] == 18.0 and summary.loc["A", "images"] == 10


def test_seed_noise_pools_networks_with_several_seeds() -> None:
    sd, df = tables.seed_noise(long_table())
    assert (sd, df) == (pytest.approx(1.0), 2)
    assert math.isnan(tables.seed_noise(long_table().query("method != 'A'"))[0])


def test_latent_sizes_follow_the_image_size() -> None:
    data = DataConfig(dataset="cifar10")
    configs = {n: RunConfig(data=data, model={"arch": "cae", "latent_channels": c})
               for n, c in (("16", 16), ("256", 256))}
    summary = pd.DataFrame({"method": ["16", "256", "biharmonic"], "test MSE": [1.0, 2.0, 3.0]})
    out = tables.with_latent_sizes(summary, configs, 32)
    assert list(out.columns[1:3]) == ["latent size (16C)", "compression of 3,072"]
    assert list(out["latent size (16C)"]) == ["256", "4,096", "-"]
    assert list(out["compression of 3,072"]) == ["12.00x", "0.75x", "-"]
    assert list(tables.with_latent_sizes(summary, configs, 96).columns[1:3]) == [
        "latent size (144C)", "compression of 27,648"]


def test_sweep_pivot_puts_occlusion_first() -> None:
    sweep = pd.DataFrame({"masks": [1, 1, 2, 2], "occluded": [0.1, 0.1, 0.2, 0.2],
                          "method": ["net", "fill", "net", "fill"], "mse": [1.0, 2.0, 3.0, 4.0]})
    pivot = tables.sweep_pivot(sweep)
    assert list(pivot.columns) == ["masks", "occluded (measured)", "net", "fill"]
    assert pivot.loc[1, "net"] == 3.0 and pivot.loc[0, "occluded (measured)"] == 0.1


def test_gap_and_beats_respect_the_metric_direction() -> None:
    assert tables.beats(0.1, 0.2, "hole_mse") and not tables.beats(0.1, 0.2, "ssim")
    assert tables.gap(20.0, 21.5, "hole_psnr") == "-1.50 dB" and tables.gap(0.9, 1.0, "mse") == "-10%"


def test_ablation_rows_intervals_and_verdicts() -> None:
    long = long_table().assign(parameters=[10, 10, 10, 20, 0, 0], train_seconds=[5.0, 7.0, 6.0, 9.0, 0, 0])
    table = tables.ablation(long).set_index("method")
    assert list(table.index) == ["A", "B", "fill", "blur"]
    assert table.loc["A", "training s"] == 6.0 and table.loc["A", "seeds"] == 3
    assert table.loc["A", "hole MSE ±95%"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    # A: hole MSE 2 vs fill 1.5 (worse); B: PSNR 22 vs 21 better, SSIM 0.95 vs 0.99 worse
    assert table.loc["A", "vs best classical"] == "worse on all 6"
    assert "hole PSNR (dB)" not in table.loc["B", "vs best classical"]
    assert table.loc["fill", "vs best classical"] == "-"
    assert tables.best_of(long, "network") == "A" and tables.best_of(long, "classical") == "fill"
    assert tables.best_of(long, "network", "hole_psnr") == "B"


def test_formatting_leaves_text_columns_named_after_a_metric_alone() -> None:
    """A column of intervals or verdicts named after PSNR must not get the number format (the
    study-scale table of the ablation has 'hole PSNR (dB) difference [95%]')."""
    from inpaint_lib.report.show import format_table

    df = pd.DataFrame({"hole PSNR (dB)": [19.34567], "hole PSNR (dB) difference [95%]": ["+1.3 [+1.2, +1.4]"],
                       "hole PSNR (dB) verdict": ["better"], "seeds": [3]})
    html = format_table(df).to_html()
    assert "19.35" in html and "+1.3 [+1.2, +1.4]" in html and "better" in html


def test_headline_networks_keep_the_studys_and_the_best_per_part() -> None:
    networks = pd.DataFrame({
        "part": ["A", "A", "A", "B", "B"], "notebook": ["a1", "a2", "a6", "b7", "b9"],
        "network": ["baseline", "RMSprop", "best combination", "vit", "hybrid"],
        "relative %": [40.0, 55.0, -10.0, 160.0, -2.0]})
    at_scale = networks[networks.part == "A"].iloc[[0, 2]].assign(**{"relative %": [-7.0, -24.0]})
    picked = tables.headline_networks(networks, {"A": "baseline", "B": "vit"}, at_scale)
    assert list(picked.network) == ["baseline", "best combination", "vit", "hybrid",
                                    "baseline at the study's scale",
                                    "best combination at the study's scale"]
    # the study's network is the best: one row, not two
    one = tables.headline_networks(networks[networks.network != "best combination"],
                                   {"A": "RMSprop", "B": "hybrid"})
    assert list(one.network) == ["RMSprop", "baseline", "hybrid"]


def test_the_study_s_ordering_is_judged_on_the_table_s_own_seed_noise() -> None:
    """`claimed_ordering` (the rule the sections, the scorecard and the findings share): A has
    3 seeds (1, 2, 3: sd 1, 2 df), B one seed; the study says B < A."""
    long = long_table()
    within = tables.claimed_ordering(long, {"B": 0.1, "A": 0.2})  # ours: A 2.0, B 5.0
    step = within.steps[0]
    assert (step.better, step.worse, step.diff) == ("B", "A", -3.0)
    assert step.threshold == pytest.approx(4.302653 * math.sqrt(1 / 1 + 1 / 3), rel=1e-5)
    assert within.describe() == "not settled: A before B, within seed noise"
    far = long.assign(mse=long.mse.where(long.method != "B", 50.0))
    assert tables.claimed_ordering(far, {"A": 0.1, "B": 0.2}).describe() == "holds"
    assert tables.claimed_ordering(far, {"B": 0.1, "A": 0.2}).describe() == \
        "does not hold (A before B beyond seed noise)"
    # a name the table lacks is left out; the classical methods never count
    assert tables.claimed_ordering(long, {"A": 0.1, "B": 0.2, "C": 0.3, "fill": 0.0}).names == ("A", "B")


def test_scorecard_shows_the_study_s_digits_and_integer_parameters() -> None:
    card = pd.DataFrame({
        "section": ["2.1"] * 3, "run": ["baseline", "baseline", "baseline"],
        "quantity": ["test MSE", "parameters", "occluded (10×10; study: naive 10%)"],
        "study": [0.008868, 186371.0, 0.09765625], "ours (quick)": [0.034812345, 186371.0, 0.0971],
        "ours / study": [3.93, 1.0, 0.99], tables.STUDY_SCALE: [0.0082651, 186371.0, 0.0972],
        "at scale / study": [0.93, 1.0, 1.0], "study's claim holds": ["-", "same", "yes"]})
    view = tables.scorecard_view(card).set_index("quantity")
    mse, params = view.loc["test MSE"], view.loc["parameters"]
    assert (mse.study, mse["ours (quick)"], mse[tables.STUDY_SCALE]) == ("0.008868", "0.034812", "0.008265")
    assert (params.study, params["ours (quick)"], params[tables.STUDY_SCALE]) == ("186,371",) * 3
    assert view.iloc[2].study == "0.09766"
    assert view["ours / study"].tolist() == [3.93, 1.0, 0.99]  # ratios stay numbers
    missing = tables.scorecard_view(card.assign(**{tables.STUDY_SCALE: float("nan")}))
    assert set(missing[tables.STUDY_SCALE]) == {"-"}


def test_best_classical_rows_keeps_the_lowest_error_classical_method_of_each_mask() -> None:
    """Each kind of test mask keeps its own best classical row (never a network's, even one
    with a lower error; a tie keeps both); a mask with no classical row keeps none."""
    summary = pd.DataFrame({
        "method": ["net", "telea", "biharmonic", "net", "telea", "biharmonic", "net"],
        "kind": ["network", "classical", "classical", "network", "classical", "classical", "network"],
        "test masks": ["a", "a", "a", "b", "b", "b", "c"],
        "test MSE": [0.001, 0.02, 0.01, 0.05, 0.03, 0.03, 0.2]})
    rows = tables.best_classical_rows(summary)
    assert list(summary[rows].method) == ["biharmonic", "telea", "biharmonic"]
    assert list(summary[rows]["test masks"]) == ["a", "b", "b"]
