"""The photo network shipped with the package: it loads, its hash is checked, a tampered or
mismatched file is refused in one line, and the tool fills a photo with it in a checkout that
has no results/ at all."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_lib import shipped
from inpaint_lib.io import sha256_file
from inpaint_lib.models import build_model
from inpaint_lib.schema import CAEConfig, DataConfig, RunConfig

REPO = Path(__file__).resolve().parents[1]


def test_the_shipped_network_loads_and_matches_its_hash() -> None:
    net = shipped.load()
    assert net is not None, f"nothing shipped in {shipped.SHIPPED_DIR}"
    assert sha256_file(net.weights) == net.card["sha256"]
    assert net.weights.stat().st_size < 8 * 2**20  # a few MB: weights only, no optimiser state
    state = torch.load(net.weights, map_location="cpu", weights_only=True)
    assert set(state) == {"model"}
    # its card says how it was trained and how it fares, every setting with its interval
    prov = net.card["provenance"]
    assert prov["profile"] == "full" and prov["epochs"] >= 40 and prov["training_code"]
    rows = net.card["crossover"]["rows"]
    assert {r["shape"] for r in rows} == {"squares", "strokes", "one box"}
    assert all(r["hole_psnr_low"] <= r["hole_psnr_margin"] <= r["hole_psnr_high"] for r in rows)
    method = net.method(torch.device("cpu"))
    image = torch.rand(1, 3, 45, 70)
    holes = torch.zeros(1, 1, 45, 70, dtype=torch.bool)
    holes[..., 10:30, 20:40] = True
    out = method.predict(torch.where(holes, 0.0, image), holes)
    assert out.shape == image.shape and torch.equal(out[~holes.expand_as(out)],
                                                    image[~holes.expand_as(image)])


def _tiny(folder: Path) -> shipped.ShippedNetwork:
    model = CAEConfig(latent_channels=8, mask_channel=True, fill="relaxed_line", residual=True,
                      composite=True, skips="add", stem=4)
    cfg = RunConfig(data=DataConfig(dataset="synthetic", crop=32), model=model, epochs=1)
    rows = [{"shape": "squares", "setting": "16 px", "width": 16, "hole_width": 16,
             "method": "photo network", "best_classical": "biharmonic", "hole_psnr_margin": 1.0,
             "hole_psnr_low": 0.5, "hole_psnr_high": 1.5}]
    return shipped.write(folder, build_model(model, 32).state_dict(), cfg, 32,
                         {"profile": "smoke", "epochs": 1}, {"rows": rows})


def test_a_tampered_or_mismatched_file_is_refused_in_one_line(tmp_path: Path) -> None:
    net = _tiny(tmp_path / "net")
    net.method(torch.device("cpu"))  # as written: loads
    data = bytearray(net.weights.read_bytes())
    data[-5] ^= 0xFF
    net.weights.write_bytes(bytes(data))
    with pytest.raises(shipped.ShippedNetworkError) as e:
        shipped.load(tmp_path / "net").method(torch.device("cpu"))
    assert "weights.pt: sha256" in str(e.value) and "\n" not in str(e.value)
    # the right hash over weights of another shape: refused by the network its card describes
    other = build_model(CAEConfig(latent_channels=16), 32).state_dict()
    torch.save({"model": other}, net.weights)
    card = shipped.load(tmp_path / "net")
    card.card["sha256"] = sha256_file(net.weights)
    with pytest.raises(shipped.ShippedNetworkError) as e:
        card.method(torch.device("cpu"))
    assert "do not fit the network its card describes" in str(e.value) and "\n" not in str(e.value)


def test_the_tool_fills_a_photo_with_the_shipped_network_in_a_clean_checkout(tmp_path: Path) -> None:
    """A copy of the package alone (no results/, no data, no run cache): the default fills each
    hole by the method the rule gives it from the shipped card (`crossover.plan_holes`; its
    table is over enough photos that at most 8 copies of a hole cannot overturn it, asserted
    below), says so hole by hole with the evidence, and keeps every known pixel."""
    from inpaint_lib import crossover
    from inpaint_lib.baselines import tool_candidates

    root = tmp_path / "clone"
    shutil.copytree(REPO / "inpaint_lib", root / "inpaint_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "params", root / "params")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:160, 0:256]
    photo = (np.stack([yy, xx, (xx + yy) / 2], -1) + rng.normal(0, 8, (160, 256, 3)))
    Image.fromarray(photo.clip(0, 255).astype(np.uint8)).save(tmp_path / "photo.png")
    mask = np.zeros((160, 256), dtype=np.uint8)
    mask[20:44, 30:54] = 255  # one 24 px box
    mask[130:133, 150:200] = 255  # one 3 px line, 50 px long
    Image.fromarray(mask).save(tmp_path / "mask.png")
    done = subprocess.run([sys.executable, "-m", "inpaint_lib", "inpaint", str(tmp_path / "photo.png"),
                           "--mask", str(tmp_path / "mask.png"), "--out", str(tmp_path / "out.png")],
                          cwd=root, capture_output=True, text=True, timeout=300, check=False,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root),
                               "INPAINT_RESULTS_DIR": str(root / "results")})
    assert done.returncode == 0, done.stderr
    assert not (root / "results").exists() or not any((root / "results").rglob("final.pt"))
    assert "photo network: photo-network, shipped" in done.stderr
    # what the rule says from the card alone, hole by hole (the box, then the line)
    card = shipped.load().crossover
    plan = crossover.plan_holes(card, torch.from_numpy(mask > 0), tool_candidates(160 * 256))
    expected = {round(h["width"]): h["method"].replace("photo network", "photo-network")
                for h in plan.holes}
    assert sorted(expected) == [4, 24]  # a 3 px line measures 4 px (twice its inner distance)
    for h in plan.holes:  # 8 copies weigh under 5% of the table: they cannot overturn it
        t = crossover.table_evidence(h["row"], h["classical"])
        floor = crossover.photo_spread(t["se"], t["images"] or card["images"])
        assert crossover.DECOYS_PER_GROUP / floor**2 < 0.05 / t["se"] ** 2
        assert t["low"] > 0 or t["high"] < 0  # and no row of the card is a tie
    # one line for the photo: which method filled how many of its 2 holes, with the evidence
    # from the held-out pets and, where copies of its holes fit, from this photo
    line = next(x for x in done.stderr.splitlines() if x.startswith("photo.png: "))
    found = re.findall(r"(\d+) holes? ([\d-]+) px wide by ([^(]+?) \(", line)
    got = {}
    for count, widths, method in found:
        for w in widths.split("-"):
            got[int(w)] = method
        assert int(count) == len(widths.split("-")) or int(count) == 2
    assert got == expected, line
    assert "on held-out pets" in line and "on this photo" in line
    out = np.asarray(Image.open(tmp_path / "out.png"))
    known = mask == 0
    assert np.array_equal(out[known], np.asarray(Image.open(tmp_path / "photo.png"))[known])
    assert (out[~known] != np.asarray(Image.open(tmp_path / "photo.png"))[~known]).any()
