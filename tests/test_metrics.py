"""Known-answer tests for inpaint_lib.metrics."""

from __future__ import annotations

import math

import pytest
import torch

from inpaint_lib.metrics import METRIC_LABELS, mean_metrics, per_image_metrics

KEYS = {"mse", "mse_composite", "mae_composite", "psnr_composite", "hole_mse", "hole_mae", "hole_psnr",
        "ssim"}


def _square_masks(n: int, size: int = 16, lo: int = 4, hi: int = 12) -> torch.Tensor:
    """masks: (n, 1, size, size) with a (hi-lo)^2 missing square."""
    masks = torch.zeros(n, 1, size, size)
    masks[:, :, lo:hi, lo:hi] = 1.0
    return masks


def _target(n: int = 2, size: int = 16) -> torch.Tensor:
    """target: (n, 3, size, size) in [0.2, 0.8], textured so SSIM is meaningful."""
    gen = torch.Generator().manual_seed(0)
    return 0.2 + 0.6 * torch.rand(n, 3, size, size, generator=gen)


def test_keys_shapes_and_labels() -> None:
    target = _target()
    out = per_image_metrics(target, target, _square_masks(2))
    assert set(out) == KEYS
    assert set(METRIC_LABELS) == KEYS | {"grid"}  # grid: derived from grid_pred, grid_target
    assert METRIC_LABELS["hole_psnr"] == "hole PSNR (dB)"
    for value in out.values():
        assert value.shape == (2,)
        assert value.dtype == torch.float64


def test_perfect_prediction() -> None:
    target = _target()
    out = per_image_metrics(target.clone(), target, _square_masks(2))
    for key in ("mse", "mse_composite", "hole_mse", "hole_mae"):
        assert torch.all(out[key] == 0), key
    assert torch.allclose(out["ssim"], torch.ones(2, dtype=torch.float64), atol=1e-6)
    assert torch.all(torch.isfinite(out["hole_psnr"]))
    assert torch.all(out["hole_psnr"] >= 99.0)  # 10*log10(1 / 1e-10) = 100 dB


def test_error_only_inside_hole() -> None:
    c = 0.1
    target = _target()
    masks = _square_masks(2)
    pred = target + c * masks  # wrong by c in every channel of every missing pixel
    out = per_image_metrics(pred, target, masks)
    hole_fraction = masks.mean().item()  # 64 / 256
    expected_mse = torch.full((2,), c**2 * hole_fraction, dtype=torch.float64)
    assert torch.allclose(out["hole_mse"], torch.full_like(expected_mse, c**2), rtol=1e-5)
    assert torch.allclose(out["hole_mae"], torch.full_like(expected_mse, c), rtol=1e-5)
    assert torch.allclose(out["mse"], expected_mse, rtol=1e-5)
    assert torch.allclose(out["mse_composite"], out["mse"])
    expected_psnr = 10 * math.log10(1 / c**2)  # 20 dB
    assert torch.allclose(out["hole_psnr"], torch.full_like(expected_mse, expected_psnr), rtol=1e-5)
    assert torch.all(out["ssim"] < 1.0)


def test_error_only_outside_hole() -> None:
    target = _target()
    masks = _square_masks(2)
    pred = target + 0.1 * (1 - masks)
    out = per_image_metrics(pred, target, masks)
    assert torch.all(out["hole_mse"] == 0)
    assert torch.all(out["hole_mae"] == 0)
    assert torch.all(out["mse"] > 0)
    assert torch.all(out["mse_composite"] == 0)
    assert torch.allclose(out["ssim"], torch.ones(2, dtype=torch.float64), atol=1e-6)


def test_value_range_scales_errors() -> None:
    target = _target()
    masks = _square_masks(2)
    gen = torch.Generator().manual_seed(1)
    pred = torch.rand(2, 3, 16, 16, generator=gen)
    unit = per_image_metrics(pred, target, masks)
    sym = per_image_metrics(pred, target, masks, value_range=(-1.0, 1.0))
    for key in ("mse", "mse_composite", "hole_mse"):
        assert torch.allclose(sym[key], 4 * unit[key], rtol=1e-12), key
    assert torch.allclose(sym["hole_mae"], 2 * unit["hole_mae"], rtol=1e-12)
    # PSNR is invariant once data_range follows value_range. SSIM is not (its luminance
    # term is not shift invariant), so only its known answers are checked.
    assert torch.allclose(sym["hole_psnr"], unit["hole_psnr"], rtol=1e-9)
    perfect = per_image_metrics(target, target, masks, value_range=(-1.0, 1.0))
    assert torch.allclose(perfect["ssim"], torch.ones(2, dtype=torch.float64), atol=1e-6)
    assert torch.all(sym["ssim"] < 1.0)


