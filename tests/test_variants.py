"""The variants beyond the study: parameter counts, the mask channel, the known pixels kept,
residuals that start at the fill, the batched fills, resume bit-identical, weighted one-run
schedules, and one-line errors for impossible options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from skimage.restoration import inpaint_biharmonic

from inpaint_lib import runs
from inpaint_lib.data import Splits, synthetic_images
from inpaint_lib.masks import fixed_masks
from inpaint_lib.models import InpaintingCAE, InpaintingViT, build_model, count_parameters
from inpaint_lib.models.fill import biharmonic_fill, line_fill, relaxed_line_fill
from inpaint_lib.resolve import ParamsError, load_params
from inpaint_lib.schema import CAEConfig, DataConfig, MaskConfig, RunConfig, ViTConfig

from .conftest import REPO

DEVICE = torch.device("cpu")
BEST_CAE = {"mask_channel": True, "fill": "line", "residual": True, "composite": True, "skips": "concat"}
SMALL_VIT = {"patch_size": 8, "dim": 32, "depth": 1, "heads": 2, "mlp_dim": 32}


def _holes(n: int = 4, size: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(images in [0, 1], holes bool): synthetic images with 3 squares of 6 px missing each."""
    images = synthetic_images(n, size, seed).float() / 255
    holes = fixed_masks(n, size, size, MaskConfig(size=6, count=3), seed)
    return images, holes


@pytest.mark.parametrize("options, parameters", [
    ({}, 186_371),  # the study's CAE
    ({"mask_channel": True}, 186_371 + 32 * 9),  # one more input channel in the first conv
    ({"skips": "concat"}, 278_627),  # 3x3 merges at 8 and 16 px
    (BEST_CAE, 278_915),  # the ablation's best: at most 2x the study's 186,371
    # a 16-channel stem at full resolution: 3x3 conv in (3 -> 16), the first stride-2 layer
    # from 16 channels, the last upsampling to 16 then a 3x3 head to 3 channels, added to the stem
    ({"stem": 16, "skips": "add"}, 186_371 + (3 * 9 * 16 + 16) + (16 - 3) * 9 * 32
     + (32 * 9 * 16 + 16) - (32 * 9 * 3 + 3) + (16 * 9 * 3 + 3)),
])
def test_cae_variants_parameter_counts(options: dict, parameters: int) -> None:
    model = build_model(CAEConfig(**options), 32)
    assert count_parameters(model) == parameters <= 2 * 186_371
    assert isinstance(model, InpaintingCAE) == bool(options)


def test_the_mask_channel_is_what_tells_the_network_where_the_hole_is() -> None:
    """Two inputs with the same pixels but different holes differ only through the mask."""
    torch.manual_seed(0)
    model = build_model(CAEConfig(mask_channel=True), 32).eval()
    masked = torch.zeros(1, 3, 32, 32) - 1  # an all-black image: the pixels cannot tell the holes
    a, b = torch.zeros(1, 1, 32, 32, dtype=torch.bool), torch.zeros(1, 1, 32, 32, dtype=torch.bool)
    a[..., :8, :8], b[..., 20:, 20:] = True, True
    assert not torch.equal(model(masked, a), model(masked, b))
    blind = build_model(CAEConfig(skips="add"), 32).eval()  # no mask channel
    assert torch.equal(blind(masked, a), blind(masked, b))


@pytest.mark.parametrize("cfg", [CAEConfig(**BEST_CAE), ViTConfig(**SMALL_VIT, composite=True, fill="biharmonic",
                                                                    residual=True, head="conv", refiner=8)])
def test_composite_models_return_the_known_pixels_exactly(cfg: CAEConfig | ViTConfig) -> None:
    images, holes = _holes()
    signed = isinstance(cfg, CAEConfig)
    x = images * 2 - 1 if signed else images
    masked = torch.where(holes, -1.0 if signed else 0.0, x)
    out = build_model(cfg, 32)(masked, holes)
    assert torch.equal(out.detach()[~holes.expand_as(out)], x[~holes.expand_as(x)])


