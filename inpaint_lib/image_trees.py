"""Image trees: folders ``train/<class>/*`` and ``test/<class>/*`` of image files, read
into uint8 tensors.

A tree may hold a one-line ``LABEL`` file naming the set for the report. Decoded
trees are cached as one tensor file ($INPAINT_CACHE_DIR, default results/cache) so
later runs never decode JPEGs again. A tree holding an unreadable, truncated or
non-image file stops the load with one line naming the files and what to do;
nothing is cached from a partial decode.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from . import code_version
from .io import atomic_torch_save
from .paths import REPO_ROOT

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class DataMissingError(RuntimeError):
    """The dataset is not on disk and could not be downloaded."""


def cache_dir() -> Path:
    return Path(os.environ.get("INPAINT_CACHE_DIR", REPO_ROOT / "results" / "cache"))


def tree_label(root: Path, default: str) -> str:
    label = root / "LABEL"
    return label.read_text().strip() if label.exists() else default


def _list_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


# What PIL raises for a file it cannot decode: not an image (UnidentifiedImageError is an
# OSError), truncated ("image file is truncated"), corrupt headers (SyntaxError, ValueError),
# or a decompression bomb.
DECODE_ERRORS: tuple[type[BaseException], ...] = (OSError, SyntaxError, ValueError,
                                                  Image.DecompressionBombError)
BAD_IMAGES_SHOWN = 3  # unreadable files named in the one-line error; the rest are counted


def unreadable_reason(err: BaseException) -> str:
    """A short reason for a decode failure, e.g. 'not an image' or 'image file is truncated'."""
    if isinstance(err, UnidentifiedImageError):
        return "not an image PIL can read"
    text = str(err).split("\n")[0].strip()
    return text[:80] or type(err).__name__


def _crops(image: np.ndarray, crop: tuple[int, int, int], index: int) -> list[np.ndarray]:
    """`crop` = (side, count, seed): count 0 -> the centre crop, else `count` crops at
    positions drawn from (seed, index): at native resolution, nothing resized. An image
    smaller than the crop gives none (3 of the 2,327 training pets at 128 px)."""
    side, count, seed = crop
    h, w = image.shape[:2]
    if min(h, w) < side:
        return []
    if count == 0:
        tops, lefts = [(h - side) // 2], [(w - side) // 2]
    else:
        rng = np.random.default_rng([seed, index])
        tops, lefts = rng.integers(0, h - side + 1, count), rng.integers(0, w - side + 1, count)
    return [image[t:t + side, left:left + side] for t, left in zip(tops, lefts)]


def _decode(path: Path, size: int | None) -> np.ndarray:
    with Image.open(path) as im:
        if size is not None:
            im.draft("RGB", (size, size))  # JPEG: decode at reduced scale when possible
        im = im.convert("RGB")  # decodes every pixel: a truncated file raises here
        if size is not None and im.size != (size, size):
            im = im.resize((size, size), Image.BICUBIC, reducing_gap=2.0)
        return np.asarray(im, dtype=np.uint8)


def _unreadable_error(bad: list[tuple[Path, str]], paths: list[Path]) -> DataMissingError:
    """One line naming the unreadable files (the first few) and what to do."""
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    named = ", ".join(f"{p.relative_to(root)} ({why})" for p, why in bad[:BAD_IMAGES_SHOWN])
    more = f" and {len(bad) - BAD_IMAGES_SHOWN} more" if len(bad) > BAD_IMAGES_SHOWN else ""
    return DataMissingError(
        f"{len(bad)} of {len(paths)} images under {root} cannot be decoded: {named}{more}; "
        "delete or replace them (or move them out of the tree), then run again"
    )


def decode_all(paths: list[Path], size: int | None,
               crop: tuple[int, int, int] | None = None) -> Tensor:
    """paths -> (N, 3, H, W) uint8, decoded once and cached on disk. With `crop` (side,
    count, seed), native-resolution crops instead (`_crops`): N = len(paths) * max(count, 1).

    Every file is decoded before anything is cached: one unreadable, truncated or
    non-image file stops the load with a `DataMissingError` naming the files, and
    no cache file is written from a partial decode.
    """
    if not paths:
        return torch.zeros(0, 3, size or 1, size or 1, dtype=torch.uint8)
    digest = hashlib.sha256()
    for p in paths:
        st = p.stat()
        digest.update(f"{p}|{st.st_size}|{int(st.st_mtime)}".encode())
    digest.update(f"size={size}|code={code_version.fingerprint(('image_trees.py',), code_version.PACKAGE)}".encode())
    if crop is not None:
        digest.update(f"crop={crop}".encode())
    cached = cache_dir() / f"images-{digest.hexdigest()[:16]}.pt"
    if cached.exists():
        return torch.load(cached, weights_only=True)
    arrays, bad = [], []
    for i, p in enumerate(paths):
        try:
            image = _decode(p, size)
            arrays.extend([image] if crop is None else _crops(image, crop, i))
        except DECODE_ERRORS as e:
            bad.append((p, unreadable_reason(e)))
    if bad:
        raise _unreadable_error(bad, paths)
    if not arrays:  # every image smaller than the crop
        raise DataMissingError(f"no image under {paths[0].parent.parent} is at least {crop[0]} px "
                               "on its shorter side: lower data.crop")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DataMissingError(
            f"images under {paths[0].parent.parent} differ in size {sorted(shapes)[:3]}: "
            "set data.image_size to resize them"
        )
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    atomic_torch_save(images, cached)
    return images


def read_tree(root: Path, size: int | None, classes: set[str] | None = None,
              crop: tuple[int, int] | None = None) -> tuple[Tensor, Tensor]:
    """An image tree -> (train, test) uint8 tensors (either may be empty). With `crop`
    (side, train_crops): native resolution, `train_crops` random crops per training image
    and the centre crop of each test image (`_crops`)."""
    out = []
    for split in ("train", "test"):
        paths = _list_images(root / split)
        if classes is not None:
            paths = [p for p in paths if p.parent.name.lower() in classes]
        spec = None if crop is None else (crop[0], crop[1] if split == "train" else 0, 0)
        out.append(decode_all(paths, size, spec))
    return out[0], out[1]


def read_photo_tree(root: Path, crop: tuple[int, int], val: float,
                    seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """An image tree of photos at native resolution -> (train, val, test) uint8 tensors, the
    validation photos held out whole: `val` of the training photos (a count, or a fraction),
    drawn with `seed`, give their centre crop (as the test photos do) and no training crop,
    so no pixel of a photo that chooses anything is trained on. `crop` = (side, train_crops)
    as in `read_tree`."""
    paths = _list_images(root / "train")
    n_val = val if isinstance(val, int) else round(len(paths) * val)
    perm = torch.randperm(len(paths), generator=torch.Generator().manual_seed(seed)).tolist()
    held, kept = sorted(perm[:n_val]), sorted(perm[n_val:])
    side, count = crop
    return (decode_all([paths[i] for i in kept], None, (side, count, 0)),
            decode_all([paths[i] for i in held], None, (side, 0, 0)),
            decode_all(_list_images(root / "test"), None, (side, 0, 0)))


def is_tree(root: Path) -> bool:
    return (root / "train").is_dir() or (root / "test").is_dir()
