"""The evaluation function: same masks for every method, cached, scale handling."""

from __future__ import annotations

from pathlib import Path

import torch

from inpaint_lib.data import synthetic_images
from inpaint_lib.evaluate import evaluate
from inpaint_lib.methods import Method, classical_methods, network_method
from inpaint_lib.models import CAE
from inpaint_lib.schema import MaskConfig


def _oracle(images: torch.Tensor) -> Method:
    """A 'method' that knows the answer: perfect prediction."""
    lookup = images.float() / 255

    def predict(masked: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return lookup[: len(masked)]

    return Method("oracle", predict, "oracle")


def test_perfect_method_scores_zero_and_results_are_cached(tmp_path: Path) -> None:
    images = synthetic_images(20, 16, seed=1)
    cfg = MaskConfig(size=4, count=2)
    out = evaluate(_oracle(images), images, cfg, 3, tmp_path, (-1.0, 1.0), "d", batch=20)
    assert torch.all(out["mse"] == 0) and torch.all(out["hole_mse"] == 0)
    assert len(list(tmp_path.glob("*.pt"))) == 1
    again = evaluate(_oracle(images), images, cfg, 3, tmp_path, (-1.0, 1.0), "d", batch=20)
    assert torch.equal(again["mse"], out["mse"])


def test_every_method_sees_the_same_holes(tmp_path: Path) -> None:
    images = synthetic_images(12, 16, seed=2)
    seen: list[torch.Tensor] = []

    def spy(masked: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        seen.append(masks.clone())
        return masked

    for ident in ("a", "b"):
        evaluate(Method(ident, spy, ident), images, MaskConfig(size=3, count=3), 9, tmp_path,
                 (0.0, 1.0), "d")
    assert torch.equal(seen[0], seen[1])


def test_black_fill_hole_error_matches_hand_computation(tmp_path: Path) -> None:
    images = torch.full((4, 3, 8, 8), 255, dtype=torch.uint8)  # white images
    identity = Method("identity", lambda masked, masks: masked, "identity")
    out = evaluate(identity, images, MaskConfig(size=2, count=1), 0, tmp_path, (-1.0, 1.0), "w")
    # holes are black (-1) where the truth is white (+1): squared error 4 on 4 of 64 px
    assert torch.allclose(out["hole_mse"], torch.full((4,), 4.0, dtype=torch.float64))
    assert torch.allclose(out["mse"], torch.full((4,), 4.0 * 4 / 64, dtype=torch.float64))


def test_network_method_maps_scales_for_the_cae(tmp_path: Path) -> None:
    model = CAE(8)
    method = network_method("cae", model, "cae-x", signed=True, device=torch.device("cpu"))
    masked = torch.rand(2, 3, 32, 32)
    pred = method.predict(masked, torch.zeros(2, 1, 32, 32))
    expected = ((model(masked * 2 - 1) + 1) / 2).clamp(0, 1)
    assert torch.allclose(pred, expected, atol=1e-6)


def test_every_classical_method_scores_every_metric(tmp_path: Path) -> None:
    images = synthetic_images(6, 16, seed=4)
    names = {m.name for m in classical_methods()}
    assert names == {"mean fill", "OpenCV Telea", "OpenCV Navier-Stokes", "biharmonic",
                     "FSR fast", "FSR best", "PatchMatch"}
    for m in classical_methods():
        out = evaluate(m, images, MaskConfig(size=3, count=2), 1, tmp_path, (0.0, 1.0), "d")
        assert {"mse", "mse_composite", "hole_mse", "hole_mae", "hole_psnr", "ssim"} <= set(out)
        assert (out["hole_mse"] > 0).all() and len(out["mse"]) == 6


def test_a_slow_method_is_scored_on_images_spread_over_the_set(tmp_path: Path) -> None:
    """`subset`: images spread evenly (a test set may be ordered by class), with the very
    masks every other method gets on them, and its own cache entry."""
    from inpaint_lib.evaluate import scored_images

    images = synthetic_images(10, 16, seed=4)
    cfg = MaskConfig(size=4, count=2)
    method = classical_methods(["OpenCV Telea"])[0]
    every = evaluate(method, images, cfg, 1, tmp_path, (0.0, 1.0), "d")
    some = evaluate(method, images, cfg, 1, tmp_path, (0.0, 1.0), "d", subset=4)
    idx = scored_images(10, 4)
    assert idx.tolist() == [0, 3, 6, 9] and scored_images(10, None).tolist() == list(range(10))
    assert torch.equal(some["hole_mse"], every["hole_mse"][idx])  # the same images and holes
    assert len(list(tmp_path.glob("*.pt"))) == 2
