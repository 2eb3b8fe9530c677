"""The first screen as data and every report's check against the published copy: a record made
by `first_screen.collect` (from a stand-in for `verdicts.Conclusions` with the issue's published
numbers), rendered, compared with itself and with a doctored copy, through the command too."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from inpaint_lib import stats
from inpaint_lib.report import first_screen
from inpaint_lib.report.tables import STUDY_SCALE

PROFILE = "quick"


def _paired_row(part: str, notebook: str, network: str, comparison: str, cls_mean: float,
                pct: tuple[float, float, float], seeds: int, metric: str) -> dict:
    diff, low, high = (cls_mean * p / 100 for p in pct)
    return {"part": part, "section": notebook, "comparison": comparison, "network": network,
            "classical": "biharmonic", "metric": metric, "network mean": cls_mean + diff,
            "classical mean": cls_mean, "difference": diff, "low": low, "high": high,
            "verdict": stats.paired_verdict(low, high, True), "seeds": seeds,
            "seed spread": "pooled (4 df)", "noise": "images and seeds", "images": 10_000 if part == "A" else 256,
            "training s": 39.0, "notebook": notebook}


def _paired() -> pd.DataFrame:
    """The issue's published numbers: Part A's study's CAE +42% [+22%, +61%] (3 seeds), the best
    combination -10% [-22%, +2%] (3 seeds, tied), SGD worse; Part B's ViT +160% [+155%, +165%]
    (one seed), its best combination -2% [-2.4%, -1.6%] (2 seeds) in two settings."""
    return pd.DataFrame([
        _paired_row("A", "a2_optimizers", "Adam", "2.2 optimizers · 10×10", 0.02, (42, 22, 61), 3, "hole MSE"),
        _paired_row("A", "a2_optimizers", "SGD + Momentum", "2.2 optimizers · 10×10", 0.02, (200, 150, 250), 1, "hole MSE"),
        _paired_row("A", "a6_ablation", "best combination", "3.2 fixes · 10×10", 0.02, (-10, -22, 2), 3, "hole MSE"),
        _paired_row("B", "b8_evaluation", "ViT", "held-out pets · 150 × 3×3 px", 0.05, (160, 155, 165), 1, "hole MAE"),
        _paired_row("B", "b9_variants", "best combination", "held-out pets · 150 × 3×3 px", 0.05, (-2, -2.4, -1.6), 2, "hole MAE"),
        _paired_row("B", "b9_variants", "best combination", "boats · 150 × 3×3 px", 0.06, (-3, -4, -2), 2, "hole MAE"),
    ])


def _at_scale() -> pd.DataFrame:
    return pd.DataFrame([
        _paired_row("A", "a2_optimizers", "Adam", "2.2 optimizers · 10×10", 0.01, (-6, -10, -2), 3, "hole MSE"),
        _paired_row("A", "a6_ablation", "best combination", "3.2 fixes · 10×10", 0.01, (-24, -30, -19), 1, "hole MSE"),
    ])


def _scorecard() -> pd.DataFrame:
    return pd.DataFrame({
        "section": ["2.1 Baseline", "2.2 Optimizers", "6.2 Generalisation"],
        "notebook": ["a1_baseline", "a2_optimizers", "b8_evaluation"],
        "run": ["baseline", "SGD + Momentum", "ViT"],
        "quantity": ["test MSE", "test MSE", "hole MAE, pets, 150 × 3×3 px"],
        "study": [0.008868, 0.0142, math.nan], "ours (quick)": [0.0348, 0.16, 0.13],
        "ours / study": [0.0348 / 0.008868, 0.16 / 0.0142, math.nan],
        STUDY_SCALE: [0.0083, 0.0133, math.nan],
        "at scale / study": [0.0083 / 0.008868, 0.0133 / 0.0142, math.nan],
        "study's claim holds": ["-", "ordering of test MSE: holds",
                                "learns to inpaint, better than mean fill: yes (mean fill 0.2)"]})


def _sweep() -> pd.DataFrame:
    rows = []
    for n, mse, half in ((1, 0.0372, 0.0011), (10, 0.2383, 0.06)):
        rows.append({"masks": n, "occluded": 0.098 * n, "kind": "network", "method": "CAE (baseline)",
                     "images": 2000, "seeds": 3, "mse ±95%": half, "mse": mse})
        rows.append({"masks": n, "occluded": 0.098 * n, "kind": "classical", "method": "biharmonic",
                     "images": 2000, "mse": mse / 2})
    return pd.DataFrame(rows)


class Conclusions(SimpleNamespace):
    """What `first_screen.collect` asks of `verdicts.Conclusions`, with hand-made numbers."""

    def __init__(self) -> None:
        super().__init__(profile=PROFILE, profile_description="reduced for a 2-core CPU",
                         params=SimpleNamespace(source_file="params/c1_conclusions.yaml",
                                                mask_sweep="a5_mask_sweep.yaml"))

    def paired_at_study_scale(self) -> pd.DataFrame:
        return _at_scale()

    def test_mse_seeds(self) -> pd.DataFrame:
        return pd.DataFrame({"notebook": ["a1_baseline", "a2_optimizers"],
                             "run": ["baseline", "SGD + Momentum"], "seeds": [3, 1],
                             "seed half-width": [0.0012, 0.002]})

    def mask_sweep(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return _sweep(), pd.DataFrame()

    def photo_network(self) -> tuple:
        rows = [{"shape": "squares", "setting": s, "width": w, "hole_width": w,
                 "best_classical": "biharmonic", "hole_psnr_margin": m, "hole_psnr_low": m - 0.1,
                 "hole_psnr_high": m + 0.1} for s, w, m in (("4 px", 4, 0.46), ("64 px", 64, 0.99))]
        return "shipped photo-network", rows, 563, "563 held-out pet photos", "full"

    def study_networks(self) -> dict[str, str]:
        return {"A": "Adam", "B": "ViT"}

    def orderings(self) -> list[dict]:
        seeds = {"Adam": 3, "SGD + Momentum": 1}
        return [{"section": "2.2 Optimizers", "notebook": "a2_optimizers",
                 "names": ["Adam", "SGD + Momentum"],
                 "here": stats.ordering(["Adam", "SGD + Momentum"], {"Adam": 0.0348, "SGD + Momentum": 0.16},
                                        seeds, 0.001, 2),
                 "at_scale": stats.ordering(["Adam", "SGD + Momentum"],
                                            {"Adam": 0.0083, "SGD + Momentum": 0.0133}, seeds, 0.0001, 2),
                 "trained": (2, 2)}]

    def scale_gap(self) -> dict:
        return {"epochs": (10, 200), "train": (10_000, 45_000)}

    def study_spread(self) -> tuple[float, int]:
        return 0.03, 4

    def part_a_done(self) -> tuple[int, int]:
        return 11, 11

    def part_b_at_scale(self) -> str:
        return "Part B, the ViT at 224 px, needs a GPU"

    def patch_sizes(self) -> tuple[int, int]:
        return 8, 16

    def test_sets(self) -> dict[str, str]:
        return {"A": "CIFAR-10", "B": "Oxford-IIIT Pet"}


def _record(tmp_path: Path, precision: str = "bf16 autocast") -> dict:
    """This run's findings, written as the conclusions notebook writes them, with one
    notebook's provenance naming the precision its runs trained in."""
    prov = tmp_path / "results" / PROFILE / "provenance"
    prov.mkdir(parents=True, exist_ok=True)
    (prov / "a1_baseline.json").write_text(json.dumps({
        "device": "cpu", "cpu": "a test CPU", "runs": {"cae-x": {"precision": precision, "threads": 2}}}))
    first_screen.record(PROFILE, first_screen.collect(Conclusions(), _paired(), _scorecard()))
    return json.loads(first_screen.findings_path(PROFILE).read_text())


