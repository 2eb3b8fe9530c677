"""Issue 19: free-form strokes, native-resolution crops, the crossover table and its rule,
the tool's --strokes and the photo network at the image's own resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from inpaint_lib import crossover
from inpaint_lib.__main__ import main
from inpaint_lib.io import atomic_torch_save, atomic_write_json
from inpaint_lib.masks import (
    fixed_masks,
    hole_width,
    make_generator,
    occluded_fraction,
    random_masks,
)
from inpaint_lib.methods import Method, at_native_resolution
from inpaint_lib.models import build_model
from inpaint_lib.schema import CAEConfig, DataConfig, MaskConfig, RunConfig
from inpaint_lib.stats import paired_bootstrap
from inpaint_lib.tool import command as tool

from .conftest import make_tree

STROKES = MaskConfig(shape="strokes", size=9, count=4)


def test_strokes_are_seeded_thin_to_thick_and_sized_by_width() -> None:
    a = fixed_masks(16, 96, 128, STROKES, seed=3)
    assert a.shape == (16, 1, 96, 128) and a.dtype == torch.bool
    assert torch.equal(a, fixed_masks(16, 96, 128, STROKES, seed=3))
    assert not torch.equal(a, fixed_masks(16, 96, 128, STROKES, seed=4))
    covered = [occluded_fraction(fixed_masks(32, 128, 128, MaskConfig(shape="strokes", size=w,
                                                                      count=4), 0)).mean().item()
               for w in (3, 9, 17)]
    assert 0 < covered[0] < covered[1] < covered[2] < 0.6  # thicker brush, more missing
    # hole width (largest inscribed disc) grows with the brush: at least the brush's width,
    # more where a stroke turns or crosses itself; squares measure their side
    widths = [hole_width(fixed_masks(32, 128, 128, MaskConfig(shape="strokes", size=w, count=1),
                                     0)).median().item() for w in (3, 9, 17)]
    assert 3 <= widths[0] < 9 <= widths[1] < 17 <= widths[2] < 34
    side = fixed_masks(4, 64, 64, MaskConfig(size=16, count=1), 0)
    assert torch.equal(hole_width(side), torch.full((4,), 16.0))


def test_a_mixture_gives_each_image_one_of_its_settings() -> None:
    mix = MaskConfig(mix=[MaskConfig(size=32, count=1), MaskConfig(shape="strokes", size=3, count=2)])
    masks = random_masks(64, 64, 64, mix, make_generator(0))
    area = masks.sum(dim=(1, 2, 3))
    squares = area == 32 * 32
    assert 10 < int(squares.sum()) < 54  # both settings drawn
    assert bool((area[~squares] < 32 * 32).all())
    assert "strokes 3 px wide" in mix.label


def test_square_mask_cache_keys_are_unchanged() -> None:
    """The fields added for strokes stay out of square masks' evaluation cache keys."""
    assert MaskConfig(size=10, count=1).cache_dump() == {
        "size": 10, "count": 1, "draw": "per_image", "disjoint": False, "nested_of": None}
    assert "shape" in STROKES.cache_dump()


def test_native_crops_keep_pixels_unresized(isolated_dirs: Path) -> None:
    from inpaint_lib.data import load

    root = make_tree(isolated_dirs / "data" / "oxford-pet", {"a": (3, 2)}, size=40)
    cfg = DataConfig(dataset="oxford_pet", crop=24, train_crops=2, val_size=0)
    splits = load(cfg)
    assert splits.train.shape == (6, 3, 24, 24) and splits.test.shape == (2, 3, 24, 24)
    first = np.asarray(Image.open(min((root / "test" / "a").iterdir())))
    assert np.array_equal(splits.test[0].permute(1, 2, 0).numpy(), first[8:32, 8:32])  # centre
    with pytest.raises(ValueError, match="crop"):
        DataConfig(dataset="oxford_pet", crop=24, image_size=32)


def test_paired_bootstrap_interval() -> None:
    rng = np.random.default_rng(0)
    mean, low, high = paired_bootstrap(rng.normal(1.0, 0.5, 200))
    assert low < mean < high and low > 0.8 and high < 1.2
    _, low0, high0 = paired_bootstrap(rng.normal(0.0, 1.0, 200))
    assert low0 < 0 < high0


