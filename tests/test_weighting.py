"""Automatic loss weightings on hand-made two-term problems whose answer is known."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from inpaint_lib.schema import LossConfig
from inpaint_lib.weighting import (
    GradNorm,
    Manual,
    SoftAdapt,
    Uncertainty,
    build_weighting,
    last_layer,
)


def test_manual_follows_the_ramp() -> None:
    w = Manual(LossConfig(mae=1.0, ramp_to={"mae": 0.8, "perceptual": 0.2}, ramp_epochs=(1, 3)))
    assert w.terms == ["mae", "perceptual"]
    assert w.weights(1) == {"mae": 1.0, "perceptual": 0.0}
    assert w.weights(2) == pytest.approx({"mae": 0.9, "perceptual": 0.1})


def test_uncertainty_gives_a_term_100_times_larger_one_hundredth_of_the_weight() -> None:
    """At the optimum of exp(-s)·L + s, exp(-s) = 1/L."""
    w = Uncertainty(["mae", "perceptual"])
    opt = torch.optim.Adam(w.parameters(), lr=0.05)
    losses = {"mae": torch.tensor(100.0), "perceptual": torch.tensor(1.0)}
    for _ in range(3000):
        opt.zero_grad()
        w.backward(losses, torch.zeros(()), epoch=1)
        opt.step()
    weights = w.weights(1)
    assert weights["mae"] == pytest.approx(0.01, rel=0.02)
    assert weights["perceptual"] == pytest.approx(1.0, rel=0.02)


def test_gradnorm_equalises_gradient_norms_so_the_x100_term_gets_one_hundredth() -> None:
    """A linear 'network' fitting one target with two copies of the same loss, one x100:
    equal training rates, so GradNorm equalises w_i·||∇_W L_i||: w_1/w_2 = 1/100."""
    torch.manual_seed(0)
    net = nn.Linear(8, 8)
    x, y = torch.randn(64, 8), torch.randn(64, 8)
    weighting = GradNorm(["mae", "perceptual"], last_layer(net))
    opt = torch.optim.SGD(net.parameters(), lr=1e-4)
    ratios = []
    for _ in range(400):
        pred = net(x)
        base = (pred - y).square().mean()
        opt.zero_grad()
        weighting.backward({"mae": 100 * base, "perceptual": base}, pred, epoch=1)
        opt.step()
        w = weighting.weights(1)
        ratios.append(w["mae"] / w["perceptual"])
        assert sum(w.values()) == pytest.approx(2.0)
    assert sum(ratios[-200:]) / 200 == pytest.approx(0.01, rel=0.3)  # Adam steps jitter around it


def test_gradnorm_back_propagates_the_weighted_sum() -> None:
    """The network's gradient equals that of Σ w_i L_i with the weights after the step."""
    torch.manual_seed(1)
    net = nn.Linear(4, 4)
    x, y = torch.randn(16, 4), torch.randn(16, 4)
    g = GradNorm(["mae", "perceptual"], last_layer(net))
    pred = net(x)
    losses = {"mae": (pred - y).abs().mean(), "perceptual": 3 * (pred - y).square().mean()}
    total = g.backward(losses, pred, epoch=1)
    grad = net.weight.grad.clone()
    w = g.weights(1)
    net.zero_grad()
    pred = net(x)
    (w["mae"] * (pred - y).abs().mean() + w["perceptual"] * 3 * (pred - y).square().mean()).backward()
    assert torch.allclose(grad, net.weight.grad, atol=1e-6)
    assert math.isfinite(total.item())


def test_softadapt_loss_weighted_formula() -> None:
    s = SoftAdapt(["mae", "perceptual"], beta=0.1)
    assert s.weights(1) == {"mae": 1.0, "perceptual": 1.0}  # no slope yet: equal
    s.end_epoch({"mae": 100.0, "perceptual": 1.0})
    s.end_epoch({"mae": 100.0, "perceptual": 1.0})  # flat: weights follow the loss values
    assert s.weights(3) == pytest.approx({"mae": 200 / 101, "perceptual": 2 / 101}, rel=1e-5)
    s = SoftAdapt(["mae", "perceptual"], beta=0.1)
    s.end_epoch({"mae": 1.0, "perceptual": 1.0})
    s.end_epoch({"mae": 0.5, "perceptual": 0.9})  # mae falls faster: it gets less weight
    a = 0.5 * math.exp(0.1 * (-0.5 + 0.1))
    assert s.weights(3) == pytest.approx({"mae": 2 * a / (a + 0.9), "perceptual": 2 * 0.9 / (a + 0.9)},
                                         rel=1e-5)


def test_build_and_validate() -> None:
    net = nn.Linear(2, 2)
    assert isinstance(build_weighting(LossConfig(mae=1, perceptual=1, weighting="gradnorm"), net), GradNorm)
    with pytest.raises(ValueError, match="sets the weights itself"):
        LossConfig(mae=0.8, perceptual=0.2, weighting="uncertainty")
    with pytest.raises(ValueError, match="sets the weights itself"):
        LossConfig(mae=1, weighting="softadapt")
