"""Models: the study's architecture, parameter counts and shapes."""

from __future__ import annotations

import pytest
import torch

from inpaint_lib.models import (
    CAE,
    ViTInpainter,
    count_parameters,
    vit_parameter_count,
    vit_parameter_reconciliation,
)
from inpaint_lib.report.prose import vit_parameters
from inpaint_lib.schema import ViTConfig


@pytest.mark.parametrize("latent, expected", [(128, 186_371)])
def test_cae_parameter_count_matches_the_study(latent: int, expected: int) -> None:
    assert count_parameters(CAE(latent)) == expected


def test_cae_shapes_and_range() -> None:
    model = CAE(16)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    assert model.encoder(x).shape == (4, 16, 4, 4)
    y = model(x)
    assert y.shape == (4, 3, 32, 32) and y.min() >= -1 and y.max() <= 1


def test_vit_parameter_count_and_reconciliation() -> None:
    model = ViTInpainter()
    assert count_parameters(model) == 7_091_712 == vit_parameter_count()
    assert vit_parameter_count(depth=10, final_norm=True) == 8_671_744
    text = vit_parameters(vit_parameter_reconciliation(ViTConfig(), 224, 8_671_744))
    assert "7,091,712" in text and "8,671,744" in text


def test_vit_shapes_range_and_hyperparameters() -> None:
    model = ViTInpainter(image_size=64, patch_size=8, dim=64, depth=2, heads=4, mlp_dim=128)
    assert len(model.blocks) == 2 and model.grid == 8
    y = model(torch.rand(3, 3, 64, 64))
    assert y.shape == (3, 3, 64, 64) and y.min() >= 0 and y.max() <= 1
    with pytest.raises(ValueError, match="divide"):
        ViTInpainter(image_size=60, patch_size=16)


def test_unpatchify_places_each_patch_at_its_grid_position() -> None:
    model = ViTInpainter(image_size=32, patch_size=16, dim=32, depth=1, heads=2, mlp_dim=32)
    patches = torch.zeros(1, 4, 16 * 16 * 3)
    patches[0, 1] = 1.0  # patch (row 0, col 1)
    img = model.unpatchify(patches)
    assert img[0, :, :16, 16:].eq(1).all() and img[0, :, 16:, :].eq(0).all()
