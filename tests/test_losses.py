"""Losses: perceptual loss as the study defines it; clear error without weights."""

from __future__ import annotations

import pytest
import torch

from inpaint_lib import losses
from inpaint_lib.schema import LossWeights


def test_perceptual_loss_random_weights_behaviour() -> None:
    with pytest.warns(UserWarning, match="RANDOMLY INITIALISED"):
        loss = losses.PerceptualLoss("random")
    assert len(loss.features) == 16 and not loss.features.training
    assert all(not p.requires_grad for p in loss.parameters())
    x = torch.rand(2, 3, 32, 32)
    assert loss(x, x).item() == 0.0
    pred = torch.rand(2, 3, 32, 32, requires_grad=True)
    value = loss(pred, x)
    value.backward()
    assert value.item() > 0 and pred.grad is not None
    loss.train()
    assert not loss.features.training  # VGG stays in eval mode


def test_missing_imagenet_weights_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(losses.WeightsMissingError, match="IMAGENET1K_V1 not available") as err:
        losses.PerceptualLoss("imagenet")
    assert "\n" not in str(err.value)
    with pytest.raises(losses.WeightsMissingError, match="no file"):
        losses.PerceptualLoss(str(tmp_path / "missing.pth"))


def test_weighted_combination() -> None:
    fn = losses.InpaintingLoss(None)
    pred, target = torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.5)
    total, parts = fn(pred, target, LossWeights(mse=2.0, mae=1.0))
    assert parts["mse"].item() == pytest.approx(0.25) and parts["mae"].item() == pytest.approx(0.5)
    assert total.item() == pytest.approx(2 * 0.25 + 0.5)
    with pytest.raises(RuntimeError, match="without VGG"):
        fn(pred, target, LossWeights(perceptual=1.0))
