"""Data: folder trees, seeded splits, in-memory uint8, clear errors when missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from inpaint_lib import data
from inpaint_lib.schema import DataConfig, SubsetConfig

from .conftest import make_tree


def test_cifar_rule_gives_45k_5k_10k() -> None:
    train = torch.zeros(50_000, 3, 1, 1, dtype=torch.uint8)
    test = torch.zeros(10_000, 3, 1, 1, dtype=torch.uint8)
    tr, va, te = data.split(train, test, DataConfig(dataset="cifar10", val_size=0.1))
    assert (len(tr), len(va), len(te)) == (45_000, 5_000, 10_000)


def test_pet_rule_pools_and_splits_80_20() -> None:
    trainval = torch.arange(3680).view(-1, 1, 1, 1).expand(-1, 3, 1, 1)
    test = torch.arange(3680, 7349).view(-1, 1, 1, 1).expand(-1, 3, 1, 1)
    tr, va, te = data.split(trainval, test, DataConfig(dataset="oxford_pet", val_size=0, test_fraction=0.2))
    assert (len(tr), len(va), len(te)) == (5879, 0, 1470)
    ids = torch.cat([tr, te])[:, 0, 0, 0]
    assert ids.unique().numel() == 7349  # a partition: nothing lost or duplicated


def test_split_is_seeded() -> None:
    x = torch.arange(100).view(-1, 1, 1, 1).expand(-1, 3, 1, 1).to(torch.uint8)
    a = data.split(x, x[:10], DataConfig(dataset="cifar10", val_size=0.2, split_seed=1))
    b = data.split(x, x[:10], DataConfig(dataset="cifar10", val_size=0.2, split_seed=1))
    c = data.split(x, x[:10], DataConfig(dataset="cifar10", val_size=0.2, split_seed=2))
    assert torch.equal(a[1], b[1]) and not torch.equal(a[1], c[1])


def test_folder_source_reads_tree_into_uint8_and_caches(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "imgs", {"cat": (12, 3), "dog": (8, 2)}, size=16)
    (root / "LABEL").write_text("my pets\n")
    cfg = DataConfig(dataset="folder", root=str(root), val_size=0.25)
    splits = data.load(cfg)
    assert splits.name == "my pets"
    assert splits.sizes() == {"train": 15, "val": 5, "test": 5}
    assert splits.train.dtype == torch.uint8 and splits.train.shape[1:] == (3, 16, 16)
    cached = list((tmp_path / "cache").glob("images-*.pt"))
    assert len(cached) == 2  # train and test decoded once
    again = data.load(cfg)
    assert torch.equal(again.train, splits.train) and again.fingerprint == splits.fingerprint


def test_folder_source_resizes_and_subsets(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "imgs", {"a": (10, 4)}, size=20)
    cfg = DataConfig(dataset="folder", root=str(root), image_size=8, val_size=0,
                     subset=SubsetConfig(train=6, test=2))
    splits = data.load(cfg)
    assert splits.sizes() == {"train": 6, "val": 0, "test": 2} and splits.image_size == 8


def test_cifar10_image_tree_in_data_dir_is_found(tmp_path: Path) -> None:
    make_tree(tmp_path / "data" / "cifar10", {"airplane": (10, 5), "ship": (10, 5)})
    splits = data.load(DataConfig(dataset="cifar10", val_size=0.1, download=False))
    assert splits.sizes() == {"train": 18, "val": 2, "test": 10}
    ships = data.load(DataConfig(dataset="cifar10_ship", val_size=0, download=False))
    assert len(ships.test) == 5


@pytest.mark.parametrize("dataset, hint", [("cifar10", "cifar-10-batches-py"),
                                           ("oxford_pet", "oxford-iiit-pet"),
                                           ("ships", "stl10_binary")])
def test_missing_dataset_is_one_clear_line(dataset: str, hint: str) -> None:
    with pytest.raises(data.DataMissingError) as err:
        data.load(DataConfig(dataset=dataset, download=False))
    msg = str(err.value)
    assert "\n" not in msg and hint in msg and "INPAINT_DATA_DIR" in msg


def test_missing_folder_root_is_clear(tmp_path: Path) -> None:
    with pytest.raises(data.DataMissingError, match="train/<class>"):
        data.load(DataConfig(dataset="folder", root=str(tmp_path / "nope")))


def test_synthetic_is_deterministic_uint8() -> None:
    a = data.synthetic_images(5, 32, seed=3)
    assert a.dtype == torch.uint8 and a.shape == (5, 3, 32, 32)
    assert torch.equal(a, data.synthetic_images(5, 32, seed=3))


def test_a_missing_dataset_uses_its_named_fallback(tmp_path: Path) -> None:
    make_tree(tmp_path / "data" / "oxford-pet", {"cat": (6, 2), "dog": (6, 2)}, size=40)
    stl = DataConfig(dataset="stl10", download=False, val_size=0)
    with pytest.raises(data.DataMissingError, match="STL-10 not found"):
        data.load(stl)
    pets = DataConfig(dataset="oxford_pet", image_size=24, val_size=0, download=False)
    splits = data.load(stl.model_copy(update={"fallback": pets}))
    assert splits.test.shape == (4, 3, 24, 24) and len(splits.train) == 12
    assert splits.name.endswith("at 24 px, standing in for STL-10, which is not on this machine")
    assert splits.fingerprint == data.load(pets).fingerprint
def _break_tree(root: Path) -> tuple[Path, Path]:
    """A truncated JPEG and a text file named .jpg in root/train (the tree's other files are fine)."""
    good = root / "train" / "cat" / "0000.png"
    truncated = root / "train" / "cat" / "truncated.jpg"
    Image.open(good).convert("RGB").resize((64, 64)).save(truncated, quality=95)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    not_image = root / "train" / "dog" / "notes.jpg"
    not_image.parent.mkdir(parents=True, exist_ok=True)
    not_image.write_text("this is not a picture\n")
    return truncated, not_image


def test_unreadable_images_are_one_line_naming_each_file_and_nothing_is_cached(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "imgs", {"cat": (6, 2)}, size=16)
    truncated, not_image = _break_tree(root)
    cfg = DataConfig(dataset="folder", root=str(root), image_size=16, val_size=0)
    with pytest.raises(data.DataMissingError) as err:
        data.load(cfg)
    msg = str(err.value)
    assert "\n" not in msg
    assert "2 of 8 images" in msg and "cannot be decoded" in msg
    assert "cat/truncated.jpg (image file is truncated" in msg
    assert "dog/notes.jpg (not an image" in msg
    assert "delete or replace them" in msg
    assert not list((tmp_path / "cache").glob("images-*.pt")), "cached from a partial decode"

    truncated.unlink()  # the fix the message gives
    not_image.unlink()
    splits = data.load(cfg)
    assert splits.sizes() == {"train": 6, "val": 0, "test": 2}
    assert len(list((tmp_path / "cache").glob("images-*.pt"))) == 2


def test_many_unreadable_images_are_counted_not_all_named(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "imgs", {"a": (2, 1)}, size=8)
    for i in range(5):
        (root / "test" / "a" / f"bad{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(data.DataMissingError, match=r"5 of 6 images .* and 2 more; delete"):
        data.load(DataConfig(dataset="folder", root=str(root), val_size=0))


def test_each_shared_archive_unpacks_to_a_tree_its_dataset_is_looked_for_in() -> None:
    names = [a.name for a in data.SHARED_ARCHIVES]
    assert names == ["cifar10-jpeg.tar.gz", "oxford-pet-subset.tar.gz", "boats.tar.gz"]
    for src in data.SOURCES.values():
        assert src.archive is None or src.archive.tree in src.trees


def test_validation_photos_are_held_out_whole_from_the_training_crops(tmp_path: Path) -> None:
    """With native-resolution crops, `val_size` holds training photos out whole: their centre
    crops validate, and no training crop comes from them (a crop of a validation photo in
    training would leak the photos every choice is made on)."""
    import numpy as np

    root = make_tree(tmp_path / "data" / "oxford-pet", {"cat": (6, 2), "dog": (6, 2)}, size=20)
    cfg = DataConfig(dataset="oxford_pet", crop=12, train_crops=3, val_size=0.25, download=False)
    splits = data.load(cfg)
    assert splits.sizes() == {"train": 27, "val": 3, "test": 4}  # 9 of 12 photos x 3 crops
    photos = {p: np.asarray(Image.open(p)) for p in sorted((root / "train").rglob("*.png"))}

    def source(crop: torch.Tensor) -> set[Path]:
        c = crop.permute(1, 2, 0).numpy()
        return {p for p, a in photos.items() for y in range(9) for x in range(9)
                if np.array_equal(a[y:y + 12, x:x + 12], c)}

    held = {p for v in splits.val for p in source(v)}
    assert len(held) == 3
    for v, p in zip(splits.val, sorted(held)):  # the centre crop of each held-out photo
        assert np.array_equal(v.permute(1, 2, 0).numpy(), photos[p][4:16, 4:16])
    trained = {p for t in splits.train for p in source(t)}
    assert len(trained) == 9 and not trained & held
    # the same seed holds out the same photos; another seed others
    assert data.load(cfg).fingerprint == splits.fingerprint
    other = data.load(cfg.model_copy(update={"split_seed": 1}))
    assert {p for v in other.val for p in source(v)} != held
