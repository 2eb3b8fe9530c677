"""The path a user with a network takes: torchvision's own on-disk formats and its downloads.

Tiny datasets are written in the real formats (CIFAR-10's pickled batches, Oxford-IIIT
Pet's images and annotation lists, STL-10's binaries) and read through the project's
loaders, torchvision's md5 lists patched to the tiny files' sums. A local HTTP server
stands in for the download hosts.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import socket
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.datasets import CIFAR10, STL10, OxfordIIITPet

from inpaint_lib import data
from inpaint_lib.image_trees import DataMissingError
from inpaint_lib.schema import DataConfig

CIFAR_BATCH, CIFAR_TEST = 6, 10  # images per training batch (5 of them) and in test_batch
PET_BREEDS = {"Abyssinian": (5, 3), "beagle": (7, 5)}  # breed -> (trainval, test) images
STL_TRAIN, STL_TEST = 5, 20


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def colour(i: int) -> tuple[int, int, int]:
    """A distinct solid colour per image, so that a loaded image says which file it was."""
    return (i * 7 % 256, i * 13 % 256, 255 - i * 5 % 256)


# ------------------------------------------------------------------ the formats
def write_cifar(root: Path) -> dict[str, object]:
    """root/cifar-10-batches-py in CIFAR-10's format; returns the md5 lists to patch in."""
    folder = root / CIFAR10.base_folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def batch(name: str, n: int, first_label: int) -> list[str]:
        rows = rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8)  # R plane, G, B; row-major
        labels = [(first_label + i) % 10 for i in range(n)]
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "labels": labels, "data": rows,
                         "filenames": [f"{name}_{i}.png" for i in range(n)]}, f)
        return [name, md5(folder / name)]

    train_list = [batch(f"data_batch_{k}", CIFAR_BATCH, k) for k in range(1, 6)]
    test_list = [batch("test_batch", CIFAR_TEST, 0)]
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": names, "num_cases_per_batch": CIFAR_BATCH}, f)
    meta = {"filename": "batches.meta", "key": "label_names", "md5": md5(folder / "batches.meta")}
    return {"train_list": train_list, "test_list": test_list, "meta": meta}


def write_pet(root: Path) -> None:
    """root/oxford-iiit-pet: images/*.jpg, annotations/trimaps/*.png, {trainval,test}.txt."""
    base = root / "oxford-iiit-pet"
    (base / "images").mkdir(parents=True)
    (base / "annotations" / "trimaps").mkdir(parents=True)
    lists: dict[str, list[str]] = {"trainval": [], "test": []}
    i = 0
    for label, (breed, counts) in enumerate(PET_BREEDS.items(), start=1):
        species = 1 if breed[0].isupper() else 2  # cats are capitalised, dogs not
        for split, n in zip(("trainval", "test"), counts):
            for _ in range(n):
                i += 1
                name = f"{breed}_{i}"
                Image.new("RGB", (40 + i, 30), colour(i)).save(base / "images" / f"{name}.jpg",
                                                                 quality=100)
                Image.new("L", (40 + i, 30), 2).save(base / "annotations" / "trimaps" / f"{name}.png")
                lists[split].append(f"{name} {label} {species} {i}")
    for split, lines in lists.items():
        (base / "annotations" / f"{split}.txt").write_text("\n".join(lines) + "\n")


def stl_images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3, 96, 96), dtype=np.uint8)


def write_stl(root: Path) -> dict[str, object]:
    """root/stl10_binary in STL-10's format (column-major 96x96 planes, labels 1..10)."""
    folder = root / STL10.base_folder
    folder.mkdir(parents=True)

    def pair(prefix: str, n: int, seed: int) -> list[list[str]]:
        # the file stores each plane transposed (column-major); torchvision transposes back
        stl_images(n, seed).transpose(0, 1, 3, 2).tofile(folder / f"{prefix}_X.bin")
        (np.arange(n, dtype=np.uint8) % 10 + 1).tofile(folder / f"{prefix}_y.bin")
        return [[f"{prefix}_{s}.bin", md5(folder / f"{prefix}_{s}.bin")] for s in ("X", "y")]

    train_list = pair("train", STL_TRAIN, 1)
    stl_images(2, 3).tofile(folder / "unlabeled_X.bin")
    train_list.append(["unlabeled_X.bin", md5(folder / "unlabeled_X.bin")])
    test_list = pair("test", STL_TEST, 2)
    (folder / "class_names.txt").write_text("airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\n"
                                            "ship\ntruck\n")
    (folder / "fold_indices.txt").write_text(" ".join(map(str, range(STL_TRAIN))) + "\n" * 10)
    return {"train_list": train_list, "test_list": test_list}