def _publish(tmp_path: Path, data: dict) -> Path:
    """A published copy's findings, beside its (absent) page: the page's path."""
    page = tmp_path / "docs" / "report.html"
    page.parent.mkdir(exist_ok=True)
    first_screen.published_path(page).write_text(json.dumps(data))
    return page


def _doctored(data: dict) -> dict:
    """The fp32 host of the issue, by hand: the best combination's interval narrows so that its
    label moves (tied -> better, its mean unchanged: within noise); the ViT moves +20 points
    with intervals apart (beyond noise)."""
    out = json.loads(json.dumps(data))
    for r in out["paired"]:
        scale = r["classical mean"] / 100
        if r["network"] == "best combination" and r["part"] == "A":
            r["low"], r["high"] = -12 * scale, -8 * scale
        if r["network"] == "ViT":
            r["difference"], r["low"], r["high"] = 180 * scale, 175 * scale, 186 * scale
        r["verdict"] = "as another rule said"  # labels are read from the intervals by today's rule
    out["host"]["precision"] = ["fp32"]
    return out


def test_identical_findings_agree_in_full_and_the_command_exits_0(tmp_path, capsys) -> None:
    from inpaint_lib.__main__ import main

    data = _record(tmp_path)
    rows = first_screen.compare(data, data)
    assert rows and all(r.status == first_screen.AGREES for r in rows)
    keys = [r.finding.key for r in rows]
    # the first-screen findings are all there, each once per profile that made it
    for key in ("Part A: the study's CAE (baseline), test MSE",
                "Part A: trained networks against the best classical method",
                "Part A: best combination (a6_ablation) against biharmonic",
                "Part A: Adam (a2_optimizers) against biharmonic",
                "Part B: ViT (b8_evaluation) against biharmonic",
                "Mask sweep: the CAE's whole-image test MSE from the fewest to the most masks",
                "Part A: our test MSE / the study's, over its configurations"):
        assert key in keys, key
    assert len({(r.finding.key, r.finding.profile) for r in rows}) == len(rows)
    page = _publish(tmp_path, data)
    assert main(["compare-published", "--profile", PROFILE, "--published", str(page)]) == 0
    out = capsys.readouterr().out
    assert f"{len(rows)} of {len(rows)} findings agree; 0 moved within" in out
    block = first_screen.against_published(PROFILE, page)
    assert block.startswith("**Against the published copy**")
    assert f"{len(rows)} of {len(rows)} findings agree" in block and "did not reproduce" not in block
    assert block.count("bf16 autocast") == 2  # both hosts' precision


