"""The inpaint command's inputs: photos and masks read as tensors, seeded squares, PNG out.

Images are read with PIL (EXIF orientation applied, converted to 8-bit RGB); a mask is
nonzero (white) = missing, the alpha channel's transparent pixels are missing, or seeded
squares or brush strokes come from the evaluation's own generator. Bad input is a `ToolError`: one line
naming the file or the option.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

from ..image_trees import DECODE_ERRORS, unreadable_reason
from ..masks import fixed_masks
from ..schema import MaskConfig


class ToolError(ValueError):
    """Bad input: the one-line message names the file or the option (exit 2)."""


@dataclass(frozen=True)
class Picture:
    rgb: Tensor  # (3, H, W) uint8
    alpha: Tensor | None  # (H, W) uint8, None if the file has no transparency

    @property
    def size(self) -> tuple[int, int]:
        return int(self.rgb.shape[1]), int(self.rgb.shape[2])


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info


def _to_rgb(im: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8; 16-bit greyscale is scaled to 8 bits (PIL would clip it)."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        grey = (np.asarray(im, dtype=np.float64) / 257).round().clip(0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def read_image(path: Path) -> Picture:
    """An image file -> 8-bit RGB (EXIF orientation applied) and its alpha channel, if any."""
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            alpha = np.asarray(im.convert("RGBA"))[:, :, 3].copy() if _has_alpha(im) else None
            rgb = _to_rgb(im)
    except FileNotFoundError:
        raise ToolError(f"{path}: no such file") from None
    except DECODE_ERRORS as e:
        raise ToolError(f"{path}: cannot read this image ({unreadable_reason(e)}); "
                        "give a PNG, JPEG, BMP or WebP file") from None
    return Picture(torch.from_numpy(rgb.copy()).permute(2, 0, 1).contiguous(),
                   None if alpha is None else torch.from_numpy(alpha))


def read_mask(path: Path, size: tuple[int, int], image: Path) -> Tensor:
    """A mask image -> (1, H, W) bool, True = missing (any nonzero channel)."""
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                values = np.asarray(im)
            else:
                values = np.asarray(im.convert("RGB")).max(axis=2)
                if _has_alpha(im):  # strokes painted on a transparent layer: transparent = known
                    values = values * (np.asarray(im.convert("RGBA"))[:, :, 3] > 0)
    except FileNotFoundError:
        raise ToolError(f"--mask {path}: no such file") from None
    except DECODE_ERRORS as e:
        raise ToolError(f"--mask {path}: cannot read this mask ({unreadable_reason(e)})") from None
    h, w = size
    if values.shape != (h, w):
        raise ToolError(f"--mask {path}: mask is {values.shape[1]}x{values.shape[0]} px but "
                        f"{image} is {w}x{h} px; masks must have the image's size")
    return torch.from_numpy(values != 0)[None]


def alpha_mask(picture: Picture, image: Path) -> Tensor:
    """(1, H, W) bool: every pixel that is not fully opaque is missing."""
    if picture.alpha is None:
        raise ToolError(f"{image}: --mask-from-alpha: this image has no alpha channel "
                        "(save it as a PNG or WebP with the hole transparent)")
    return (picture.alpha < 255)[None]


def parse_squares(text: str, option: str = "--squares", what: str = "SIZE") -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if m is None or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise ToolError(f"{option} {text}: expected COUNT:{what} with positive integers, e.g. 4:32")
    return int(m.group(1)), int(m.group(2))


def parse_strokes(text: str) -> tuple[int, int]:
    return parse_squares(text, "--strokes", "WIDTH")


def strokes_mask(size: tuple[int, int], count: int, width: int, seed: int, image: Path) -> Tensor:
    """(1, H, W) bool: `count` seeded brush strokes `width` px wide, drawn by the evaluation's
    own generator (`masks.random_strokes`, the crossover section's strokes)."""
    h, w = size
    if width > min(h, w):
        raise ToolError(f"--strokes {count}:{width}: {width} px strokes do not fit {image} ({w}x{h} px)")
    return fixed_masks(1, h, w, MaskConfig(shape="strokes", size=width, count=count), seed)[0]


def squares_mask(size: tuple[int, int], count: int, side: int, seed: int, image: Path) -> Tensor:
    """(1, H, W) bool: `count` seeded squares of `side` px, the evaluation's generator."""
    h, w = size
    if side > min(h, w):
        raise ToolError(f"--squares {count}:{side}: {side} px squares do not fit {image} ({w}x{h} px)")
    return fixed_masks(1, h, w, MaskConfig(size=side, count=count), seed)[0]


def check_mask(mask: Tensor, where: str) -> None:
    """A mask must leave something to fill and something to fill it from."""
    if not bool(mask.any()):
        raise ToolError(f"{where}: the mask marks no pixel as missing (nonzero/white = missing): "
                        "nothing to inpaint")
    if bool(mask.all()):
        raise ToolError(f"{where}: the mask marks every pixel as missing: nothing to inpaint from "
                        "(is it inverted? white = missing)")


def encode_png(image: Tensor) -> bytes:
    """image: (3, H, W) uint8 -> PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(buf, format="PNG")
    return buf.getvalue()
