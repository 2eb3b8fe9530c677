"""Masks: exact pixel counts, in-bounds placement, determinism, vectorised ranges."""

from __future__ import annotations

import pytest
import torch

from inpaint_lib.masks import (
    apply_masks,
    fixed_masks,
    make_generator,
    naive_fraction,
    occluded_fraction,
    random_squares,
)
from inpaint_lib.schema import MaskConfig


def _boxes(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """(N=1 mask (1, H, W)) -> bounding box rows/cols of the missing pixels."""
    ys, xs = mask[0].nonzero(as_tuple=True)
    return int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())


def test_single_10x10_square_is_exactly_100_pixels_in_bounds() -> None:
    masks = random_squares(2000, 32, 32, MaskConfig(size=10, count=1), make_generator(0))
    assert masks.shape == (2000, 1, 32, 32) and masks.dtype == torch.bool
    assert torch.all(masks.sum(dim=(1, 2, 3)) == 100)
    for m in masks[:50]:
        y0, y1, x0, x1 = _boxes(m)
        assert (y1 - y0 + 1, x1 - x0 + 1) == (10, 10)
    # every in-bounds top-left position is reachable (0..22): corners are used
    tops = masks[:, 0].amax(dim=2).byte().argmax(dim=1)
    assert tops.min() == 0 and tops.max() == 22


def test_multiple_is_four_disjoint_5x5_exactly_100_pixels() -> None:
    cfg = MaskConfig(size=5, count=4, disjoint=True)
    masks = random_squares(3000, 32, 32, cfg, make_generator(1))
    assert torch.all(masks.sum(dim=(1, 2, 3)) == 100)


def test_overlapping_squares_are_counted_once() -> None:
    cfg = MaskConfig(size=10, count=10)
    masks = random_squares(500, 32, 32, cfg, make_generator(2))
    px = masks.sum(dim=(1, 2, 3))
    assert torch.all(px <= 1000) and torch.any(px < 1000)
    assert torch.allclose(occluded_fraction(masks), px / 1024)


def test_random_size_squares_stay_in_range() -> None:
    cfg = MaskConfig(size=(5, 15))
    masks = random_squares(3000, 32, 32, cfg, make_generator(3))
    sides = masks.sum(dim=(1, 2, 3)).sqrt()
    assert torch.all(sides == sides.round())
    assert sides.min() == 5 and sides.max() == 15


def test_phase7_draws_size_and_count_once_per_batch() -> None:
    cfg = MaskConfig(size=(9, 12), count=(175, 300), draw="per_batch")
    g = make_generator(4)
    fractions = []
    for _ in range(20):
        masks = random_squares(8, 224, 224, cfg, g)
        fractions.append(occluded_fraction(masks).mean().item())
    lo, hi = naive_fraction(cfg, 224, 224)
    assert (round(lo, 2), round(hi, 2)) == (0.28, 0.86)  # 175*81, 300*144 over 224^2
    assert 0.2 < min(fractions) and max(fractions) < 0.7  # overlaps make the real fraction lower
    assert len({round(f, 3) for f in fractions}) > 5


def test_masks_are_deterministic_per_seed() -> None:
    cfg = MaskConfig(size=11, count=150)
    a = fixed_masks(16, 64, 64, cfg.model_copy(update={"size": 3}), seed=7)
    b = fixed_masks(16, 64, 64, cfg.model_copy(update={"size": 3}), seed=7)
    c = fixed_masks(16, 64, 64, cfg.model_copy(update={"size": 3}), seed=8)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_mask_too_large_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        random_squares(1, 8, 8, MaskConfig(size=10), make_generator(0))


def test_apply_masks_fills_black_on_either_scale() -> None:
    imgs = torch.ones(2, 3, 8, 8) * 0.5
    masks = torch.zeros(2, 1, 8, 8, dtype=torch.bool)
    masks[:, :, 2:4, 2:4] = True
    out = apply_masks(imgs, masks, -1.0)
    assert out[:, :, 2:4, 2:4].eq(-1).all() and out[:, :, 0, 0].eq(0.5).all()
    assert out.sum() == 2 * 3 * (60 * 0.5 - 4)  # nothing else changed


def test_apply_masks_keeps_channels_last() -> None:
    imgs = torch.rand(2, 3, 8, 8).contiguous(memory_format=torch.channels_last)
    out = apply_masks(imgs, torch.rand(2, 1, 8, 8) > 0.5, 0.0)
    assert out.is_contiguous(memory_format=torch.channels_last)


def test_cpu_and_gpu_union_algorithms_agree() -> None:
    from inpaint_lib.masks import draw_squares, squares_union

    cfg = MaskConfig(size=(9, 12), count=40)
    tops, lefts, sizes = draw_squares(16, 64, 48, cfg, make_generator(5))
    assert torch.equal(squares_union(tops, lefts, sizes, 64, 48, "batched_matmul"),
                       squares_union(tops, lefts, sizes, 64, 48, "difference_array"))


@pytest.mark.parametrize(("size", "count", "height", "width"),
                         [(12, 300, 224, 224), (10, 1, 32, 32), (1, 5, 9, 7), (9, 40, 50, 50), (16, 3, 16, 16)])
def test_row_dilation_union_matches_the_difference_array(size: int, count: int, height: int,
                                                         width: int) -> None:
    from inpaint_lib.masks import draw_squares, squares_union

    tops, lefts, sizes = draw_squares(6, height, width, MaskConfig(size=size, count=count), make_generator(6))
    fast = squares_union(tops, lefts, sizes, height, width, "row_dilation")
    assert fast.shape == (6, 1, height, width) and fast.dtype == torch.bool
    assert torch.equal(fast, squares_union(tops, lefts, sizes, height, width, "difference_array"))


def test_union_of_one_hand_placed_square_and_an_overlapping_one() -> None:
    from inpaint_lib.masks import squares_union

    tops, lefts = torch.tensor([[1, 3]]), torch.tensor([[2, 4]])
    masks = squares_union(tops, lefts, torch.full((1, 2), 3), 8, 8)  # rows/cols 1-3 and 3-5
    expected = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
    expected[0, 0, 1:4, 2:5] = True
    expected[0, 0, 3:6, 4:7] = True
    assert torch.equal(masks, expected) and int(masks.sum()) == 9 + 9 - 1


def test_nested_masks_grow_by_adding_squares() -> None:
    prev = None
    for count in range(1, 6):
        m = fixed_masks(50, 32, 32, MaskConfig(size=10, count=count, nested_of=5), seed=3)
        if prev is not None:
            assert torch.all(m >= prev)  # every earlier square is still there
            assert torch.any(m > prev)
        prev = m
    with pytest.raises(ValueError, match="nested_of"):
        MaskConfig(size=10, count=6, nested_of=5)


@pytest.mark.parametrize("size", [6, (3, 6)])
def test_union_in_chunks_equals_one_call(size: int | tuple[int, int],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from inpaint_lib import masks as masks_mod

    monkeypatch.setattr(masks_mod, "CHUNK_IMAGES", 8)  # the mixed-size path chunks too
    n = 2 * masks_mod.DILATION_CHUNK_IMAGES + 3  # two full chunks and a partial one
    cfg = MaskConfig(size=size, count=30)
    tops, lefts, sizes = masks_mod.draw_squares(n, 24, 40, cfg, make_generator(9))
    masks = masks_mod.squares_union(tops, lefts, sizes, 24, 40)
    assert masks.shape == (n, 1, 24, 40)
    assert torch.equal(masks, masks_mod.squares_union(tops, lefts, sizes, 24, 40, "batched_matmul"))