def test_a_doctored_copy_reports_one_move_within_noise_and_one_beyond(tmp_path, capsys) -> None:
    from inpaint_lib.__main__ import main

    published = _record(tmp_path)  # bf16, the published numbers
    ours = _doctored(published)  # fp32, two findings moved
    rows = {(r.finding.key, r.finding.profile): r for r in first_screen.compare(published, ours)}
    best = rows[("Part A: best combination (a6_ablation) against biharmonic", PROFILE)]
    assert (best.published.label, best.ours.label) == ("tie (within noise)", "better")
    assert best.status == first_screen.WITHIN_NOISE
    vit = rows[("Part B: ViT (b8_evaluation) against biharmonic", PROFILE)]
    assert vit.published.label == vit.ours.label == "worse"  # the same label, beyond noise
    assert vit.status == first_screen.NOT_REPRODUCED and "beyond the noise" in vit.why
    # the count moved with the best combination, within noise: it is not a second failure
    count = rows[("Part A: trained networks against the best classical method", PROFILE)]
    assert count.status == first_screen.WITHIN_NOISE
    assert (count.published.label, count.ours.label) == ("0 of 3 better, 2 worse, 1 tied or mixed",
                                                           "1 of 3 better, 2 worse, 0 tied or mixed")
    # the runs at the study's scale are the same committed ones: they agree
    assert rows[("Part A: best combination (a6_ablation) against biharmonic", "full")].status == first_screen.AGREES
    assert [r.status for r in rows.values()].count(first_screen.NOT_REPRODUCED) == 1
    page = _publish(tmp_path, published)
    first_screen.findings_path(PROFILE).write_text(json.dumps(ours))
    assert main(["compare-published", "--profile", PROFILE, "--published", str(page)]) == 1
    out = capsys.readouterr().out
    assert "published copy: bf16 autocast" in out and "this run:       fp32" in out
    line = next(x for x in out.splitlines() if x.startswith("Part B: ViT"))
    assert "+160% [+155%, +165%]" in line and "+180% [+175%, +186%]" in line and "did not reproduce" in line
    assert re.search(r"Part A: best combination \(a6_ablation\).*moved within seed and precision noise", out)
    block = first_screen.against_published(PROFILE, page)
    assert "**15 of 18 findings agree** in label and within noise" in block
    assert ("*Moved within seed and precision noise* (published → this run): Part A: trained networks "
            "against the best classical method (`quick`): 0 of 3 better, 2 worse, 1 tied or mixed → "
            "1 of 3 better") in block
    assert ("Part A: best combination (a6_ablation) against biharmonic (`quick`): -10% [-22%, +2%], "
            "3 seeds, tie (within noise) → -10% [-12%, -8%], 3 seeds, better") in block
    assert ("***Did not reproduce***: Part B: ViT (b8_evaluation) against biharmonic (`quick`): "
            "+160% [+155%, +165%], 1 seed, worse → +180% [+175%, +186%], 1 seed, worse") in block
    assert "a difference of +20% beyond the noise of the two, ±7.07%" in block
    assert "Look at [its section](#notebook-b8-evaluation)" in block
    assert "bf16 autocast" in block and "fp32" in block