def patch_md5s(monkeypatch: pytest.MonkeyPatch, cls: type, sums: dict[str, object]) -> None:
    for attr, value in sums.items():
        monkeypatch.setattr(cls, attr, value)


# ------------------------------------------------------ reading the formats
def test_cifar10_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_md5s(monkeypatch, CIFAR10, write_cifar(data.data_dir()))
    splits = data.load(DataConfig(dataset="cifar10", val_size=3, download=False))
    assert splits.sizes() == {"train": 5 * CIFAR_BATCH - 3, "val": 3, "test": CIFAR_TEST}
    assert splits.source.startswith("torchvision CIFAR10") and splits.image_size == 32
    with open(data.data_dir() / CIFAR10.base_folder / "test_batch", "rb") as f:
        rows = pickle.load(f)["data"]
    assert torch.equal(splits.test, torch.from_numpy(rows.reshape(-1, 3, 32, 32)))  # order kept
    ships = data.load(DataConfig(dataset="cifar10_ship", val_size=0, download=False))
    # labels cycle from k in batch k (test from 0): ship (8) once per batch of 6 starting at
    # 3, 4, 5, 6, 7 (batch 3..5 hit 8), and once in the test batch of 10
    assert ships.sizes() == {"train": 3, "val": 0, "test": 1}
    assert torch.equal(ships.test[0], torch.from_numpy(rows[8].reshape(3, 32, 32)))