def test_a_residual_vit_starts_exactly_at_its_fill() -> None:
    images, holes = _holes()
    masked = torch.where(holes, 0.0, images)
    model = build_model(ViTConfig(**SMALL_VIT, fill="biharmonic", residual=True), 32).eval()
    assert torch.allclose(model(masked, holes), biharmonic_fill(masked, holes).clamp(0, 1), atol=1e-6)


def test_vit_variants_shapes_and_options() -> None:
    images, holes = _holes()
    for options in ({"finer": 2}, {"overlap": True}, {"head": "conv"}, {"refiner": 8}, {"mask_channel": True}):
        model = build_model(ViTConfig(**SMALL_VIT, **options), 32)
        assert isinstance(model, InpaintingViT)
        out = model(torch.where(holes, 0.0, images), holes)
        assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    assert build_model(ViTConfig(**SMALL_VIT, finer=2), 32).grid == 8  # 4 px tokens
    assert build_model(ViTConfig(**SMALL_VIT, overlap=True), 32).grid == 8  # every 4 px


def test_batched_fills_keep_known_pixels_and_match_scikit_image() -> None:
    images, holes = _holes(n=3)
    masked = torch.where(holes, 0.0, images)
    for fill in (line_fill, biharmonic_fill, relaxed_line_fill):
        out = fill(masked, holes)
        assert torch.equal(out[~holes.expand_as(out)], images[~holes.expand_as(images)])
    ours = biharmonic_fill(masked, holes)
    hole = holes[0, 0].numpy()
    theirs = inpaint_biharmonic(masked[0].permute(1, 2, 0).double().numpy(), hole, channel_axis=-1)
    err = np.abs(ours[0].permute(1, 2, 0).numpy() - theirs)[hole]
    assert err.mean() < 0.01  # the same smoothest fill, by conjugate gradients


def test_the_relaxed_line_fill_is_biharmonic_on_small_holes_and_near_the_line_fill_on_wide_ones() -> None:
    images = synthetic_images(4, 64, seed=3).float() / 255
    small = fixed_masks(4, 64, 64, MaskConfig(size=3, count=6), 0)
    wide = fixed_masks(4, 64, 64, MaskConfig(size=40, count=1), 0)
    for holes, near, far in ((small, biharmonic_fill, line_fill), (wide, line_fill, biharmonic_fill)):
        masked = torch.where(holes, 0.0, images)
        relaxed = relaxed_line_fill(masked, holes)
        gap = {f: (relaxed - f(masked, holes)).abs()[holes.expand_as(relaxed)].mean()
               for f in (near, far)}
        assert gap[near] < gap[far]
    masked = torch.where(small, 0.0, images)
    assert (relaxed_line_fill(masked, small) - biharmonic_fill(masked, small)).abs().max() < 0.02


def _splits() -> Splits:
    imgs = synthetic_images(80, 32, seed=0)
    return Splits(imgs[:48], imgs[48:64], imgs[64:], "synthetic", "generated", "fp-variants")


