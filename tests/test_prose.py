"""Sentence builders on hand-made tables: rankings, noise verdicts, network-vs-classical
verdicts, the mask-sweep sentence, and no Python booleans in prose."""

from __future__ import annotations

import re

import pandas as pd

from inpaint_lib import stats
from inpaint_lib.report import prose, tables
from inpaint_lib.schema import Reference

from .test_tables import long_table, metrics


def seeded(name: str, values: list[float], setting: str = "1 × 10×10 px") -> list[dict]:
    return [{"method": name, "kind": "network", "seed": i, "setting": setting, "images": 10,
             **metrics(v)} for i, v in enumerate(values)]


def classical(name: str, mse: float, setting: str = "1 × 10×10 px") -> dict:
    return {"method": name, "kind": "classical", "seed": None, "setting": setting, "images": 10,
            **metrics(mse, hole_psnr=30.0, ssim=0.99)}


def test_ranking_judges_each_step_against_seed_noise() -> None:
    # baseline: three seeds 1.0 +- 0.1; 'close' 1.05 is within noise, 'far' 3.0 is real
    long = pd.DataFrame(seeded("baseline", [0.9, 1.0, 1.1]) + seeded("close", [1.05])
                        + seeded("far", [3.0]) + [classical("fill", 0.5)])
    text = prose.ranking(long, {"baseline": Reference(test_mse=0.1), "close": Reference(test_mse=0.2),
                                "far": Reference(test_mse=0.3)})
    assert "Lowest test MSE among the networks: **baseline**" in text
    assert "- close vs baseline: +0.050000 MSE (1.05x); within noise" in text
    assert "- far vs close: +1.950000 MSE (2.86x); a real difference" in text
    assert "ours baseline < close < far; the study's baseline < close < far — the same order" in text
    assert "**every network loses to it**" in text  # fill 0.5 beats all on MSE


def test_ranking_without_seeds_says_it_cannot_judge_and_reports_a_different_order() -> None:
    long = pd.DataFrame(seeded("a", [1.0]) + seeded("b", [2.0]) + [classical("fill", 5.0)])
    text = prose.ranking(long, {"a": Reference(test_mse=0.2), "b": Reference(test_mse=0.1)})
    assert "no seed spread measured, so this gap cannot be judged" in text
    assert "a different order" in text and "Seed noise" not in text


def test_compare_to_best_counts_losers() -> None:
    nets = pd.DataFrame([metrics(1.0), metrics(3.0)], index=["good", "bad"])
    cls = pd.DataFrame([metrics(2.0), metrics(9.0)], index=["fill", "mean"])
    lines = prose.compare_to_best(nets, cls)
    mse = next(line for line in lines if line.startswith("MSE (raw prediction"))
    assert "best classical **fill** 2" in mse and "**1 of 2 networks lose to it**" in mse
    assert "good 1 (-50%, better)" in mse and "bad 3 (+50%, **worse**)" in mse
    everyone = prose.compare_to_best(nets.loc[["good"]], cls)[0]
    assert "every network beats it" in everyone


def test_versus_baselines_one_block_per_setting() -> None:
    long = pd.DataFrame(seeded("a", [1.0], "s1") + [classical("fill", 2.0, "s1")]
                        + seeded("b", [1.0], "s2") + [classical("fill", 0.5, "s2")])
    text = prose.versus_baselines(long)
    assert text.count("<b>Against classical inpainting (") == 2 and text.count("</details>") == 2
    assert "(s1)" in text and "(s2)" in text