def _table() -> pd.DataFrame:
    rows = []
    for shape, setting, width, margin in [("squares", "4 px", 4, -0.05), ("squares", "16 px", 16, 1.5),
                                          ("squares", "64 px", 64, 0.9), ("strokes", "thin", 6, -0.3),
                                          ("strokes", "thick", 25, 0.4)]:
        for name, kind, psnr in [("biharmonic", "classical", 30.0), ("net", "network", 30 + margin)]:
            row = {"shape": shape, "setting": setting, "width": width, "hole_width": width,
                   "method": name, "kind": kind, "images": 100,
                   "best_classical": "biharmonic", "hole_psnr": psnr, "hole_mae": 0.1, "ssim": 0.9}
            if kind == "network":
                for m in crossover.MARGIN_METRICS:
                    for tag in ("", "_vs_biharmonic"):
                        d = margin if m == "hole_psnr" else 0.0
                        row |= {f"{m}_margin{tag}": d, f"{m}_low{tag}": d - 0.2, f"{m}_high{tag}": d + 0.2}
            rows.append(row)
    return pd.DataFrame(rows)


def test_targets_are_met_or_missed_on_their_interval() -> None:
    met = {t["target"].split(":")[0]: t["met"] for t in crossover.targets(_table())}
    # 64 px: +0.9 dB misses +1 dB; 16 px: interval [1.3, 1.7] above zero; thick: [0.2, 0.6];
    # 4 px: -0.05 [-0.25, +0.15] has part of its interval below -0.2: missed; thin strokes:
    # -0.3 < -0.2 (settings the table lacks are left out)
    assert met == {"squares 64 px": False, "squares 16 px": True, "strokes thick": True,
                   "squares 4 px": False, "strokes thin": False}
    # a gain whose point estimate meets +1 dB but whose interval does not: missed (the shipped
    # card's 96 px box, +1.05 [+0.88, +1.23]); the card's rows give the same as the table
    rows = crossover.margins(_table()).to_dict(orient="records")
    box = {**rows[0], "shape": "one box", "setting": "96 px", "hole_psnr_margin": 1.05,
           "hole_psnr_low": 0.88, "hole_psnr_high": 1.23}
    out = {t["target"].split(":")[0]: t["met"] for t in crossover.targets([*rows, box])}
    assert out["one box 96 px"] is False and {k: v for k, v in out.items() if k != "one box 96 px"} == met
    settled = crossover.targets([*rows, {**box, "hole_psnr_low": 1.01}])
    assert next(t["met"] for t in settled if t["target"].startswith("one box 96 px")) is True


def test_the_per_hole_default_fills_each_hole_by_its_width_and_kind() -> None:
    doc = {"network_run": "cae-x", "rows": crossover.margins(_table()).to_dict(orient="records")}
    mask = torch.zeros(96, 96, dtype=torch.bool)
    mask[4:8, 4:8] = True  # a 4 px square: the network's interval spans 0 there -> biharmonic
    mask[30:46, 30:46] = True  # a 16 px square: won -> the network
    mask[80:83, 5:90] = True  # a 3 px stroke, 85 px long: thin strokes lost -> biharmonic
    mask[60:75, 50:65] = True  # a 15 px square, near 16 -> the network
    plan = crossover.plan_holes(doc, mask)
    by_width = sorted((h["width"], h["stroke"], h["method"]) for h in plan.holes)
    assert by_width == [(4.0, False, "biharmonic"), (4.0, True, "biharmonic"),
                        (16.0, False, "net"), (16.0, False, "net")]
    assert plan.mask_for("net").sum() == 16 * 16 + 15 * 15
    assert (plan.mask_for("net") | plan.mask_for("biharmonic")).equal(mask)
    why = plan.explain("net")
    assert why.startswith("2 holes 4 px wide by biharmonic") and "2 holes 16 px wide by net" in why
    # thick strokes: the rule asks for the interval above zero, not for the +1 dB target
    wide = torch.zeros(96, 96, dtype=torch.bool)
    wide[40:64, 2:94] = True  # a 24 px wide, 92 px long stroke-like hole: thick strokes, won
    assert crossover.plan_holes(doc, wide).holes[0]["method"] == "net"
    doc["rows"][4]["hole_psnr_low"] = -0.1
    assert crossover.plan_holes(doc, wide).holes[0]["method"] == "biharmonic"