def test_no_hole_gives_nan_and_the_mean_ignores_it() -> None:
    target = _target()
    masks = _square_masks(2)
    masks[1] = 0.0  # second image has no missing pixels
    pred = target + 0.1 * masks
    out = per_image_metrics(pred, target, masks)
    for key in ("hole_mse", "hole_mae", "hole_psnr"):
        assert not torch.isnan(out[key][0]), key
        assert torch.isnan(out[key][1]), key
    summary = mean_metrics(out)
    assert set(summary) == KEYS
    assert all(isinstance(v, float) for v in summary.values())
    assert summary["hole_mse"] == pytest.approx(0.01, rel=1e-5)
    assert summary["hole_psnr"] == pytest.approx(20.0, rel=1e-5)
    assert summary["mse"] == pytest.approx(out["mse"].mean().item())


def test_ssim_with_default_window_on_larger_images() -> None:
    target = _target(n=1, size=32)
    masks = _square_masks(1, size=32, lo=8, hi=24)
    out = per_image_metrics(torch.zeros_like(target), target, masks)
    assert 0.0 < out["ssim"].item() < 1.0


def test_ssim_matches_torchmetrics() -> None:
    from torchmetrics.functional.image import structural_similarity_index_measure

    from inpaint_lib.metrics import ssim_per_image

    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 3, 32, 32, generator=g, dtype=torch.float64)
    y = (x + 0.1 * torch.randn(x.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    for data_range, k in [(1.0, 11), (2.0, 11)]:
        ref = structural_similarity_index_measure(y, x, data_range=data_range, kernel_size=k,
                                                  reduction="none")
        assert torch.allclose(ssim_per_image(y, x, data_range, k), ref, atol=1e-10)


def test_whole_image_composite_mae_and_psnr() -> None:
    target = torch.zeros(1, 3, 4, 4)
    pred = torch.full((1, 3, 4, 4), 0.5)
    masks = torch.zeros(1, 1, 4, 4)
    masks[..., :2, :] = 1  # half the image missing, error 0.5 there
    out = per_image_metrics(pred, target, masks)
    assert out["mae_composite"].item() == pytest.approx(0.25)
    assert out["psnr_composite"].item() == pytest.approx(10 * math.log10(1 / 0.125))


def test_patch_grid_measure_sees_a_mosaic_and_not_a_smooth_image() -> None:
    from inpaint_lib.metrics import patch_steps

    torch.manual_seed(0)
    ramp = torch.linspace(0, 1, 32).expand(1, 3, 32, 32)  # smooth: every step equal
    assert patch_steps(ramp, 8).item() == pytest.approx(1.0)
    tiles = torch.rand(1, 3, 4, 4).repeat_interleave(8, 2).repeat_interleave(8, 3)
    mosaic = tiles + 0.01 * torch.rand(1, 3, 32, 32)  # flat 8x8 tiles: steps only at borders
    assert patch_steps(mosaic, 8).item() > 20
    target = torch.rand(4, 3, 16, 16)
    out = per_image_metrics(target, target, torch.zeros(4, 1, 16, 16, dtype=torch.bool), patch=4)
    assert torch.equal(out["grid_pred"], out["grid_target"])
    assert mean_metrics(out)["grid"] == pytest.approx(1.0)
    assert "grid_pred" not in per_image_metrics(target, target, torch.zeros(4, 1, 16, 16) > 0)


def test_hole_psnr_is_the_metrics_one_for_any_channel_count() -> None:
    from inpaint_lib.metrics import hole_psnr

    target = _target(3)
    pred = (target + 0.1).clamp(0, 1)
    masks = _square_masks(3) > 0
    masks[2] = False  # no hole: NaN, as per_image_metrics
    out = per_image_metrics(pred, target, masks, value_range=(-1.0, 1.0))
    got = hole_psnr(pred.double() * 2 - 1, target.double() * 2 - 1, masks, data_range=2.0)
    assert torch.allclose(got[:2], out["hole_psnr"][:2])
    assert got[2].isnan() and out["hole_psnr"][2].isnan()
    pred1, target1 = pred[:2, :1], target[:2, :1]  # one channel: the mean over its own values
    assert torch.allclose(hole_psnr(pred1, target1, masks[:2]),
                          hole_psnr(pred1.repeat(1, 3, 1, 1), target1.repeat(1, 3, 1, 1), masks[:2]))