def sweep_frames(per_image_rows: list[list[float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for n, (net, fill) in enumerate([(0.1, 0.05), (0.2, 0.25), (0.4, 0.3)], start=1):
        rows.append({"masks": n, "occluded": 0.1 * n, "kind": "network", "method": "CAE (baseline)", "mse": net})
        rows.append({"masks": n, "occluded": 0.1 * n, "kind": "classical", "method": "fill", "mse": fill})
    per_image = pd.DataFrame(per_image_rows, columns=[1, 2, 3])
    return pd.DataFrame(rows), per_image


def test_mask_sweep_sentence_counts_images_in_words() -> None:
    sweep, per_image = sweep_frames([[1, 2, 3], [1, 3, 2], [2, 2, 2]])
    text = prose.mask_sweep(sweep, per_image)
    assert "grows from 0.100000 with 1 mask (10.0% occluded) to 0.400000 with 3 masks (30.0%): 4.0x" in text
    assert "2 of 3 images get worse at every added mask" in text  # [1,3,2] dips
    assert "2 of 3 images are worse at 3 masks than at 1" in text  # [2,2,2] is not worse
    assert "at 2 of 3 mask counts** (1, 3)" in text  # the CAE wins only at 2 masks
    assert "True" not in text and "False" not in text
    every, per_image = sweep_frames([[1, 2, 3], [1, 2, 4]])
    assert "all 2 images get worse at every added mask, and all 2 images are worse" in prose.mask_sweep(every, per_image)


def test_no_sentence_prints_a_python_boolean() -> None:
    long = long_table()
    sweep, per_image = sweep_frames([[1, 2, 3]])
    levels = long.rename(columns={"setting": "masks"}).assign(occluded=0.3)
    texts = [prose.ranking(long), prose.versus_baselines(long), prose.mask_sweep(sweep, per_image),
             prose.occlusion_levels(levels, "pets"), prose.sweep_sentence(sweep)]
    for text in texts:
        assert "True" not in text and "False" not in text


def test_verdict_scope() -> None:
    assert prose.verdict_scope("full", "x") == ""
    assert "`quick` profile (20 epochs)" in prose.verdict_scope("quick", "20 epochs")


def test_provenance_banners_and_seed_counts() -> None:
    facts = {"profile": "smoke", "dataset": "synthetic shapes", "sizes": {"train": 10, "val": 0, "test": 5},
             "image_size": 32, "epochs": (1, 2), "batch_size": 4, "seeds": {"a": 3, "b": 1},
             "mask_seed": 1234, "device": "cpu", "precision": "fp32", "random_vgg": True}
    text = prose.provenance(facts)
    assert "generated shapes (smoke), random VGG-16 perceptual loss, see the warning" in text
    assert "RANDOMLY" not in text  # the report's warning, once at its top
    assert "train 10, test 5; 32x32 px" in text and "a: 3 seeds, b: 1 seed" in text
    real = prose.provenance({**facts, "dataset": "CIFAR-10", "random_vgg": False, "seeds": {"a": 1}})
    assert "⚠" not in real and "1 seed per run" in real


def test_settings_block_lists_each_change_with_its_source() -> None:
    rows = [{"setting": "runs.baseline.epochs", "base value": 200, "value": 10,
             "set by": "cae.yaml (200), rescaled by profile quick: epoch_scale 0.05"}]
    text = prose.settings_block(rows, "params/a1.yaml", "quick", "title: t\n")
    assert "| `runs.baseline.epochs` | `200` | `10` | cae.yaml (200), rescaled by profile quick" in text
    assert "Every setting is the study's base value." in prose.settings_block([], "p", "full", "")


def test_more_context_compares_each_gap_to_the_classical_methods() -> None:
    low = pd.DataFrame(seeded("cae", [1.2]) + [classical("fill", 1.0)])
    high = pd.DataFrame(seeded("cae", [0.9]) + [classical("fill", 1.0)])
    text = prose.more_context(high, low, "96 px", "32 px")
    assert "-10% against the best classical method at 96 px, +20% at 32 px: more context **helped**" in text
    assert "**did not help**" in prose.more_context(low, high, "96 px", "32 px")


def test_ablation_text_judges_changes_and_the_best_against_classical() -> None:
    rows = (seeded("study", [1.0, 1.1, 0.9]) + seeded("tweak", [0.98]) + seeded("best", [0.5, 0.52, 0.48])
            + [classical("fill", 0.8)])
    long = pd.DataFrame(rows).assign(parameters=100, train_seconds=10.0)
    long.loc[long.method == "best", "hole_psnr"] = 40.0  # beats fill's 30 dB
    long.loc[long.method == "best", "ssim"] = 0.995
    text = prose.ablation(long, "study")
    assert "- tweak: hole MSE 0.98 (-2%; within noise" in text
    assert "- best: hole MSE 0.5 (-50%; a real difference" in text
    assert "**Best network: best.** Against the best classical method of each metric it is better on all 6 metrics" in text
    assert "Hole MSE 0.5 against fill's 0.8 (-38%); its 95% seed interval is ±0.04968, so the gap to fill is beyond the seed noise" in text


def test_list_items_named_after_runs_stay_one_level() -> None:
    from inpaint_lib.report.show import one_level_items

    text = "Each change:\n- + mask channel: better\n- best combination: better\n  - - nested: kept"
    assert one_level_items(text) == ("Each change:\n- \\+ mask channel: better\n- best combination: better"
                                     "\n  - \\- nested: kept")


def _plain(text: str) -> str:
    """Findings text without its hover definitions (<abbr title=...>word</abbr> -> word)."""
    return re.sub(r"<abbr title=\"[^\"]*\">([^<]*)</abbr>", r"\1", text)


def _paired() -> pd.DataFrame:
    return pd.DataFrame({
        "part": ["A", "A", "A", "B", "B"], "section": ["s"] * 5,
        "comparison": ["2.2 · 10x10", "2.2 · 10x10", "fixes · 10x10", "pets · 150", "pets · 200"],
        "network": ["Adam", "SGD", "+ residual", "ViT", "ViT"], "classical": ["biharmonic"] * 5,
        "metric": ["hole MSE"] * 3 + ["hole MAE"] * 2, "network mean": [0.03, 0.05, 0.018, 0.1, 0.1],
        "classical mean": [0.02, 0.02, 0.02, 0.08, 0.09], "difference": [0.01, 0.03, -0.002, 0.02, 0.01],
        "low": [0.008, 0.02, -0.003, -0.01, 0.005], "high": [0.012, 0.04, -0.001, 0.05, 0.015],
        "verdict": ["worse", "worse", "better", "tie (within noise)", "worse"],
        "seeds": [3, 1, 3, 1, 1], "seed spread": ["its own", "pooled (4 df)", "its own"] + ["unknown"] * 2,
        "images": [100] * 5, "training s": [10.0, 10.0, 30.0, 600.0, 600.0],
        "notebook": ["a2_optimizers", "a2_optimizers", "a6_ablation", "b8_evaluation", "b8_evaluation"]})


def _scorecard(at_scale: list[float] | None = None) -> pd.DataFrame:
    scale = at_scale or [float("nan")] * 3
    return pd.DataFrame({
        "section": ["2.2 Optimizers", "2.2 Optimizers", "2.4 Masking"],
        "notebook": ["a2_optimizers", "a2_optimizers", "a4_masking"], "run": ["Adam", "SGD", "x"],
        "quantity": ["test MSE"] * 3, "study": [0.01, 0.02, 0.005],
        "ours (quick)": [0.02, 0.2, 0.01], "ours / study": [2.0, 10.0, 2.0],
        "ours at the study's scale": scale, "at scale / study": [v / s for v, s in zip(scale, [0.01, 0.02, 0.005])],
        "study's claim holds": ["ordering of test MSE: holds; at the study's scale: holds"] * 2
        + [("ordering of test MSE: does not hold (y before x beyond seed noise); at the study's "
            "scale: 0 of 1 runs trained")]})


def _claims() -> list[dict]:
    """`Conclusions.orderings` of two sections: 2.2 holds at both scales (3 seeds against 1,
    gaps far beyond the pooled spread); 2.4 does not hold here and is not trained at scale."""
    seeds = {"Adam": 3, "SGD": 1, "x": 1, "y": 1}
    holds = stats.ordering(["Adam", "SGD"], {"Adam": 0.02, "SGD": 0.2}, seeds, 0.001, 2)
    at_scale = stats.ordering(["Adam", "SGD"], {"Adam": 0.0095, "SGD": 0.021}, seeds, 0.0001, 2)
    wrong = stats.ordering(["x", "y"], {"x": 0.05, "y": 0.01}, seeds, 0.001, 2)
    return [{"section": "2.2 Optimizers", "notebook": "a2_optimizers", "names": ["Adam", "SGD"],
             "here": holds, "at_scale": at_scale, "trained": (2, 2)},
            {"section": "2.4 Masking", "notebook": "a4_masking", "names": ["x", "y"],
             "here": wrong, "at_scale": None, "trained": (0, 2)}]


def test_findings_count_networks_say_why_and_link_every_claim() -> None:
    paired = _paired()
    networks = tables.by_network(paired)
    gap = {"epochs": (10, 200), "train": (10_000, 45_000)}
    sweep = pd.DataFrame({"masks": [1, 1, 4, 4], "kind": ["network", "classical"] * 2,
                          "method": ["CAE (baseline)", "biharmonic"] * 2, "images": [2000] * 4,
                          "mse": [0.04, 0.02, 0.12, 0.05], "occluded": [0.098, 0.098, 0.32, 0.32],
                          "seeds": [3, None, 3, None], "mse ±95%": [0.002, None, 0.03, None]})
    text = _plain(prose.findings(networks, _scorecard([0.0095, 0.021, float("nan")]), "quick",
                                 "c1_conclusions.yaml", gap, {"A": "Adam", "B": "ViT"}, (0.03, 4),
                                 not_run=prose.not_at_scale("Part B needs a GPU", (2, 11)),
                                 sweep=sweep, sweep_notebook="a5_mask_sweep.yaml", done=(2, 11),
                                 claims=_claims(), against="AGAINST", test_sets={"A": "CIFAR-10"}))
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert text.startswith("## Findings") and 4 <= len(bullets) <= 8
    assert "[Terms](#terms)" in text and "† marks one seed, whose interval borrows" in text
    # the block on the published copy stands between the lede and the bullets
    assert text.index("† marks") < text.index("AGAINST") < text.index("- **The study's orderings")
    orderings = next(b for b in bullets if "orderings" in b)
    assert ("[2.2 optimizers](#notebook-a2-optimizers): Adam < SGD: holds at the study's scale and "
            "in the `quick` profile") in orderings
    assert ("[2.4 masking](#notebook-a4-masking): x < y: in the `quick` profile does **not** hold "
            "(y before x beyond seed noise); not yet testable at the study's scale (0 of 2 runs "
            "trained)") in orderings
    far = next(b for b in bullets if "How far" in b)
    # at the study's scale first, with the study's own spread; then this profile, and why
    assert ("(2 of the 11 runs planned so far, trained on this CPU: 2 configurations) our test MSE "
            "is 0.95x to 1.05x the study's numbers for the same configurations (Adam 0.0095)") in far
    assert "2.0x to 10.0x" in far
    assert "because this profile trains 10 of the study's 200 epochs on 10,000 of its 45,000" in far
    part_a = next(b for b in bullets if b.startswith("- **Part A"))
    # distinct networks: 3 in Part A, the ViT once in Part B though it has 2 comparisons
    assert "on the same 100 test images of CIFAR-10 and masks for every method" in part_a
    assert ("in the `quick` profile: **1 of 3** better than the best classical method (biharmonic), "
            "2 worse, 0 tied or mixed") in part_a
    assert "best: **+ residual**, -10% [-15%, -5%], 3 seeds, after 30 s of training" in part_a
    assert "the study's own CAE: worse, +50% [+40%, +60%], 3 seeds" in part_a
    assert "(3 networks from 7 runs: 3 seeds of the study's own CAE and + residual, 1 of the other)" in part_a
    assert "(#notebook-c1-conclusions)" in part_a
    part_b = next(b for b in bullets if b.startswith("- **Part B"))
    assert "**0 of 1** better than the best classical method" in part_b
    assert "0 worse, 1 tied or mixed" in part_b and "after 10 min" in part_b
    assert "2 of them are trained and committed" in text and "Part B needs a GPU" in text
    swept = next(b for b in bullets if b.startswith("- **Mask sweep"))
    assert swept.startswith("- **Mask sweep** (`quick`, the study's CAE, mean of 3 seeds, ± their 95% "
                            "interval, on 2,000 test images): the CAE's whole-image test MSE goes from "
                            "0.04 ± 0.002 with 1 mask (9.8% occluded) to 0.12 ± 0.03 with 4 (32.0%), 3.0x")
    done = _plain(prose.findings(networks, _scorecard([0.0095, 0.021, float("nan")]), "quick",
                                 "c1_conclusions.yaml", gap, {"A": "Adam", "B": "ViT"}, (0.03, 4),
                                 sweep_notebook="a5_mask_sweep.yaml", done=(11, 11), claims=_claims()))
    assert "(all 11 runs planned, trained on this CPU: 2 configurations)" in done


def test_part_a_leads_with_the_study_scale_and_spells_out_the_best_combination_once() -> None:
    """Issue 35: the verdict at the study's scale first and the profile's second, each tagged;
    'best combination' spelled out inline the first time only; what each verdict counts."""
    paired = _paired()
    paired.loc[paired.network == "+ residual", "network"] = "best combination"
    networks = tables.by_network(paired)
    at_scale = networks[networks.part == "A"].assign(verdict="better", seeds=[3, 1, 1])
    text = _plain(prose.part_verdict(networks, "A", "Adam", "c1_conclusions.yaml", at_scale, "quick",
                                     "CIFAR-10"))
    scale = text.index("at the study's scale (`full`, committed runs): **3 of 3** better")
    quick = text.index("In the `quick` profile: **1 of 3** better")
    assert scale < quick
    assert text.count("best combination (the study's CAE told where the hole is (mask channel)") == 1
    assert "(3 networks from 5 runs: 3 seeds of the study's own CAE, 1 of each other)" in text
    assert "(3 networks from 7 runs: 3 seeds of the study's own CAE and the best combination" in text


def test_an_ordering_within_noise_is_not_said_to_hold_at_either_scale() -> None:
    """The issue's case: latent 256 < 128 < 64 < 16 in the same order at both scales, but in
    the quick profile every step is within the seed noise and at the study's scale 128 vs 256
    is (one seed of 256 against three of 128, the baseline's spread)."""
    names = ["256", "128", "64", "16"]
    quick = stats.ordering(names, {"256": 0.0283, "128": 0.0314, "64": 0.0370, "16": 0.0410},
                           {"256": 1, "128": 3, "64": 1, "16": 1}, 0.00232, 2)
    scale = stats.ordering(names, {"256": 0.007816, "128": 0.008265, "64": 0.009283, "16": 0.017056},
                           {"256": 1, "128": 3, "64": 1, "16": 1}, 0.000121, 2)
    claims = [{"section": "2.3 Latent", "notebook": "a3_latent", "names": names, "here": quick,
               "at_scale": scale, "trained": (4, 4)}]
    text = _plain(prose.orderings(claims, _scorecard().iloc[:0], "quick"))
    assert "holds at" not in text and "holds;" not in text and "holds in" not in text
    assert ("256 < 128 < 64 < 16: at the study's scale same order, 128 vs 256 within seed noise; "
            "in the `quick` profile same order, every step within seed noise") in text
    # the scorecard's words for the same claims (one rule: `stats.Ordering.describe`)
    from inpaint_lib.report.verdicts import ordering_claim

    assert ordering_claim(claims[0]) == ("ordering of test MSE: same order; every step within seed "
                                         "noise; at the study's scale: same order; 128 vs 256 within "
                                         "seed noise")
    # under the scorecard: every step with its gap and threshold, at each scale
    steps = prose.ordering_steps(claims, "quick")
    assert steps.startswith("2.3 ordering 256 < 128 < 64 < 16, step by step")
    assert "`quick`: 128 vs 256 +0.003100 (within the threshold 0.011" in steps
    assert ("At the study's scale: 128 vs 256 +0.000449 (within the threshold 0.000601); 64 vs 128 "
            "+0.001018 (beyond the threshold 0.000601)") in steps
    assert steps.endswith("**same order, 128 vs 256 within seed noise**.")
    # two more seeds of 256 that settle the step: the ordering then holds there
    settled = stats.ordering(names, {"256": 0.007516, "128": 0.008265, "64": 0.009283, "16": 0.017056},
                             {"256": 3, "128": 3, "64": 1, "16": 1}, 0.000121, 4)
    assert settled.verdict == stats.HOLDS
    assert ("at the study's scale holds; in the `quick` profile same order, every step within seed "
            "noise") in _plain(prose.orderings([{**claims[0], "at_scale": settled}],
                                               _scorecard().iloc[:0], "quick"))


def test_findings_recommend_a_method_for_your_photo_by_hole_size() -> None:
    rows = [{"shape": sh, "setting": s, "width": w, "hole_width": w, "best_classical": "biharmonic",
             "hole_psnr_margin": m, "hole_psnr_low": m - 0.3, "hole_psnr_high": m + 0.3}
            for sh, s, w, m in [("squares", "4 px", 4, -0.2), ("squares", "16 px", 16, 0.5),
                                ("squares", "64 px", 64, 1.5), ("strokes", "thin", 6, -0.1),
                                ("one box", "96 px", 96, 1.1)]]
    text = _plain(prose.photo_advice(rows, "shipped photo-network", "d1_crossover.yaml"))
    # the command first: it is what a reader of the first screen can use at once
    assert text.startswith("**On your own photo:** `python -m inpaint_lib inpaint photo.jpg --mask "
                           "mask.png --out filled.png` measures each hole")
    assert "The table (hole PSNR in dB, higher is better" in text
    assert "use biharmonic for squares 4 px, strokes thin (the network is -0.20 to -0.10 dB there" in text
    assert "use the shipped photo-network for squares 16 px, squares 64 px, a box 96 px (+0.50 to +1.50 dB" in text
    assert "`python -m inpaint_lib inpaint photo.jpg --mask mask.png --out filled.png`" in text
    assert "(#notebook-d1-crossover)" in text
    assert prose.photo_advice([], "x", "d1_crossover.yaml") == ""


def test_terms_define_the_words_and_count_from_the_comparisons() -> None:
    text = prose.terms("quick", "reduced", _paired())
    assert text.startswith("### Terms")
    assert "<abbr title=" in prose.term("hole MSE") and prose.term("no such word") == "no such word"
    for word in ("quick", "classical methods", "best classical", "best combination", "photo network",
                 "mosaic", "GradNorm", "test MSE", "hole MSE, hole MAE", "hole PSNR", "SSIM"):
        assert f"**{word}" in text or word in text
    assert "biharmonic in 5 of 5 comparisons" in text and "1 to 3 random seeds" in text
    # the mosaic's period is the runs' patch size, not a typed number
    from inpaint_lib.report.prose.findings import DEFINITIONS

    assert "px" not in DEFINITIONS["mosaic"]
    sized = prose.terms("quick", "reduced", _paired(), (8, 16))
    assert "its period is the patch size: 8 px here, 16 px in the study's ViT" in sized


def test_model_comparison_names_ours_beside_the_study_s() -> None:
    settings = [{"setting": "data.image_size", "base value": 224, "value": 64},
                {"setting": "runs.vit.model.patch_size", "base value": 16, "value": 8}]
    text = prose.model_comparison(settings, {"px": 64, "patch": 8, "dim": 256}, 909_000, 8_671_744,
                                  "quick")
    assert text.startswith("**Our ViT** (profile `quick`): 64 px, patch 8, dim 256, 909,000 par")
    assert "**the study's**: 224 px, patch 16, dim 256, 8,671,744 parameters" in text
    assert prose.phase_heading("Phase 2: Ramp (epochs 21-40)", (2, 3)) == \
        "Phase 2: Ramp (study: epochs 21-40; here: 2-3)"


def test_variants_per_level_lists_are_one_click_away() -> None:
    rows = []
    for level in ["150 × 11×11 px", "200 × 11×11 px"]:
        for method, kind, mae, seed in [("seven phases", "network", 0.10, 0), ("SoftAdapt", "network", 0.09, 0),
                                        ("SoftAdapt", "network", 0.11, 1), ("biharmonic", "classical", 0.05, None)]:
            rows.append({"masks": level, "method": method, "kind": kind, "seed": seed, "mse": mae,
                         "mse_composite": mae, "hole_mse": mae, "hole_mae": mae,
                         "hole_psnr": 20 + mae, "ssim": 0.9, "grid": 1.5})
    text = prose.variants(pd.DataFrame(rows), "seven phases", ["SoftAdapt"], "Held-out pets")
    assert text.count("<details>") == text.count("</details>") == 2
    first, second = text.split("</details>")[:2]
    assert "- *150 × 11×11 px*: best network" in first and "patch grid is 1.50" in first
    assert "- SoftAdapt: 150 × 11×11 px: 0.1000 vs 0.1000 (within the seed interval)" in second


def test_section_summaries_close_each_section_with_its_own_numbers() -> None:
    def comparison(notebook: str, network: str, part: str, diff: float, low: float, high: float,
                   verdict: str) -> dict:
        return {"part": part, "section": "s", "comparison": f"title · {network} masks",
                "network": network, "classical": "biharmonic",
                "metric": "hole MSE" if part == "A" else "hole MAE", "network mean": 0.05 + diff,
                "classical mean": 0.05, "difference": diff, "low": low, "high": high,
                "verdict": verdict, "seeds": 1, "images": 100, "training s": 10.0,
                "notebook": notebook}
    paired = pd.DataFrame([
        comparison("a2_optimizers", "Adam", "A", 0.01, 0.008, 0.012, "worse"),
        comparison("a2_optimizers", "SGD", "A", 0.04, 0.03, 0.05, "worse"),
        comparison("a6_ablation", "best", "A", -0.007, -0.009, -0.005, "better"),
        comparison("b8_evaluation", "ViT", "B", 0.001, -0.002, 0.004, "tie (within noise)")])
    card = pd.DataFrame({
        "section": ["2.2", "2.2", "6.2"], "notebook": ["a2_optimizers", "a2_optimizers", "b8_evaluation"],
        "run": ["Adam", "SGD", "ViT"], "quantity": ["test MSE", "test MSE", "hole MAE, pets"],
        "study": [0.01, 0.02, float("nan")], "ours (quick)": [0.025, 0.22, 0.1],
        "ours / study": [2.5, 11.0, float("nan")], "full profile": ["-"] * 3,
        "study's claim holds": ["ordering of test MSE: same order; SGD vs Adam within seed noise",
                                "ordering of test MSE: same order; SGD vs Adam within seed noise",
                                "learns to inpaint: yes (mean fill 0.2)"]})
    out = prose.section_summaries(paired, card, "quick")
    assert list(out) == ["a2_optimizers", "b8_evaluation", "a6_ablation"]
    assert all(v.startswith("**In short.** ") for v in out.values())
    a2 = out["a2_optimizers"]
    assert ("2.5x to 11.0x the study's (2 runs); the study's ordering of test MSE: same order; SGD "
            "vs Adam within seed noise") in a2
    assert "better in 0, worse in 2 and tied in 0 of 2 comparisons; closest: Adam" in a2
    assert "best: best (best masks), -0.007 (95% interval -0.009 to -0.005)" in out["a6_ablation"]
    b8 = out["b8_evaluation"]
    assert "claims tested here: learns to inpaint: yes." in b8 and "tied in 1 of 1 comparison" in b8
    assert "[0, 1] pixel scale" in b8 and "test MSE" not in b8


def test_photo_advice_when_the_network_wins_everywhere_and_the_grammar_of_counts() -> None:
    rows = [{"shape": sh, "setting": s, "width": w, "hole_width": w, "best_classical": "biharmonic",
             "hole_psnr_margin": m, "hole_psnr_low": m - 0.1, "hole_psnr_high": m + 0.1}
            for sh, s, w, m in [("squares", "4 px", 4, 0.4), ("squares", "64 px", 64, 1.0),
                                ("strokes", "thin", 6, 0.3), ("strokes", "thick", 25, 0.9)]]
    text = _plain(prose.photo_advice(rows, "shipped photo-network", "d1_crossover.yaml", 563))
    assert "on 563 held-out pet photos" in text
    assert ("the shipped photo-network (a photo network: a CAE trained on photos, not Part B's ViT) beats biharmonic on every "
            "hole measured (squares 4 px to 64 px; strokes thin to thick), by +0.30 to +1.00 dB.") in text
    made = _plain(prose.photo_advice(rows, "shipped photo-network", "d1_crossover.yaml", 563, made="full"))
    assert "The table (`full` photo profile; hole PSNR in dB" in made
    assert "1 of them is trained" in prose.not_at_scale("Part B needs a GPU", (1, 11))
    assert "all of them are trained and committed." in prose.not_at_scale("", (11, 11))


def test_seed_spread_sets_our_seeds_against_the_studys_repeated_runs() -> None:
    study = {"baseline": 0.008868, "Adam": 0.008693, "latent 128": 0.009221, "10x10 square": 0.008946}
    below = prose.seed_spread(study, [0.008298, 0.008131, 0.008366], "CIFAR-10 (JPEG copy)")
    assert "mean 0.008932, range 0.008693 to 0.009221 (±3.0%)" in below
    assert "3 seeds: mean 0.008265, range 0.008131 to 0.008366" in below and "0.93x the study's mean" in below
    assert "The study's spread is **not** inside ours" in below and "**outside** the study's range (below it" in below
    assert "one candidate: these images are the CIFAR-10 (JPEG copy)" in below
    within = prose.seed_spread(study, [0.0086, 0.0090, 0.0094], "CIFAR-10 (JPEG copy)")
    assert "The study's spread is inside ours, and our mean is within the study's range." in within
    assert "candidate" not in within  # nothing to explain
    assert "not all trained yet" in prose.seed_spread(study, [0.0083])
    assert prose.seed_spread({}, [0.0083]) == ""
