"""Datasets as in-memory uint8 tensors, split with a fixed seed.

Sources, resolved under the data directory ($INPAINT_DATA_DIR, default ./data):
- ``cifar10``: torchvision's ``cifar-10-batches-py``, else an image tree
  ``cifar10/`` (train/<class>/*, test/<class>/*), else a download when allowed.
- ``oxford_pet``: torchvision's ``oxford-iiit-pet`` (trainval + test pooled),
  else an image tree ``oxford-pet/``, else a download.
- ``ships``: STL-10's ``ship`` class (``stl10_binary``), else an image tree
  ``ships/`` or ``boats/``, else a download. ``cifar10_ship``: CIFAR-10's test ships.
- ``folder``: any image tree at ``root`` (bring your own images).
- ``synthetic``: generated shapes, for the smoke profile only (labelled as such).

Image trees (a ``LABEL`` file naming the set, the decode cache, unreadable files) are
read by `image_trees`. Missing data is a `DataMissingError` whose one line says where
to put the files.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from .image_trees import (
    DataMissingError,
    decode_all,
    is_tree,
    read_photo_tree,
    read_tree,
    tree_label,
)
from .paths import REPO_ROOT
from .schema import DataConfig

CIFAR10_SHIP, STL10_SHIP = 8, 8
DATASET_NAMES = {"cifar10": "CIFAR-10", "oxford_pet": "Oxford-IIIT Pet", "ships": "STL-10's ships",
                 "stl10": "STL-10", "cifar10_ship": "CIFAR-10's ships"}


class HeldOut(NamedTuple):
    """A dataset's training images and the validation images it held out itself (whole
    photos, `image_trees.read_photo_tree`), so `split` carves no validation from them."""

    train: Tensor
    val: Tensor


@dataclass(frozen=True)
class Splits:
    train: Tensor  # (N_train, 3, H, W) uint8
    val: Tensor  # (N_val, 3, H, W) uint8, possibly empty
    test: Tensor  # (N_test, 3, H, W) uint8
    name: str  # how the report names the set, e.g. "CIFAR-10 (JPEG copy)"
    source: str  # where it was read from
    fingerprint: str  # identifies the exact images (part of every run's key)

    @property
    def image_size(self) -> int:
        return int(self.test.shape[-1])

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def data_dir() -> Path:
    return Path(os.environ.get("INPAINT_DATA_DIR", REPO_ROOT / "data")).expanduser()


# -------------------------------------------------------------------- sources
@dataclass(frozen=True)
class SharedArchive:
    """An archive of ../shared/data that `make shared-data` (``unpack-shared``) unpacks."""

    name: str  # the archive's file name
    tree: str  # the image tree of the data directory it becomes (one of its source's trees)
    label: str  # the tree's LABEL, from shared/data/README.md


@dataclass(frozen=True)
class Source:
    """Where a dataset is found: torchvision's folder in the data directory, then image trees."""

    what: str  # its name in messages, e.g. "CIFAR-10"
    official: str  # torchvision's folder in the data directory
    trees: tuple[str, ...]  # image trees train/<class>/*, test/<class>/* tried in this order
    url: str  # what torchvision downloads (the preflight probes its host)
    archive: SharedArchive | None = None  # its offline copy in ../shared/data, if any