def test_native_resolution_pads_to_a_multiple_of_8_and_resizes_nothing() -> None:
    seen = {}

    def predict(masked: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        seen["shape"], seen["holes"] = masked.shape, int(masks.sum())
        return masked.flip(-1)

    wrapped = at_native_resolution(Method("flip", predict, "flip"))
    image = torch.arange(3 * 21 * 30, dtype=torch.float32).view(1, 3, 21, 30) / 3000
    mask = torch.zeros(1, 1, 21, 30, dtype=torch.bool)
    mask[..., 5:9, 5:9] = True
    out = wrapped.predict(image, mask)
    assert seen == {"shape": (1, 3, 24, 32), "holes": 16}  # padding is known, never a hole
    assert out.shape == (1, 3, 21, 30)


def test_tool_strokes_and_the_photo_network_at_full_resolution(
        tmp_path: Path, isolated_dirs: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from inpaint_lib import shipped

    monkeypatch.setattr(shipped, "SHIPPED_DIR", tmp_path / "nothing-shipped")
    results = isolated_dirs / "results"
    model_cfg = CAEConfig(latent_channels=8, mask_channel=True, fill="line", residual=True,
                          composite=True, skips="add")
    cfg = RunConfig(data=DataConfig(dataset="synthetic", crop=32), model=model_cfg, epochs=1)
    run_dir = results / "quick" / "runs" / "cae-photo"
    atomic_write_json(run_dir / "config.json", {"config": cfg.model_dump(mode="json"),
                                                "image_size": 32, "dataset": "fake pets"})
    atomic_torch_save({"model": build_model(model_cfg, 32).state_dict()}, run_dir / "final.pt")
    atomic_write_json(results / "quick" / "provenance" / "d1_crossover.json",
                      {"runs": {"cae-photo": {"name": "photo", "seed": 0}}})
    arr = (np.random.default_rng(0).random((50, 77, 3)) * 255).astype(np.uint8)
    Image.fromarray(arr).save(tmp_path / "in.png")
    outs = []
    for seed in (1, 1, 2):
        out = tmp_path / f"o{len(outs)}.png"
        assert main(["inpaint", str(tmp_path / "in.png"), "--strokes", "3:5", "--seed", str(seed),
                     "--method", "cae-photo", "--out", str(out)]) == 0
        outs.append(np.asarray(Image.open(out)))
    assert outs[0].shape == arr.shape
    assert np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[0], outs[2])
    hole = (outs[0] != arr).any(axis=2)
    assert 0 < hole.mean() < 0.5
    # the default: from the crossover table, per hole
    table = _table()
    table.loc[table.kind == "network", "method"] = "photo network"
    crossover.save_crossover("quick", table, "cae-photo")
    text = tool.list_methods("quick")
    assert "default: per hole:" in text and "squares 16 px (holes 16 px wide): cae-photo" in text
    assert "photo network: cae-photo, trained by this checkout's report" in text
    assert main(["inpaint", str(tmp_path / "in.png"), "--squares", "1:16", "--out",
                 str(tmp_path / "d.png")]) == 0
    out = capsys.readouterr()
    assert "default per hole" in out.out
    assert "in.png: 1 hole 16 px wide by cae-photo" in out.err


def test_crossover_photos_are_spread_over_the_test_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test tree is ordered by breed: the section scores photos spread over all of it."""
    from inpaint_lib.section import open_section

    monkeypatch.setenv("INPAINT_OVERRIDES", "photo: {evaluation: {crossover_images: 3}}")
    study = open_section("params/d1_crossover.yaml", "smoke")
    images, data_id = crossover.test_images(study)
    test = study.splits.test
    assert len(test) == 8 and torch.equal(images, test[[0, 4, 7]])
    assert data_id != study.splits.fingerprint  # its own evaluation cache entries


def test_copies_of_the_holes_land_on_known_pixels_away_from_every_hole() -> None:
    doc = {"network_run": "cae-x", "rows": crossover.margins(_table()).to_dict(orient="records")}
    mask = torch.zeros(160, 200, dtype=torch.bool)
    mask[20:36, 20:36] = True  # a 16 px square
    mask[100:103, 10:150] = True  # a thin stroke
    mask[60:64, 150:154] = True  # a 4 px square
    plan = crossover.plan_holes(doc, mask)
    decoys = crossover.place_decoys(plan, seed=1)
    assert decoys.max() > 0
    near = torch.nn.functional.max_pool2d(mask.float()[None, None], 2 * crossover.DECOY_MARGIN + 1,
                                          stride=1, padding=crossover.DECOY_MARGIN)[0, 0] > 0
    assert not bool((near & (decoys > 0)).any())  # never on or next to a hole
    for i in decoys.unique()[1:].tolist():  # each copy is its hole moved, pixel for pixel
        assert int((decoys == i).sum()) == int((plan.labels == i).sum())
    assert torch.equal(crossover.place_decoys(plan, seed=1), decoys)  # seeded


def _fill_copies_at(image: torch.Tensor, decoys: torch.Tensor, psnr: dict[int, float]) -> torch.Tensor:
    """A fill whose hole PSNR on copy i (of a flat grey image) is psnr[i] dB, to 0.1 dB."""
    out = image.clone()
    for i, value in psnr.items():
        out[:, decoys == i] = 128 + round(255 * 10 ** (-value / 20))
    return out


def _plan(doc: dict, squares: int) -> tuple[crossover.HolePlan, torch.Tensor, torch.Tensor]:
    """`squares` 16 px squares far apart on a flat 320x320 photo, and their copies."""
    mask = torch.zeros(320, 320, dtype=torch.bool)
    for k in range(squares):
        mask[20 + 100 * k:36 + 100 * k, 20 + 100 * k:36 + 100 * k] = True
    plan = crossover.plan_holes(doc, mask)
    return plan, crossover.place_decoys(plan, seed=0), torch.full((3, 320, 320), 128, dtype=torch.uint8)


def _decide(plan: crossover.HolePlan, decoys: torch.Tensor, image: torch.Tensor,
            net: dict[int, float], classical: dict[int, float], images: int = 100) -> dict:
    fills = {"net": _fill_copies_at(image, decoys, net),
             "biharmonic": _fill_copies_at(image, decoys, classical)}
    checked = crossover.check_on_photo(plan, decoys, image, fills, "net", images)
    assert len({h["method"] for h in checked.holes}) == 1  # one group, one decision
    return checked.holes[0]


def test_one_decision_rule_with_and_without_copies() -> None:
    """`weigh`: without copies, the table's own interval decides; a tie stays classical; one
    copy counts as one hole with the photo-to-photo spread, not as much as the table."""
    strong = {"margin": 1.02, "low": 0.92, "high": 1.12, "se": 0.1 / 1.96, "images": 563}
    assert crossover.weigh(strong)["network"] and crossover.weigh(strong)["low"] == 0.92
    tied = {"margin": 0.1, "low": -0.1, "high": 0.3, "se": 0.2 / 1.96, "images": 563}
    assert not crossover.weigh(tied)["network"]
    floor = crossover.photo_spread(strong["se"], 563)  # about 1.2 dB from photo to photo
    assert 1.1 < floor < 1.3
    one = crossover.weigh(strong, [-5.0], floor)
    assert one["network"] and one["estimate"] > 1.0  # one hole does not outweigh 563 photos
    # three copies that agree exactly at -0.1 dB: their spread is floored, not zero
    three = crossover.weigh(strong, [-0.1, -0.1, -0.1], floor)
    assert three["network"] and three["copy_spread"] == floor
    # a tie with copies mildly for the network is still a tie: the classical method keeps it
    assert not crossover.weigh(tied, [0.5, 0.8, 0.3], crossover.photo_spread(tied["se"], 563))["network"]
    # a skewed bootstrap interval (the mean near its low end, as a few photos with large gains
    # give): without copies its own interval decides, and copies that agree with the table (at
    # its margin) narrow it and keep the network; read around the margin instead of the
    # interval, one agreeing copy would turn the table's win into a tie
    skewed = {"margin": 0.1, "low": 0.02, "high": 0.6, "se": 0.58 / (2 * crossover.Z95), "images": 40}
    alone = crossover.weigh(skewed)
    assert alone["network"] and alone["low"] == pytest.approx(0.02) and alone["high"] == pytest.approx(0.6)
    spread = crossover.photo_spread(skewed["se"], 40)
    for k in (1, 2, 5):
        agreeing = crossover.weigh(skewed, [skewed["margin"]] * k, spread)
        assert agreeing["network"], k
        assert agreeing["high"] - agreeing["low"] < alone["high"] - alone["low"]


def test_the_photo_decides_only_as_strongly_as_its_copies_allow() -> None:
    rows = crossover.margins(_table()).to_dict(orient="records")
    doc = {"network_run": "cae-x", "rows": rows}
    # one copy disagreeing (-5 dB) with a strong table (16 px: +1.5 dB [1.3, 1.7] over 100
    # photos): the network keeps the hole, and the line says why
    plan, decoys, image = _plan(doc, 1)
    assert plan.holes[0]["method"] == "net" and int(decoys.max()) == 1
    hole = _decide(plan, decoys, image, {1: 25.0}, {1: 30.0})
    assert hole["method"] == "net" and hole["decision"]["copies"] == 1
    assert hole["decision"]["copy_margin"] == pytest.approx(-5.0, abs=0.2)
    why = crossover.HolePlan(plan.labels, [hole]).explain("net")
    assert f"on this photo {hole['decision']['copy_margin']:+.2f} dB over 1 copy" in why
    assert "on held-out pets +1.50 dB [+1.30, +1.70]" in why
    # three noisy copies that agree (-3, -4, -5 dB) against a weak table (+0.6 dB [0.05, 1.15]
    # over 4 photos): they overturn it
    weak = [dict(r, hole_psnr_margin=0.6, hole_psnr_low=0.05, hole_psnr_high=1.15)
            if r["setting"] == "16 px" else r for r in rows]
    plan, decoys, image = _plan({"network_run": "cae-x", "rows": weak}, 3)
    assert [h["method"] for h in plan.holes] == ["net"] * 3 and int((decoys > 0).sum()) == 3 * 256
    hole = _decide(plan, decoys, image, {1: 27.0, 2: 26.0, 3: 25.0}, {1: 30.0, 2: 30.0, 3: 30.0},
                   images=4)
    assert hole["method"] == "biharmonic" and hole["decision"]["copies"] == 3
    assert hole["decision"]["copy_spread"] == pytest.approx(1.0, abs=0.1)  # their own spread
    # the same three copies against the strong table over 100 photos: the table holds
    plan, decoys, image = _plan(doc, 3)
    assert _decide(plan, decoys, image, {1: 27.0, 2: 26.0, 3: 25.0},
                   {1: 30.0, 2: 30.0, 3: 30.0})["method"] == "net"
    # a tied table (4 px squares: -0.05 dB [-0.25, +0.15]): classical without copies, and
    # still classical with copies mildly for the network
    small = torch.zeros(200, 200, dtype=torch.bool)
    small[20:24, 20:24] = True
    plan = crossover.plan_holes(doc, small)
    assert plan.holes[0]["method"] == "biharmonic"
    decoys = crossover.place_decoys(plan, seed=0)
    image = torch.full((3, 200, 200), 128, dtype=torch.uint8)
    assert _decide(plan, decoys, image, {1: 31.0}, {1: 30.0})["method"] == "biharmonic"
    # no copy fits (a hole as wide as the photo): the table decides
    wide = torch.zeros(40, 40, dtype=torch.bool)
    wide[4:36, 4:36] = True
    assert not bool((crossover.place_decoys(crossover.plan_holes(doc, wide)) > 0).any())


def test_the_check_picks_the_best_classical_method_on_the_photo() -> None:
    """The copies choose among the classical methods the default runs; the network is then
    weighed against that one, with the table's margin over the same method (`vs_classical`)."""
    rows = crossover.margins(_table()).to_dict(orient="records")
    for r in rows:
        r["vs_classical"] = {"biharmonic": {"margin": r["hole_psnr_margin"], "low": r["hole_psnr_low"],
                                            "high": r["hole_psnr_high"], "images": 100},
                             "OpenCV Telea": {"margin": 0.1, "low": -0.1, "high": 0.3, "images": 100}}
    plan, decoys, image = _plan({"network_run": "cae-x", "rows": rows}, 1)
    fills = {"net": _fill_copies_at(image, decoys, {1: 29.0}),
             "biharmonic": _fill_copies_at(image, decoys, {1: 25.0}),
             "OpenCV Telea": _fill_copies_at(image, decoys, {1: 30.0})}
    hole = crossover.check_on_photo(plan, decoys, image, fills, "net", 100).holes[0]
    # Telea is best on this photo; the table says the network ties with it: Telea fills
    assert hole["classical"] == "OpenCV Telea" and hole["tried"] == 2
    assert hole["method"] == "OpenCV Telea"
    # the table's classical method among those allowed: the one the network leads least
    assert crossover.table_classical(rows[1], ["OpenCV Telea", "biharmonic"]) == "biharmonic"
    assert crossover.table_classical(rows[1], ["OpenCV Telea", "mean fill"]) == "OpenCV Telea"


def test_a_section_names_the_classical_methods_it_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """`evaluation.classical_images`: 0 leaves a method out of the section, a number limits it
    to that many images, an unknown name is a one-line error before any data is read."""
    from inpaint_lib.resolve import ParamsError
    from inpaint_lib.section import open_section

    monkeypatch.setenv("INPAINT_OVERRIDES",
                       "photo: {evaluation: {classical_images: {FSR best: 0, PatchMatch: 3}}}")
    study = open_section("params/d1_crossover.yaml", "smoke")
    names = [m.name for m in study.classical()]
    assert "FSR best" not in names and "PatchMatch" in names and "biharmonic" in names
    limits = {m.name: study.classical_images(m) for m in study.classical()}
    assert limits["PatchMatch"] == 3 and limits["biharmonic"] is None
    monkeypatch.setenv("INPAINT_OVERRIDES", "photo: {evaluation: {classical_images: {FSR: 3}}}")
    with pytest.raises(ParamsError, match="evaluation.classical_images: no classical method FSR"):
        open_section("params/d1_crossover.yaml", "smoke")