@pytest.mark.parametrize("damage", ["a batch missing", "a batch truncated", "a pet image missing"])
def test_damaged_torchvision_folder_is_one_line(damage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = data.data_dir()
    patch_md5s(monkeypatch, CIFAR10, write_cifar(root))
    write_pet(root)
    batch = root / CIFAR10.base_folder / "data_batch_3"
    if damage == "a batch missing":
        batch.unlink()
    elif damage == "a batch truncated":
        batch.write_bytes(batch.read_bytes()[:100])
    else:
        next((root / "oxford-iiit-pet" / "images").glob("beagle_*.jpg")).unlink()
    dataset = "oxford_pet" if "pet" in damage else "cifar10"
    with pytest.raises(DataMissingError) as e:
        data.load(DataConfig(dataset=dataset, image_size=16, val_size=0, download=False))
    assert "\n" not in str(e.value) and "delete it to download it again" in str(e.value)


def test_oxford_pet_lists_pooled_80_20(monkeypatch: pytest.MonkeyPatch) -> None:
    write_pet(data.data_dir())
    cfg = DataConfig(dataset="oxford_pet", image_size=16, test_fraction=0.2, val_size=0,
                     download=False)
    splits = data.load(cfg)
    total = sum(a + b for a, b in PET_BREEDS.values())
    assert splits.sizes() == {"train": total - round(total * 0.2), "val": 0,
                              "test": round(total * 0.2)}
    assert splits.source.startswith("torchvision OxfordIIITPet") and splits.image_size == 16
    # every listed image once, trainval and test pooled (identified by their colour)
    seen = sorted(tuple(int(v) for v in img[:, 8, 8]) for img in torch.cat([splits.train,
                                                                              splits.test]))
    want = sorted(colour(i) for i in range(1, total + 1))
    assert len(seen) == total
    assert all(max(abs(a - b) for a, b in zip(s, w)) <= 3 for s, w in zip(seen, want))  # JPEG
    # the split is seeded: the same images on every load, another split_seed another split
    again = data.load(cfg)
    assert torch.equal(again.test, splits.test)
    other = data.load(cfg.model_copy(update={"split_seed": 1}))
    assert not torch.equal(other.test, splits.test)


def test_stl10_binaries(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_md5s(monkeypatch, STL10, write_stl(data.data_dir()))
    stl = data.load(DataConfig(dataset="stl10", val_size=0, download=False))
    assert stl.sizes() == {"train": STL_TRAIN, "val": 0, "test": STL_TEST}
    assert stl.source.startswith("torchvision STL10") and stl.image_size == 96
    assert torch.equal(stl.test, torch.from_numpy(stl_images(STL_TEST, 2)))  # orientation
    # the ship class of the test split: labels 1..10 on file, ship is 9 (8 after torchvision's -1)
    ships = data.load(DataConfig(dataset="ships", val_size=0, image_size=48, download=False))
    assert ships.sizes() == {"train": 0, "val": 0, "test": STL_TEST // 10}
    assert ships.image_size == 48 and ships.name == "STL-10 ship class (test split)"


# ------------------------------------------------------------------ downloads
class Host:
    """A local HTTP server standing in for the download hosts: serves `files` by name;
    a name in `drop` gets its headers and half its body, then the connection closes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.drop: set[str] = set()
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                host.requests.append(name)
                body = host.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if name in host.drop:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    h = Host()
    yield h
    h.close()


def tar_gz(folder: Path, arcname: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return buf.getvalue()


def serve_cifar(host: Host, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The CIFAR-10 archive on the host, torchvision pointed at it; returns its md5."""
    src = tmp_path / "upstream"
    patch_md5s(monkeypatch, CIFAR10, write_cifar(src))
    body = tar_gz(src / CIFAR10.base_folder, CIFAR10.base_folder)
    host.files[CIFAR10.filename] = body
    monkeypatch.setattr(CIFAR10, "url", host.url(CIFAR10.filename))
    checksum = hashlib.md5(body).hexdigest()
    monkeypatch.setattr(CIFAR10, "tgz_md5", checksum)
    return checksum


def serve_pet(host: Host, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    src = tmp_path / "upstream"
    write_pet(src)
    resources = []
    for part in ("images", "annotations"):
        body = tar_gz(src / "oxford-iiit-pet" / part, part)
        host.files[f"{part}.tar.gz"] = body
        resources.append((host.url(f"{part}.tar.gz"), hashlib.md5(body).hexdigest()))
    monkeypatch.setattr(OxfordIIITPet, "_RESOURCES", tuple(resources))


def left_in_data_dir() -> list[str]:
    root = data.data_dir()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_download_fetches_verifies_and_loads(host: Host, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    serve_cifar(host, monkeypatch, tmp_path)
    splits = data.load(DataConfig(dataset="cifar10", val_size=3, download=True))
    assert splits.sizes() == {"train": 5 * CIFAR_BATCH - 3, "val": 3, "test": CIFAR_TEST}
    assert CIFAR10.filename in host.requests
    # torchvision's folder is in place, verified, with nothing else left in the data dir
    assert (data.data_dir() / CIFAR10.base_folder / "test_batch").exists()
    assert {p.split("/")[0] for p in left_in_data_dir()} == {CIFAR10.base_folder}
    # found on disk from now on: no second download
    n = len(host.requests)
    assert torch.equal(data.load(DataConfig(dataset="cifar10", val_size=3)).test, splits.test)
    assert len(host.requests) == n

    serve_pet(host, monkeypatch, tmp_path)
    pets = data.load(DataConfig(dataset="oxford_pet", image_size=16, test_fraction=0.2,
                                val_size=0, download=True))
    assert len(pets.train) + len(pets.test) == sum(a + b for a, b in PET_BREEDS.values())
    assert {"images.tar.gz", "annotations.tar.gz"} <= set(host.requests)


@pytest.mark.parametrize("failure", ["bad checksum", "dropped connection"])
def test_failed_download_is_one_line_and_leaves_nothing(
        failure: str, host: Host, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    serve_cifar(host, monkeypatch, tmp_path)
    if failure == "bad checksum":
        monkeypatch.setattr(CIFAR10, "tgz_md5", "0" * 32)
    else:
        host.drop.add(CIFAR10.filename)
    with pytest.raises(DataMissingError) as e:
        data.load(DataConfig(dataset="cifar10", val_size=3, download=True))
    message = str(e.value)
    assert "\n" not in message and "CIFAR-10" in message and "download failed" in message
    assert CIFAR10.filename in host.requests
    assert left_in_data_dir() == []
    # Pet: the first archive arrives and is extracted, the second fails -> no half a dataset
    serve_pet(host, monkeypatch, tmp_path)
    if failure == "bad checksum":
        images, (annotations_url, _) = OxfordIIITPet._RESOURCES
        monkeypatch.setattr(OxfordIIITPet, "_RESOURCES", (images, (annotations_url, "0" * 32)))
    else:
        host.drop.add("annotations.tar.gz")
    with pytest.raises(DataMissingError) as e:
        data.load(DataConfig(dataset="oxford_pet", image_size=16, test_fraction=0.2,
                             val_size=0, download=True))
    assert "\n" not in str(e.value) and "Oxford-IIIT Pet" in str(e.value)
    assert left_in_data_dir() == []
    # and once the host is right again, the same call downloads and loads
    host.drop.clear()
    serve_cifar(host, monkeypatch, tmp_path / "again")
    assert len(data.load(DataConfig(dataset="cifar10", val_size=3)).test) == CIFAR_TEST