SOURCES: dict[str, Source] = {
    "cifar10": Source("CIFAR-10", "cifar-10-batches-py", ("cifar10",),
                      "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                      SharedArchive("cifar10-jpeg.tar.gz", "cifar10", "CIFAR-10 (JPEG copy)")),
    "oxford_pet": Source("Oxford-IIIT Pet", "oxford-iiit-pet", ("oxford-pet", "oxford_pet"),
                         "https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz",
                         SharedArchive("oxford-pet-subset.tar.gz", "oxford-pet",
                                       "Oxford-IIIT Pet (2,890-image subset)")),
    "ships": Source("ship photos (STL-10's ship class, or a ships/boats image tree)", "stl10_binary",
                    ("ships", "boats"), "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
                    SharedArchive("boats.tar.gz", "boats", "boat photos (1,089, web-scraped)")),
    "stl10": Source("STL-10", "stl10_binary", ("stl10",),
                    "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"),
}
SOURCES["cifar10_ship"] = SOURCES["cifar10"]
# every archive of ../shared/data once, in SOURCES' order
SHARED_ARCHIVES: list[SharedArchive] = list(dict.fromkeys(
    src.archive for src in SOURCES.values() if src.archive is not None))


def candidate_paths(dataset: str) -> tuple[Path, list[Path]]:
    """(torchvision's folder, the image trees) where `dataset` is looked for, in order."""
    root, src = data_dir(), SOURCES[dataset]
    trees = [root / t for t in src.trees]
    if dataset.startswith("cifar10") and (root / "train" / "airplane").is_dir():
        trees.append(root)  # a CIFAR-10 tree unpacked straight into the data directory
    return root / src.official, trees


def on_disk(dataset: str, usable: Callable[[Path], bool] = is_tree) -> Path | None:
    """Where `dataset` is on disk, nothing downloaded: torchvision's folder if it is there,
    else the first image tree (`candidate_paths`' order) that `usable` accepts, else None.
    The loaders take any tree with train/ or test/; the preflight asks for images in them."""
    official, trees = candidate_paths(dataset)
    if official.is_dir():
        return official
    return next((tree for tree in trees if usable(tree)), None)


# ----------------------------------------------------------- torchvision sets
def _try_download(dataset: str, fn: Callable[[Path], object]) -> None:
    """Download `dataset` with torchvision into a hidden temporary folder of the data
    directory (`fn(tmp)`: torchvision fetches, checks the md5 and extracts there); only a
    complete, verified download is moved into place as torchvision's folder. A bad
    checksum, a dropped connection or an interrupt leaves nothing behind; the error is one
    `DataMissingError` line."""
    import shutil
    import tempfile

    root, src = data_dir(), SOURCES[dataset]
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".download-{src.official}-", dir=root))
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)
    try:
        fn(tmp)
        try:
            (tmp / src.official).rename(root / src.official)
        except OSError:
            if not (root / src.official).is_dir():  # else: another process finished first
                raise
    except Exception as e:  # noqa: BLE001 - network errors vary widely: one line for all
        raise DataMissingError(
            f"{src.what}: not found under {root} and the download failed ({_short(e)})"
        ) from None
    finally:
        socket.setdefaulttimeout(old)
        shutil.rmtree(tmp, ignore_errors=True)


def _short(e: BaseException) -> str:
    return f"{type(e).__name__}: {' '.join(str(e).split())[:120]}"


@contextmanager
def _reading_official(dataset: str) -> Iterator[None]:
    """Reading torchvision's folder: one that is incomplete or fails torchvision's md5
    check (an interrupted copy, a truncated file) is one `DataMissingError` line."""
    try:
        yield
    except DataMissingError:
        raise
    except (RuntimeError, OSError, ValueError) as e:
        src = SOURCES[dataset]
        raise DataMissingError(
            f"{src.what}: {data_dir() / src.official} is incomplete or corrupted ({_short(e)}); "
            f"delete it to download it again"
        ) from None


def _missing(what: str, hint: str) -> DataMissingError:
    return DataMissingError(f"{what} not found: {hint} (INPAINT_DATA_DIR={data_dir()})")


def _resize(images: Tensor, size: int | None) -> Tensor:
    """images: (N, 3, H, W) uint8 -> (N, 3, size, size) uint8 (antialiased)."""
    if size is None or images.shape[-1] == size:
        return images
    out = torch.nn.functional.interpolate(images.float(), size=(size, size), mode="bilinear",
                                          antialias=True, align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8)


def _locate(cfg: DataConfig, download: Callable[[Path], object]) -> Path | None:
    """The image tree to read, or None to read torchvision's files (downloaded if allowed).

    Order (`on_disk`): torchvision's own folder, then the first image tree that holds
    train/ or test/, then a download (`download(root)` fetches into `root`), else a
    one-line DataMissingError.
    """
    found = on_disk(cfg.dataset)
    if found is not None:
        return None if found == candidate_paths(cfg.dataset)[0] else found
    src = SOURCES[cfg.dataset]
    if not cfg.download:
        raise _missing(src.what, f"put torchvision's {src.official} or an image tree "
                                 f"{src.trees[0]}/{{train,test}}/<class>/* in the data directory")
    _try_download(cfg.dataset, download)
    return None


def _from_tree(tree: Path, size: int | None, what: str, classes: set[str] | None = None,
               crop: tuple[int, int] | None = None) -> tuple[Tensor, Tensor, str, str]:
    """A dataset's train and test images from its image tree, named by the tree's LABEL
    (with `crop` = (side, train_crops): native-resolution crops, `image_trees.read_tree`)."""
    train, test = read_tree(tree, size, classes, crop)
    return train, test, tree_label(tree, f"{what} (image folder)"), f"image tree {tree}"