@pytest.mark.parametrize("overrides", [
    {"model": {"arch": "cae", **BEST_CAE}, "loss": {"mse": 1, "mae": 0.5}},
    {"model": {"arch": "vit", **SMALL_VIT, "fill": "biharmonic", "residual": True, "composite": True,
               "head": "conv", "refiner": 8, "mask_channel": True},
     "loss": {"mae": 1, "perceptual": 1, "weighting": "gradnorm", "perceptual_weights": "random",
              "region": "hole"},
     "cosine": {"warmup": 0.2}, "mask_schedule": {2: {"size": 4, "count": 3}}},
    {"model": {"arch": "vit", **SMALL_VIT}, "loss": {"mae": 1, "perceptual": 1, "weighting": "uncertainty",
                                                      "perceptual_weights": "random"}},
    {"model": {"arch": "vit", **SMALL_VIT}, "loss": {"mae": 1, "perceptual": 1, "weighting": "softadapt",
                                                      "perceptual_weights": "random"}},
])
def test_new_model_types_resume_bit_identical(tmp_path: Path, overrides: dict) -> None:
    cfg = RunConfig.model_validate({"data": DataConfig(dataset="synthetic"), "epochs": 3, "batch_size": 16,
                                    "seed": 3, "mask": {"size": 6, "count": 2}, **overrides})
    with pytest.warns(UserWarning) if cfg.loss.uses_perceptual else _nothing():
        straight = runs.train_run(cfg, _splits(), tmp_path / "a", DEVICE, log=None)
        runs.train_run(cfg, _splits(), tmp_path / "b", DEVICE, stop_after=2, log=None)
        resumed = runs.train_run(cfg, _splits(), tmp_path / "b", DEVICE, log=None)
    assert all(torch.equal(x, y) for x, y in zip(straight.model.state_dict().values(),
                                                  resumed.model.state_dict().values()))
    untimed = [[{k: v for k, v in h.items() if k != "seconds"} for h in t.history]
               for t in (straight, resumed)]
    assert untimed[0] == untimed[1]  # losses, weights, held-out PSNR: every epoch identical
    weights = [h["w_mae"] for h in straight.history]
    assert all(w > 0 for w in weights)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def _write(tmp_path: Path, body: str, base: str = "vit.yaml") -> Path:
    (tmp_path / base).write_text((REPO / "params" / base).read_text())
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {base}\ntitle: t\n" + body)
    return path


@pytest.mark.parametrize("base, body, field, words", [
    ("cae.yaml", "runs:\n  a: {model: {residual: true}}\n", "runs.a.model.cae", "set fill"),
    ("cae.yaml", "runs:\n  a: {model: {fill: poisson}}\n", "runs.a.model.cae.fill", "line"),
    ("cae.yaml", "runs:\n  a: {model: {skips: dense}}\n", "runs.a.model.cae.skips", "concat"),
    ("cae.yaml", "runs:\n  a: {loss: {known_weight: 0.1}}\n", "runs.a.loss", "region: hole"),
    ("vit.yaml", "runs:\n  a: {model: {finer: 3}}\n", "runs.a.model.vit", "does not divide"),
    ("vit.yaml", "runs:\n  a: {loss: {mae: 0.8, perceptual: 0.2, weighting: gradnorm}}\n", "runs.a.loss",
     "sets the weights itself"),
    ("vit.yaml", "runs:\n  a: {loss: {weighting: softadaptive}}\n", "runs.a.loss.weighting", "softadapt"),
    ("vit.yaml", "runs:\n  a: {epochs: 10, mask_schedule: {20: {size: 9}}}\n", "runs.a", "outside this run"),
    ("vit.yaml", "runs:\n  a: {cosine: {warmup: 1.5}}\n", "runs.a.cosine.warmup", "less than 1"),
    ("vit.yaml", "runs:\n  a: {epochs: 10, cosine: {}, lr_changes: {5: 0.1}}\n", "runs.a", "replaces"),
    ("vit.yaml", "runs:\n  a: {}\nfull_only: [b]\n", "", "full_only: no run named 'b'"),
])
def test_new_options_are_validated_in_one_line(tmp_path: Path, base: str, body: str, field: str,
                                               words: str) -> None:
    path = _write(tmp_path, body, base)
    with pytest.raises(ParamsError) as err:
        load_params(path, "quick")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{path}: {field}") and words in msg, msg


def test_full_only_runs_are_deferred_by_reduced_profiles() -> None:
    quick = load_params(REPO / "params" / "b9_variants.yaml", "quick")
    full = load_params(REPO / "params" / "b9_variants.yaml", "full")
    assert "+ finer patches" in full.runs and "+ finer patches" not in quick.runs
    deferred = ["+ overlapping patches", "+ finer patches"]
    assert quick.deferred == {name: full.runs[name] for name in deferred}