def test_a_record_without_seed_noise_compares_its_labels(tmp_path) -> None:
    """The smoke profile's record: no section has two seeds, so no test MSE has a half-width
    (null in the file); its findings still read back, and a number without an interval is
    judged by its label alone."""
    data = _record(tmp_path)
    for r in data["scorecard"]:
        r["seed half-width"] = None
    for r in data["sweep"]["rows"]:
        r["mse ±95%"] = None
    rows = first_screen.compare(data, data)
    assert all(r.status == first_screen.AGREES for r in rows)
    moved = json.loads(json.dumps(data))
    moved["sweep"]["rows"][2]["mse"] = 0.01  # the sweep no longer grows: its label moves
    sweep = next(r for r in first_screen.compare(data, moved) if r.finding.key.startswith("Mask sweep"))
    assert sweep.status == first_screen.NOT_REPRODUCED and "no interval" in sweep.why


def test_a_missing_side_exits_2_with_one_line_and_the_block_says_so(tmp_path, capsys) -> None:
    from inpaint_lib.__main__ import main

    page = tmp_path / "docs" / "report.html"
    assert main(["compare-published", "--profile", PROFILE, "--published", str(page)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the published copy: no findings at" in err
    data = _record(tmp_path)
    _publish(tmp_path, data)
    first_screen.findings_path(PROFILE).unlink()
    assert main(["compare-published", "--profile", PROFILE, "--published", str(page)]) == 2
    assert "this run" in capsys.readouterr().err
    # a profile without a published copy: one line
    first_screen.published_path(page).write_text(json.dumps({**data, "profile": "smoke"}))
    block = first_screen.against_published(PROFILE, page)
    assert block.count("\n") == 0 and "nothing to compare" in block and "`smoke` profile" in block


def test_the_first_screen_is_rendered_from_the_record_alone(tmp_path) -> None:
    """Issue 35's first screen, from the data the published copy carries: Part A at the study's
    scale first and the quick profile second, each tagged; the best combination spelled out
    once; † explained; what each verdict counts; the sweep tagged with its profile and seeds;
    the command. A number changed in the record changes the page."""
    data = _record(tmp_path)
    text = re.sub(r"<abbr title=\"[^\"]*\">([^<]*)</abbr>", r"\1", first_screen.render(data, "BLOCK"))
    lede, rest = text.split("BLOCK")
    assert "† marks one seed, whose interval borrows" in lede and "*at the study's scale* (`full`" in lede
    part_a = next(b for b in rest.splitlines() if b.startswith("- **Part A"))
    scale, quick = part_a.index("at the study's scale (`full`"), part_a.index("In the `quick` profile")
    assert scale < quick
    assert part_a.count("best combination (the study's CAE told where the hole is") == 1
    assert "(2 networks from 4 runs: 3 seeds of the study's own CAE, 1 of the other)" in part_a
    assert "(3 networks from 7 runs: 3 seeds of the study's own CAE and the best combination, 1 of the other)" in part_a
    assert "10,000 test images of CIFAR-10" in part_a
    sweep = next(b for b in rest.splitlines() if b.startswith("- **Mask sweep"))
    assert "(`quick`, the study's CAE, mean of 3 seeds" in sweep and "0.2383 ± 0.06 with 10" in sweep
    assert "python -m inpaint_lib inpaint photo.jpg" in rest and "`full` photo profile" in rest
    assert "### Terms" in rest and "<img src=\"data:image/png;base64," in rest
    changed = json.loads(json.dumps(data))
    changed["sweep"]["rows"][2]["mse"] = 0.3
    assert "0.3 ± 0.06 with 10" in first_screen.render(changed)


def test_a_stored_verdict_is_read_again_by_todays_rule() -> None:
    """A record of another commit is judged by the same rule as this run's: the verdict is
    the interval's (`stats.paired_verdict`), whatever the record says."""
    paired = _paired().assign(verdict="better")
    again = first_screen.relabelled(paired)
    assert list(again.verdict) == [stats.paired_verdict(r.low, r.high, True) for r in paired.itertuples()]


def test_two_estimates_differ_by_the_rule_of_the_orderings() -> None:
    """`stats.noise_of_difference` is the orderings' threshold: two seed means' half-widths in
    quadrature; no noise known (NaN) is never beyond."""
    sd, df = 0.002, 4
    h1, h3 = stats.seed_half_width(1, sd, df), stats.seed_half_width(3, sd, df)
    assert stats.difference_threshold(1, 3, sd, df) == pytest.approx(stats.noise_of_difference(h1, h3))
    assert stats.difference_threshold(1, 3, sd, df) == pytest.approx(
        2.776445 * sd * math.sqrt(1 + 1 / 3), rel=1e-5)
    assert stats.beyond_noise(0.01, 0.005) and not stats.beyond_noise(0.004, 0.005)
    assert not stats.beyond_noise(1.0, math.nan)
    a = first_screen.Estimate("x", 160, 155, 165)
    b = first_screen.Estimate("x", 180, 175, 186)
    assert first_screen.judge(first_screen.Finding("k", "quick", "worse", "", (a,)),
                              first_screen.Finding("k", "quick", "worse", "", (b,)))[0] == first_screen.NOT_REPRODUCED
    c = first_screen.Estimate("x", 166, 160, 172)
    assert first_screen.judge(first_screen.Finding("k", "quick", "worse", "", (a,)),
                              first_screen.Finding("k", "quick", "worse", "", (c,)))[0] == first_screen.AGREES


def test_publish_puts_the_published_copys_line_in_place_of_the_block(tmp_path) -> None:
    from inpaint_lib.report.publish import PublishError, as_published

    data = _record(tmp_path)
    page = ("<main><p><strong>Against the published copy</strong> (<code>docs/report.html</code>): "
            "3 of 3 findings agree.</p><p>next</p></main>")
    out = as_published(page, data, "report.findings.json")
    assert "Against the published copy" not in out and "<p>next</p>" in out
    assert "This is the published copy</strong> (bf16 autocast, 2 threads" in out
    assert "<code>report.findings.json</code>" in out and "compare-published --profile quick" in out
    with pytest.raises(PublishError, match="no block on the published copy"):
        as_published("<main></main>", data, "report.findings.json")
    assert first_screen.published_path(Path("docs/report.html")) == Path("docs/report.findings.json")