def _cifar10(cfg: DataConfig, ships_only: bool = False) -> tuple[Tensor, Tensor, str, str]:
    from torchvision.datasets import CIFAR10

    root = data_dir()
    tree = _locate(cfg, lambda r: CIFAR10(r, train=True, download=True))
    if tree is not None:
        return _from_tree(tree, cfg.image_size, "CIFAR-10", {"ship"} if ships_only else None)
    tensors = []
    for train in (True, False):
        with _reading_official("cifar10"):
            ds = CIFAR10(root, train=train, download=False)
        x = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
        if ships_only:
            x = x[torch.tensor(ds.targets) == CIFAR10_SHIP]
        tensors.append(x)
    return tensors[0], tensors[1], "CIFAR-10", f"torchvision CIFAR10 at {root}"


def _oxford_pet(cfg: DataConfig) -> tuple[Tensor, Tensor, str, str]:
    from torchvision.datasets import OxfordIIITPet

    root, size = data_dir(), (None if cfg.crop else cfg.image_size or 224)
    tree = _locate(cfg, lambda r: [OxfordIIITPet(r, split=s, download=True)
                                   for s in ("trainval", "test")])
    if tree is not None and cfg.crop and cfg.val_size:
        # crops of a photo must not be split between training and validation: the
        # validation photos are held out whole (`image_trees.read_photo_tree`)
        train, val, test = read_photo_tree(tree, (cfg.crop, cfg.train_crops), cfg.val_size,
                                           cfg.split_seed)
        return HeldOut(train, val), test, tree_label(tree, "Oxford-IIIT Pet (image folder)"), \
            f"image tree {tree}"
    if tree is not None:
        return _from_tree(tree, size, "Oxford-IIIT Pet",
                          crop=(cfg.crop, cfg.train_crops) if cfg.crop else None)
    if cfg.crop:
        raise _missing("Oxford-IIIT Pet as an image tree", "native-resolution crops (data.crop) "
                       "read the image tree oxford-pet/{train,test}/<breed>/*")
    parts = []
    for split_name in ("trainval", "test"):
        with _reading_official("oxford_pet"):
            ds = OxfordIIITPet(root, split=split_name, download=False)
            parts.append(decode_all([Path(p) for p in ds._images], size))
    return parts[0], parts[1], "Oxford-IIIT Pet", f"torchvision OxfordIIITPet at {root}"


def _ships(cfg: DataConfig) -> tuple[Tensor, Tensor, str, str]:
    from torchvision.datasets import STL10

    root = data_dir()
    tree = _locate(cfg, lambda r: STL10(r, split="test", download=True))
    if tree is not None:
        return _from_tree(tree, cfg.image_size, "ship photos")
    with _reading_official("ships"):
        ds = STL10(root, split="test", download=False)
    ships = torch.from_numpy(ds.data[ds.labels == STL10_SHIP]).contiguous()
    name = "STL-10 ship class (test split)"
    return ships[:0], _resize(ships, cfg.image_size), name, f"torchvision STL10 at {root}"


def _stl10(cfg: DataConfig) -> tuple[Tensor, Tensor, str, str]:
    """STL-10's labelled train (5,000) and test (8,000) images, 96x96 (study section 4.1)."""
    from torchvision.datasets import STL10

    root = data_dir()
    tree = _locate(cfg, lambda r: STL10(r, split="train", download=True))
    if tree is not None:
        return _from_tree(tree, cfg.image_size, "STL-10")
    with _reading_official("stl10"):
        parts = [torch.from_numpy(STL10(root, split=s, download=False).data).contiguous()
                 for s in ("train", "test")]
    return parts[0], parts[1], "STL-10", f"torchvision STL10 at {root}"


