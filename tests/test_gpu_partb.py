"""The GPU Part B command (issue 20) end to end on the CPU at a tiny scale: pack generated
image trees, run the seven phases (smoke profile, one epoch each) and the scoring, check the
files that come back, bring them back with `collect`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from inpaint_lib import gpu_partb
from inpaint_lib.data import synthetic_images
from inpaint_lib.schema import DataConfig

REPO = Path(__file__).resolve().parent.parent


def _tree(root: Path, splits: dict[str, int], seed: int) -> None:
    """An image tree root/<split>/<class>/*.jpg of non-square generated images."""
    for split, n in splits.items():
        imgs = synthetic_images(n, 48, seed + len(split)).permute(0, 2, 3, 1).numpy()
        for i, img in enumerate(imgs):
            folder = root / split / ("cat" if i % 2 else "dog")
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img[:, :40]).save(folder / f"img_{i:03d}.jpg", quality=95)


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    _tree(data / "oxford-pet", {"train": 24, "test": 8}, 0)
    _tree(data / "boats", {"test": 10}, 5)
    (data / "oxford-pet" / "LABEL").write_text("generated pets\n")
    dest = tmp_path_factory.mktemp("pack")
    info = gpu_partb.pack(dest, size=32, ood_size=32, quality=90, data=data, commit="abc1234")
    assert info["sets"]["pets"]["images"] == 32 and info["sets"]["boats"]["images"] == 10
    assert "JPEG quality 90" in info["sets"]["pets"]["label"]
    return dest


@pytest.fixture(scope="module")
def ran(packed: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out, work = tmp_path_factory.mktemp("out"), tmp_path_factory.mktemp("work")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    env.pop("INPAINT_OVERRIDES", None)
    argv = ["gpu-partb", "run", "--out", str(out), "--pack", str(packed), "--profile", "smoke",
            "--epoch-scale", "0.0025", "--device", "cpu", "--work", str(work)]
    # the GPU machine has no papermill, Jupyter or IPython (and no pydantic unless carried):
    # the command must not import them
    blocked = ("papermill", "nbformat", "nbconvert", "nbclient", "IPython", "jupyter_client",
               "ipykernel")
    code = (f"import sys\nclass Block:\n def find_spec(self, name, path=None, target=None):\n"
            f"  if name.split('.')[0] in {blocked!r}: raise ImportError('not on the GPU machine: '"
            f" + name)\nsys.meta_path.insert(0, Block())\n"
            f"from inpaint_lib.__main__ import main\nsys.exit(main({argv!r}))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stdout


def test_pack_keeps_the_split_of_the_shared_tree(packed: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The packed tree loads through the normal loader into the same split as the tree it was
    packed from: the same images in the same places, up to the JPEG re-encoding."""
    from inpaint_lib import data

    monkeypatch.setenv("INPAINT_CACHE_DIR", str(tmp_path / "cache"))
    cfg = DataConfig(dataset="oxford_pet", image_size=32, test_fraction=0.2, val_size=0,
                     download=False)
    original = Path(json.loads((packed / "pack.json").read_text())["sets"]["pets"]["from"]).parent
    monkeypatch.setenv("INPAINT_DATA_DIR", str(original))
    before = data.load(cfg)
    gpu_partb.unpack(packed, tmp_path / "unpacked")
    monkeypatch.setenv("INPAINT_DATA_DIR", str(tmp_path / "unpacked"))
    after = data.load(cfg)
    assert "re-encoded as JPEG quality 90" in after.name
    for a, b in ((before.train, after.train), (before.test, after.test)):
        assert a.shape == b.shape
        # mean absolute difference of every image before to every image after: (N, N);
        # each image is nearest to itself (re-encoding noise), never to another image
        dist = (a.float()[:, None] - b.float()[None]).abs().mean(dim=(2, 3, 4))
        assert torch.equal(dist.argmin(dim=1), torch.arange(len(a)))


def test_a_damaged_pack_is_refused(packed: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "pack.json").write_text((packed / "pack.json").read_text())
    blob = bytearray((packed / "data.tar").read_bytes())
    blob[-2000] ^= 0xFF
    (bad / "data.tar").write_bytes(bytes(blob))
    with pytest.raises(gpu_partb.GpuRunError, match="sha256"):
        gpu_partb.unpack(bad, tmp_path / "x")


def test_a_bad_epoch_scale_is_one_line_before_any_work(packed: Path, tmp_path: Path) -> None:
    with pytest.raises(gpu_partb.GpuRunError, match="--epoch-scale 2.0"):
        gpu_partb.run(tmp_path / "out", packed, 2.0, work=tmp_path / "w")
    assert not (tmp_path / "w").exists()


def test_run_writes_what_the_report_needs_in_at_most_8_files(ran: tuple[Path, str]) -> None:
    out, stdout = ran
    files = sorted(p.name for p in out.iterdir())
    assert len(files) <= gpu_partb.MAX_FILES
    assert set(gpu_partb.OUTPUT_FILES) <= set(files)
    assert "epoch scale 0.0025" in stdout and "done in" in stdout  # its own timing, printed

    man = json.loads((out / "manifest.json").read_text())
    assert man["epoch_scale"] == 0.0025 and man["epochs_trained"] == 7
    assert man["phases_trained"] == 7 and man["stopped_early"] is False
    assert man["pack"]["quality"] == 90 and man["git_commit_packed"] == "abc1234"
    assert man["random_vgg"] and "re-encoded" in man["data"]["pets"]["name"]
    assert set(man["stages"]) >= {"training", "throughput", "scoring", "panels", "total"}
    tp = man["throughput"]
    assert tp["flops_per_step"] > 0 and tp["seconds_per_step"] > 0
    assert 0 < tp["fraction_of_peak_step"]["spec"] < tp["fraction_of_peak_step"]["measured_matmul"]
    assert [p["phase"] for p in man["phases"]] == list(range(1, 8))
    assert all(p["grid"] > 0 for p in man["phases"])  # the patch-grid measure, phases 3 and 4 too

    hist = json.loads((out / "histories.json").read_text())
    assert hist["epoch_scale"] == 0.0025
    assert [len(p["history"]) for p in hist["phases"]] == [1] * 7
    assert [p["epochs"] for p in hist["phases"]] == [[e, e] for e in range(1, 8)]
    assert hist["phases"][2]["caption"].startswith("Figure 19")

    scores = pd.read_csv(out / "scores.csv")
    assert set(scores.set) == {"pets", "boats"} and set(scores.epoch_scale) == {0.0025}
    from inpaint_lib.baselines import CLASSICAL_METHODS
    from inpaint_lib.resolve import load_params

    limits = load_params("params/b8_evaluation.yaml", "smoke").evaluation.classical_images
    assert limits.get("FSR best") == 0  # too slow for Part B: not run, and not in the scores
    methods = {"ViT", *(n for n in CLASSICAL_METHODS if limits.get(n) != 0)}
    assert set(scores.method) == methods
    sizes = scores.groupby(["set", "masks", "method"]).size()
    assert len(sizes) == 2 * 3 * len(methods)
    for s, n in (("pets", man["data"]["pets"]["sizes"]["test"]), ("boats", 10)):  # each method on
        for method in methods:  # every image, or on as many as its limit says
            want = min(n, limits.get(method) or n)
            assert (sizes.loc[(s, slice(None), method)] == want).all(), (s, method)
    assert {"hole_psnr", "hole_mae", "ssim", "grid_pred", "image", "occluded"} <= set(scores)
    paired = pd.DataFrame(man["paired_vs_biharmonic"])
    assert len(paired) == 2 * 3 * 3 and (paired.images > 0).all()
    vit = scores[(scores.method == "ViT") & (scores.set == "pets")].groupby("masks").hole_psnr.mean()
    bih = scores[(scores.method == "biharmonic") & (scores.set == "pets")].groupby("masks").hole_psnr.mean()
    got = paired[(paired.set == "pets") & (paired.metric == "hole_psnr")].set_index("masks").difference
    assert np.allclose(got.loc[vit.index], (vit - bih).values)

    for png in ("phases.png", "generalisation.png"):
        with Image.open(out / png) as im:
            assert im.format == "PNG" and im.size[0] > 100


def test_collect_joins_the_weights(ran: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = ran
    copied = gpu_partb.collect(out, tmp_path / "full-gpu")
    assert "final.pt" in copied and "manifest.json" in copied
    state = torch.load(tmp_path / "full-gpu" / "final.pt", weights_only=True)
    assert "model" in state


def test_weights_cut_into_shards_join_back(tmp_path: Path) -> None:
    buf = io.BytesIO()
    torch.save({"model": {"w": torch.arange(5000.0)}}, buf)
    (tmp_path / "final.pt").write_bytes(buf.getvalue())
    out = tmp_path / "out"
    out.mkdir()
    info = gpu_partb._weights(tmp_path / "final.pt", out, shard_bytes=4096)
    assert len(info["shards"]) == -(-len(buf.getvalue()) // 4096) > 1
    assert max((out / s).stat().st_size for s in info["shards"]) <= 4096
    (out / "manifest.json").write_text(json.dumps({"weights": info}))
    gpu_partb.collect(out, tmp_path / "back")
    assert torch.equal(torch.load(tmp_path / "back" / "final.pt", weights_only=True)["model"]["w"],
                       torch.arange(5000.0))
    (out / info["shards"][0]).write_bytes(b"x" * 10)
    with pytest.raises(gpu_partb.GpuRunError, match="sha256"):
        gpu_partb.collect(out, tmp_path / "again")


def test_classical_jobs_cover_every_set_and_level_once() -> None:
    for cpus in (1, 2, 3, 5, 16):
        jobs = gpu_partb.classical_jobs(cpus, 3)
        flat = sorted(j for part in jobs for j in part)
        assert flat == sorted((s, i) for s in ("pets", "boats") for i in range(3))
        assert len(jobs) == max(1, min(6, cpus - 2))


def test_training_stops_after_the_phase_past_which_the_rest_would_not_fit() -> None:
    assert not gpu_partb.stop_now(100.0, 1.6, 100, 90.0, 540.0)  # 100 + 160 + 90 = 350
    assert gpu_partb.stop_now(300.0, 1.6, 100, 90.0, 540.0)  # 300 + 160 + 90 = 550
    assert not gpu_partb.stop_now(600.0, 1.6, 0, 90.0, 540.0)  # nothing left to stop


def test_the_phases_are_the_seven_of_the_study_in_order() -> None:
    phases = gpu_partb.phase_files()
    assert [p.phase for p in phases] == list(range(1, 8))
    assert [p.train["epochs"] for p in phases][::3] == [[1, 20], [136, 200], [351, 400]]
