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


def _quarter_hole() -> torch.Tensor:
    holes = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    holes[..., :2, :2] = True  # 4 of 16 pixels missing
    return holes


def test_composite_region_scores_only_the_hole() -> None:
    """pred = target + 1 everywhere: the composite keeps the known pixels, so the error is
    the hole's share (1/4) and no gradient reaches the known pixels."""
    target = torch.zeros(1, 3, 4, 4)
    pred = (target + 1).requires_grad_(True)
    fn = losses.InpaintingLoss(None, region="composite")
    total, parts = fn(pred, target, LossWeights(mse=1.0, mae=1.0), _quarter_hole())
    assert parts["mse"].item() == pytest.approx(0.25) and parts["mae"].item() == pytest.approx(0.25)
    total.backward()
    assert pred.grad[..., 2:, :].abs().sum() == 0 and pred.grad[..., :2, :2].abs().sum() > 0
    with pytest.raises(ValueError, match="needs the masks"):
        fn(pred, target, LossWeights(mse=1.0))


def test_hole_region_means_over_the_hole_plus_weighted_known_pixels() -> None:
    target = torch.zeros(1, 3, 4, 4)
    pred = torch.full((1, 3, 4, 4), 2.0)
    pred[..., :2, :2] = 1.0  # error 1 in the hole, 2 on the known pixels
    holes = _quarter_hole()
    _, parts = losses.InpaintingLoss(None, region="hole")(pred, target, LossWeights(mse=1.0), holes)
    assert parts["mse"].item() == pytest.approx(1.0)
    _, parts = losses.InpaintingLoss(None, region="hole", known_weight=0.5)(
        pred, target, LossWeights(mse=1.0, mae=1.0), holes)
    assert parts["mse"].item() == pytest.approx(1.0 + 0.5 * 4.0)
    assert parts["mae"].item() == pytest.approx(1.0 + 0.5 * 2.0)


def test_perceptual_term_sees_signed_images_on_the_unit_scale() -> None:
    with pytest.warns(UserWarning):
        signed = losses.InpaintingLoss("random", signed=True)
    unit = losses.InpaintingLoss(None)
    unit.perceptual = signed.perceptual
    x, y = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    a = signed.terms(x * 2 - 1, y * 2 - 1, None, LossWeights(perceptual=1.0))["perceptual"]
    b = unit.terms(x, y, None, LossWeights(perceptual=1.0))["perceptual"]
    assert a.item() == pytest.approx(b.item(), rel=1e-5)


def test_perceptual_term_on_the_first_images_of_a_batch() -> None:
    with pytest.warns(UserWarning):
        every = losses.InpaintingLoss("random")
    some = losses.InpaintingLoss(None, perceptual_images=2)
    some.perceptual = every.perceptual
    x, y = torch.rand(6, 3, 16, 16), torch.rand(6, 3, 16, 16)
    w = LossWeights(mae=1.0, perceptual=1.0)
    part, whole = some.terms(x, y, None, w), every.terms(x[:2], y[:2], None, w)
    assert part["perceptual"].item() == pytest.approx(whole["perceptual"].item(), rel=1e-6)
    assert part["mae"].item() == pytest.approx(every.terms(x, y, None, w)["mae"].item())  # all 6


def test_a_second_vgg_from_the_same_rng_state_is_the_first_and_leaves_the_rng_alike() -> None:
    """The memo of `_vgg16_features`: the same layers and the same RNG state after as a build
    from scratch (a run's dropout reads that RNG), for a repeated build only."""
    from inpaint_lib import losses

    def build() -> tuple[dict, torch.Tensor]:
        torch.manual_seed(7)
        with pytest.warns(UserWarning):
            features = losses._vgg16_features("random")
        return features.state_dict(), torch.rand(3)

    losses._BUILT.clear()
    first, after_first = build()  # from scratch
    second, after_second = build()  # from the memo
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    assert torch.equal(after_first, after_second)
    torch.manual_seed(8)  # another state: built again, other weights
    with pytest.warns(UserWarning):
        other = losses._vgg16_features("random").state_dict()
    assert not torch.equal(other["0.weight"], first["0.weight"])