def synthetic_images(n: int, size: int, seed: int) -> Tensor:
    """(n, 3, size, size) uint8 of smooth gradients and random rectangles (smoke tests)."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    c0, c1 = torch.rand(n, 3, 1, 1, generator=g), torch.rand(n, 3, 1, 1, generator=g)
    angle = torch.rand(n, 1, 1, 1, generator=g) * 6.283
    t = (torch.cos(angle) * xx + torch.sin(angle) * yy + 1.5) / 3
    imgs = c0 * (1 - t) + c1 * t
    for _ in range(3):
        lo = torch.randint(0, size // 2, (n, 2), generator=g)
        hi = lo + torch.randint(size // 6, size // 2 + 1, (n, 2), generator=g)
        inside = ((yy >= lo[:, 0, None, None] / size) & (yy < hi[:, 0, None, None] / size)
                  & (xx >= lo[:, 1, None, None] / size) & (xx < hi[:, 1, None, None] / size))
        colour = torch.rand(n, 3, 1, 1, generator=g)
        imgs = torch.where(inside[:, None], colour, imgs)
    return (imgs * 255).round().to(torch.uint8)


# ---------------------------------------------------------------------- splits
def _take(x: Tensor, n: int | None) -> Tensor:
    return x if n is None else x[:n]


def split(train_pool: Tensor, test: Tensor, cfg: DataConfig) -> tuple[Tensor, Tensor, Tensor]:
    """Seeded split: optional pool-and-resplit for test, then val carved from train."""
    g = torch.Generator().manual_seed(cfg.split_seed)
    if cfg.test_fraction is not None:
        pool = torch.cat([train_pool, test])
        perm = torch.randperm(len(pool), generator=g)
        n_test = round(len(pool) * cfg.test_fraction)
        test, train_pool = pool[perm[:n_test]], pool[perm[n_test:]]
    perm = torch.randperm(len(train_pool), generator=g)
    n_val = cfg.val_size if isinstance(cfg.val_size, int) else round(len(train_pool) * cfg.val_size)
    val, train = train_pool[perm[:n_val]], train_pool[perm[n_val:]]
    return (_take(train, cfg.subset.train), _take(val, cfg.subset.val), _take(test, cfg.subset.test))


def load(cfg: DataConfig) -> Splits:
    """Load and split a dataset as configured (real data unless dataset is synthetic); when
    it is missing and `cfg.fallback` is set, the fallback, named as standing in for it."""
    try:
        return _load(cfg)
    except DataMissingError:
        if cfg.fallback is None:
            raise
    stand_in = _load(cfg.fallback)
    name = (f"{stand_in.name} at {stand_in.image_size} px, standing in for "
            f"{DATASET_NAMES.get(cfg.dataset, cfg.dataset)}, which is not on this machine")
    return Splits(stand_in.train, stand_in.val, stand_in.test, name, stand_in.source,
                  stand_in.fingerprint)


def _load(cfg: DataConfig) -> Splits:
    if cfg.dataset == "cifar10":
        train, test, name, source = _cifar10(cfg)
    elif cfg.dataset == "cifar10_ship":
        train, test, name, source = _cifar10(cfg, ships_only=True)
        name += " ship class"
    elif cfg.dataset == "oxford_pet":
        train, test, name, source = _oxford_pet(cfg)
    elif cfg.dataset == "ships":
        train, test, name, source = _ships(cfg)
    elif cfg.dataset == "stl10":
        train, test, name, source = _stl10(cfg)
    elif cfg.dataset == "folder":
        root = Path(cfg.root or "").expanduser()
        if not is_tree(root):
            raise _missing(f"image folder {root}", "expected train/<class>/* and test/<class>/* under it")
        train, test = read_tree(root, cfg.image_size)
        name, source = tree_label(root, f"image folder {root.name}"), f"image tree {root}"
    else:  # synthetic
        size = cfg.crop or cfg.image_size or 32
        pool = synthetic_images(cfg.synthetic_count, size, seed=cfg.split_seed)
        n_test = len(pool) // 5
        train, test = pool[n_test:], pool[:n_test]
        name, source = "synthetic shapes (smoke test, not real images)", "generated"
    if isinstance(train, HeldOut):  # validation photos held out whole: not carved again
        train, val = train
        train, _, test = split(train, test, cfg.model_copy(update={"val_size": 0}))
        val = _take(val, cfg.subset.val)
    else:
        if cfg.image_size is not None:
            train, test = _resize(train, cfg.image_size), _resize(test, cfg.image_size)
        train, val, test = split(train, test, cfg)
    if len(test) == 0:
        raise DataMissingError(f"{name}: no test images found in {source}")
    # the crop fields are left out while unset, so every earlier dataset keeps its fingerprint
    unset = {"crop": True, "train_crops": True}
    exclude = None if cfg.crop is not None else (
        {**unset, "fallback": unset} if cfg.fallback is not None else unset)
    dumped = cfg.model_dump_json(exclude=exclude)
    digest = hashlib.sha256(f"{name}|{dumped}".encode())
    for t in (train, val, test):
        digest.update(str(tuple(t.shape)).encode())
        if len(t):
            digest.update(t[:: max(1, len(t) // 64)].numpy().tobytes())
    return Splits(train, val, test, name, source, digest.hexdigest()[:12])
