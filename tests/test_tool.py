"""The inpaint command: your own images, masks and methods; one-line errors; nothing half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_lib.__main__ import main
from inpaint_lib.io import atomic_torch_save, atomic_write_json
from inpaint_lib.methods import Method
from inpaint_lib.models import build_model
from inpaint_lib.schema import CAEConfig, DataConfig, RunConfig, ViTConfig
from inpaint_lib.tool import command as tool


def _photo(path: Path, h: int = 45, w: int = 61, seed: int = 0, mode: str = "RGB") -> np.ndarray:
    """A smooth random picture (odd, non-square size by default) saved at `path`."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    arr = np.stack([(xx * 3 + yy) % 256, (yy * 5) % 256, (xx * yy) % 256], axis=2).astype(np.uint8)
    arr = (arr.astype(int) + rng.integers(0, 20, arr.shape)).clip(0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).convert(mode).save(path)
    return arr


def _mask(path: Path, h: int = 45, w: int = 61, box: tuple[int, int, int, int] = (10, 20, 12, 30)) -> np.ndarray:
    """A white rectangle (top, bottom, left, right) on black, saved at `path`; True = missing."""
    m = np.zeros((h, w), dtype=bool)
    t, b, left, r = box
    m[t:b, left:r] = True
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((m * 255).astype(np.uint8)).save(path)
    return m


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _fake_run(results: Path, profile: str, arch: str, notebook: str, name: str, image_size: int) -> Path:
    """An (untrained) network in the run cache, as a notebook would leave it."""
    model_cfg = CAEConfig(latent_channels=8) if arch == "cae" else ViTConfig(
        patch_size=8, dim=16, depth=1, heads=2, mlp_dim=32)
    cfg = RunConfig(data=DataConfig(dataset="synthetic"), model=model_cfg, epochs=3)
    torch.manual_seed(0)
    run_dir = results / profile / "runs" / f"{arch}-{notebook}"
    atomic_write_json(run_dir / "config.json", {"config": cfg.model_dump(mode="json"),
                                                "image_size": image_size, "dataset": "fake set"})
    atomic_torch_save({"model": build_model(model_cfg, image_size).state_dict()}, run_dir / "final.pt")
    atomic_write_json(results / profile / "provenance" / f"{notebook}.json",
                      {"runs": {run_dir.name: {"name": name, "seed": 0}}})
    return run_dir


@pytest.fixture
def networks(isolated_dirs: Path) -> Path:
    results = isolated_dirs / "results"
    _fake_run(results, "quick", "cae", "a1_baseline", "baseline", 32)
    _fake_run(results, "quick", "vit", "b7_phase7", "vit", 16)
    return results


@pytest.mark.parametrize("method", ["mean", "telea", "ns", "biharmonic", "cae", "vit"])
def test_known_pixels_are_byte_identical_and_size_kept(tmp_path: Path, networks: Path, method: str) -> None:
    src = _photo(tmp_path / "in.png")
    hole = _mask(tmp_path / "mask.png")
    assert main(["inpaint", str(tmp_path / "in.png"), "--mask", str(tmp_path / "mask.png"),
                 "--method", method, "--out", str(tmp_path / "out.png")]) == 0
    out = _read(tmp_path / "out.png")
    assert out.shape == src.shape
    assert np.array_equal(out[~hole], src[~hole])
    assert not np.array_equal(out[hole], src[hole])  # the hole was filled, not copied


def test_networks_never_see_the_hidden_pixels(tmp_path: Path, networks: Path) -> None:
    """Changing what is under the hole does not change any network's output."""
    a = _photo(tmp_path / "a.png", 70, 50)
    hole = _mask(tmp_path / "m.png", 70, 50, (20, 41, 10, 33))
    b = a.copy()
    b[hole] = 255 - b[hole]
    Image.fromarray(b).save(tmp_path / "b.png")
    for method in ("cae", "vit"):
        for name in ("a", "b"):
            assert main(["inpaint", str(tmp_path / f"{name}.png"), "--mask", str(tmp_path / "m.png"),
                         "--method", method, "--out", str(tmp_path / f"{name}-{method}.png")]) == 0
        assert np.array_equal(_read(tmp_path / f"a-{method}.png")[hole], _read(tmp_path / f"b-{method}.png")[hole])


def test_full_resolution_rule() -> None:
    """Downscale with the hole black, predict, upsample bicubically; a small pixel is missing
    if any pixel of its box is."""
    seen = {}

    def predict(masked: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        seen["shape"], seen["masks"] = masked.shape, masks
        return torch.full_like(masked, 0.25)

    wrapped = tool.at_full_resolution(Method("const", predict, "const"), 8)
    image = torch.full((3, 20, 30), 200, dtype=torch.uint8)
    mask = torch.zeros(1, 20, 30, dtype=torch.bool)
    mask[0, 0, 0] = True  # one pixel: its whole box (2.5 x 3.75 px) is missing at 8x8
    out = tool.inpaint(image, mask, wrapped)
    assert seen["shape"] == (1, 3, 8, 8) and int(seen["masks"].sum()) == 1
    assert out.shape == (3, 20, 30) and out[:, 0, 0].tolist() == [64, 64, 64]  # 0.25 * 255 rounded
    assert torch.equal(out[:, ~mask[0]], image[:, ~mask[0]])


def test_squares_are_deterministic_with_seed(tmp_path: Path) -> None:
    src = _photo(tmp_path / "in.jpg")
    outs = {}
    for seed in (1, 1, 2):
        out = tmp_path / f"s{seed}-{len(outs)}.png"
        assert main(["inpaint", str(tmp_path / "in.jpg"), "--squares", "3:8", "--seed", str(seed),
                     "--method", "mean", "--out", str(out)]) == 0
        outs[out.name] = _read(out)
    a, b, c = outs.values()
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    decoded = np.asarray(Image.open(tmp_path / "in.jpg").convert("RGB"))
    changed = (a != decoded).any(axis=2)
    assert 0 < changed.sum() <= 3 * 8 * 8 and src.shape == a.shape


def test_folder_with_folder_of_masks_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _photo(tmp_path / "photos" / "a.png")
    _photo(tmp_path / "photos" / "sub" / "b.jpg", 30, 40, seed=1)
    (tmp_path / "photos" / "notes.txt").write_text("not an image, ignored")
    hole_a = _mask(tmp_path / "masks" / "a.png")
    hole_b = _mask(tmp_path / "masks" / "sub" / "b.png", 30, 40, (5, 9, 5, 9))
    assert main(["inpaint", str(tmp_path / "photos"), "--mask", str(tmp_path / "masks"),
                 "--method", "telea", "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png")) \
        == ["a.png", "sub/b.png"]
    # masks and outputs inside the input folder are not inputs (a second run finds the same two)
    (tmp_path / "masks").rename(tmp_path / "photos" / "masks")
    assert main(["inpaint", str(tmp_path / "photos"), "--mask", str(tmp_path / "photos" / "masks"),
                 "--method", "telea", "--out", str(tmp_path / "photos" / "out")]) == 0
    assert main(["inpaint", str(tmp_path / "photos"), "--mask", str(tmp_path / "photos" / "masks"),
                 "--method", "telea", "--out", str(tmp_path / "photos" / "out")]) == 0
    assert len(list((tmp_path / "photos" / "out").rglob("*.png"))) == 2
    src_b = np.asarray(Image.open(tmp_path / "photos" / "sub" / "b.jpg").convert("RGB"))
    out_b = _read(tmp_path / "out" / "sub" / "b.png")
    assert np.array_equal(out_b[~hole_b], src_b[~hole_b]) and hole_a.sum() > 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("inpainted 2 images with telea in ") and "s per image) -> " in summary


def test_alpha_channel_is_the_hole(tmp_path: Path) -> None:
    src = _photo(tmp_path / "rgb.png")
    alpha = np.full(src.shape[:2], 255, dtype=np.uint8)
    alpha[5:15, 5:25] = 0
    alpha[20, 20] = 128  # semi-transparent counts as missing
    Image.fromarray(np.dstack([src, alpha]), "RGBA").save(tmp_path / "cut.png")
    assert main(["inpaint", str(tmp_path / "cut.png"), "--mask-from-alpha", "--method", "ns",
                 "--out", str(tmp_path / "out.png")]) == 0
    out = _read(tmp_path / "out.png")
    known = alpha == 255
    assert np.array_equal(out[known], src[known])


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    return err


def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _photo(tmp_path / "in.png")
    _mask(tmp_path / "small.png", 20, 20, (1, 5, 1, 5))
    out = tmp_path / "out.png"
    err = _error(capsys, ["inpaint", str(tmp_path / "in.png"), "--mask", str(tmp_path / "small.png"),
                          "--out", str(out), "--method", "mean"])
    assert f"--mask {tmp_path / 'small.png'}: mask is 20x20 px but {tmp_path / 'in.png'} is 61x45 px" in err
    _mask(tmp_path / "empty.png", box=(0, 0, 0, 0))
    assert "marks no pixel as missing" in _error(capsys, ["inpaint", str(tmp_path / "in.png"), "--mask",
                                                          str(tmp_path / "empty.png"), "--out", str(out)])
    _mask(tmp_path / "full.png", box=(0, 45, 0, 61))
    assert "every pixel as missing" in _error(capsys, ["inpaint", str(tmp_path / "in.png"), "--mask",
                                                       str(tmp_path / "full.png"), "--out", str(out)])
    assert "--method magic: unknown method; available for profile quick: mean, telea, ns, biharmonic" in _error(
        capsys, ["inpaint", str(tmp_path / "in.png"), "--squares", "1:4", "--method", "magic", "--out", str(out)])
    (tmp_path / "fake.jpg").write_text("hello")
    assert f"{tmp_path / 'fake.jpg'}: cannot read this image" in _error(
        capsys, ["inpaint", str(tmp_path / "fake.jpg"), "--squares", "1:4", "--out", str(out)])
    assert "--squares 3x4: expected COUNT:SIZE" in _error(
        capsys, ["inpaint", str(tmp_path / "in.png"), "--squares", "3x4", "--out", str(out)])
    assert "--out result.jpg: outputs are PNG files" in _error(
        capsys, ["inpaint", str(tmp_path / "in.png"), "--squares", "1:4", "--out", "result.jpg"])
    assert "--mask-from-alpha: this image has no alpha channel" in _error(
        capsys, ["inpaint", str(tmp_path / "in.png"), "--mask-from-alpha", "--out", str(out)])
    assert "exactly one of --mask" in _error(capsys, ["inpaint", str(tmp_path / "in.png"), "--out", str(out)])
    assert not out.exists()


@pytest.fixture
def nothing_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without the shipped photo network: the older fallback rule applies."""
    from inpaint_lib import shipped

    monkeypatch.setattr(shipped, "SHIPPED_DIR", tmp_path / "nothing-shipped")


def test_no_trained_run_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            nothing_shipped: None) -> None:
    _photo(tmp_path / "in.png")
    err = _error(capsys, ["inpaint", str(tmp_path / "in.png"), "--squares", "2:6", "--method", "cae",
                          "--out", str(tmp_path / "o.png")])
    assert "--method cae: no trained run of that name in" in err and "make report PROFILE=quick" in err
    assert main(["inpaint", "--list-methods"]) == 0
    listing = capsys.readouterr().out
    assert "no trained network" in listing and "default: biharmonic (no trained network in" in listing
    assert main(["inpaint", str(tmp_path / "in.png"), "--squares", "2:6", "--out", str(tmp_path / "o.png")]) == 0
    assert "with biharmonic" in capsys.readouterr().out
    assert main(["inpaint", str(tmp_path / "in.png"), "--squares", "2:6", "--method", "biharmonic",
                 "--out", str(tmp_path / "b.png")]) == 0
    assert np.array_equal(_read(tmp_path / "o.png"), _read(tmp_path / "b.png"))  # it is biharmonic


def test_folder_with_one_bad_file_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        _photo(tmp_path / "photos" / f"{i}.png", seed=i)
    bad = tmp_path / "photos" / "3.jpg"
    _photo(bad)
    bad.write_bytes(bad.read_bytes()[:300])  # truncated JPEG
    err = _error(capsys, ["inpaint", str(tmp_path / "photos"), "--squares", "2:5", "--method", "mean",
                          "--out", str(tmp_path / "out")])
    assert f"{bad}: cannot read this image" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_list_methods_and_the_computed_default(tmp_path: Path, networks: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               nothing_shipped: None) -> None:
    assert main(["inpaint", "--list-methods"]) == 0
    listing = capsys.readouterr().out
    assert "  cae " in listing and "CAE 32x32 px, fake set; a1_baseline :: baseline (seed 0)" in listing
    assert "  vit " in listing and "ViT 16x16 px" in listing
    assert "default: biharmonic (networks are trained but not ranked yet" in listing
    losing = {"vit": {"run_dir": "vit-b7_phase7", "test_set": "pets", "masks": "m", "hole_psnr": 20.0,
                      "best_classical": "biharmonic", "best_classical_hole_psnr": 21.0,
                      "margin_db": -1.0}}
    atomic_write_json(networks / "quick" / "methods.json", {"default": None, "networks": losing})
    assert main(["inpaint", "--list-methods"]) == 0
    assert ("default: biharmonic (no trained network beats the classical methods on its test set; "
            "the best, vit, is -1.00 dB against biharmonic") in capsys.readouterr().out
    winning = {"vit": {**losing["vit"], "hole_psnr": 22.0, "margin_db": 1.0}}
    atomic_write_json(networks / "quick" / "methods.json", {"default": "vit", "networks": winning})
    assert ("default: vit for 16x16 px images (the size its margin was measured at), biharmonic for "
            "any other size (the trained network with the largest") in (main(["inpaint", "--list-methods"])
                                                                     or capsys.readouterr().out)
    # the network where its margin was measured (16x16), biharmonic at any other size
    _photo(tmp_path / "in" / "small.png", h=16, w=16)
    _photo(tmp_path / "in" / "large.png")
    for method in ("default", "vit", "biharmonic"):
        flag = [] if method == "default" else ["--method", method]
        assert main(["inpaint", str(tmp_path / "in"), "--squares", "2:4", *flag,
                     "--out", str(tmp_path / method)]) == 0
    assert "with the default (vit at 16 px, biharmonic at any other size)" in capsys.readouterr().out
    assert (_read(tmp_path / "default" / "small.png") == _read(tmp_path / "vit" / "small.png")).all()
    assert (_read(tmp_path / "default" / "large.png") == _read(tmp_path / "biharmonic" / "large.png")).all()
    assert (_read(tmp_path / "default" / "small.png") != _read(tmp_path / "biharmonic" / "small.png")).any()


def test_mask_painted_on_a_transparent_layer(tmp_path: Path) -> None:
    """White strokes on a transparent layer: only the strokes are missing, whatever colour the
    editor stored under the transparent pixels."""
    _photo(tmp_path / "in.png", 20, 20)
    layer = np.full((20, 20, 4), 255, dtype=np.uint8)
    layer[..., 3] = 0  # transparent white everywhere
    layer[5:8, 5:9, 3] = 255  # an opaque white stroke
    Image.fromarray(layer, "RGBA").save(tmp_path / "strokes.png")
    mask = tool.read_mask(tmp_path / "strokes.png", (20, 20), tmp_path / "in.png")
    assert int(mask.sum()) == 12 and bool(mask[0, 5:8, 5:9].all())


def test_compare_writes_one_panel(tmp_path: Path, networks: Path) -> None:
    _photo(tmp_path / "in.png")
    assert main(["inpaint", str(tmp_path / "in.png"), "--squares", "2:8", "--compare",
                 "--out", str(tmp_path / "panel.png")]) == 0
    with Image.open(tmp_path / "panel.png") as im:
        w, h = im.size
    assert w > 5 * 61 and h > 2 * 45  # input + 6 methods: two rows of up to five tiles


def test_with_no_run_trained_the_shipped_network_is_listed_and_is_the_default(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inpaint", "--list-methods"]) == 0
    listing = capsys.readouterr().out
    assert "  photo-network network    CAE, any size (fully convolutional), shipped in photo_network/" in listing
    assert "default: per hole:" in listing and "photo network: photo-network, shipped" in listing
    _photo(tmp_path / "in.png", h=96, w=128)
    assert main(["inpaint", str(tmp_path / "in.png"), "--squares", "3:12", "--out", str(tmp_path / "o.png")]) == 0
    out = capsys.readouterr()
    assert "with the default per hole (photo-network or a classical method)" in out.out
    assert "in.png: " in out.err and " px wide by " in out.err and "on held-out pets" in out.err
    # what it does: each hole of a mask gets the method the card's table gives its width
    from inpaint_lib import crossover, shipped

    mask = _mask(tmp_path / "m.png", 96, 128, (30, 70, 40, 80))  # one 40 px square
    mask[10:14, 10:14] = True  # and a 4 px one
    Image.fromarray((mask * 255).astype(np.uint8)).save(tmp_path / "m.png")
    plan = crossover.plan_holes(shipped.load().crossover, torch.from_numpy(mask))
    outs = {}
    for method in ("default", "photo-network", "biharmonic"):
        flag = ["--no-check"] if method == "default" else ["--method", method]
        assert main(["inpaint", str(tmp_path / "in.png"), "--mask", str(tmp_path / "m.png"), *flag,
                     "--out", str(tmp_path / f"{method}.png")]) == 0
        outs[method] = _read(tmp_path / f"{method}.png")
    for name in plan.methods():
        holes = plan.mask_for(name).numpy()
        assert np.array_equal(outs["default"][holes], outs[name.replace("photo network", "photo-network")][holes])


def test_no_check_uses_the_table_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _photo(tmp_path / "in.png", h=120, w=160)
    for flag in ([], ["--no-check"]):
        assert main(["inpaint", str(tmp_path / "in.png"), "--squares", "2:10", *flag,
                     "--out", str(tmp_path / f"o{len(flag)}.png")]) == 0
        err = capsys.readouterr().err
        assert ("on this photo" in err) == (not flag)  # the check says what the photo showed


@pytest.fixture
def mixed_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped network with a card whose table sends small squares (4 and 8 px) to
    biharmonic (the network's interval below zero there) and the rest to the network."""
    import json
    import shutil

    from inpaint_lib import shipped

    folder = tmp_path / "shipped"
    shutil.copytree(shipped.SHIPPED_DIR, folder)
    card = json.loads((folder / "card.json").read_text())
    behind = {"hole_psnr_margin": -0.5, "hole_psnr_low": -0.7, "hole_psnr_high": -0.3}
    for r in card["crossover"]["rows"]:
        if r["shape"] == "squares" and r["setting"] in ("4 px", "8 px"):
            r |= behind | {"best_classical": "biharmonic"}
            r["vs_classical"] = {m: {"margin": -0.5, "low": -0.7, "high": -0.3, "images": v["images"]}
                                 for m, v in r.get("vs_classical", {}).items()}
    (folder / "card.json").write_text(json.dumps(card))
    monkeypatch.setattr(shipped, "SHIPPED_DIR", folder)
    return folder


def _two_holes(tmp_path: Path, gap: int) -> np.ndarray:
    """A 120x160 photo with a 40 px square (the network's) and a 4 px square `gap` px to its
    left (biharmonic's), and its mask."""
    _photo(tmp_path / "a.png", 120, 160)
    m = np.zeros((120, 160), dtype=bool)
    m[50:90, 60:100] = True
    m[60:64, 60 - gap - 4:60 - gap] = True
    Image.fromarray((m * 255).astype(np.uint8)).save(tmp_path / "m.png")
    return m


@pytest.mark.parametrize("flag", [[], ["--no-check"]])
@pytest.mark.parametrize("gap", [4, 10])
def test_the_default_never_sees_a_missing_pixel(tmp_path: Path, mixed_card: Path, flag: list[str],
                                                gap: int) -> None:
    """What is under any hole, the network's or a classical method's, does not change the
    default's output, with the check on the photo or without it."""
    m = _two_holes(tmp_path, gap)
    a = _read(tmp_path / "a.png")
    b = a.copy()
    b[m] = 255 - b[m]
    Image.fromarray(b).save(tmp_path / "b.png")
    for name in ("a", "b"):
        assert main(["inpaint", str(tmp_path / f"{name}.png"), "--mask", str(tmp_path / "m.png"),
                     *flag, "--out", str(tmp_path / f"{name}-out.png")]) == 0
    assert np.array_equal(_read(tmp_path / "a-out.png"), _read(tmp_path / "b-out.png"))


def test_without_the_check_each_hole_is_filled_by_the_table_s_method(tmp_path: Path,
                                                                      mixed_card: Path) -> None:
    """--no-check: the table alone decides; each hole holds exactly what its method gives
    alone on the same photo and mask (the 40 px square the network's, the 4 px one
    biharmonic's), and the known pixels are the photo's."""
    m = _two_holes(tmp_path, 10)
    for method in ("default", "photo-network", "biharmonic"):
        flag = ["--no-check"] if method == "default" else ["--method", method]
        assert main(["inpaint", str(tmp_path / "a.png"), "--mask", str(tmp_path / "m.png"), *flag,
                     "--out", str(tmp_path / f"{method}.png")]) == 0
    out, net, bih = (_read(tmp_path / f"{x}.png") for x in ("default", "photo-network", "biharmonic"))
    big = np.zeros_like(m)
    big[50:90, 60:100] = True
    small = m & ~big
    assert np.array_equal(out[big], net[big]) and not np.array_equal(out[big], bih[big])
    assert np.array_equal(out[small], bih[small]) and not np.array_equal(out[small], net[small])
    assert np.array_equal(out[~m], _read(tmp_path / "a.png")[~m])


def test_with_the_check_the_real_holes_are_filled_with_the_real_mask_only(
        tmp_path: Path, mixed_card: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The check fills copies of the holes on known pixels, in a pass of their own: the hole
    the network keeps holds exactly the network's fill of the photo with the real mask
    (`--method photo-network`), not a fill that also hid the copies' pixels, and the hole a
    classical method keeps holds exactly that method's fill alone."""
    m = _two_holes(tmp_path, 10)
    assert main(["inpaint", str(tmp_path / "a.png"), "--mask", str(tmp_path / "m.png"),
                 "--out", str(tmp_path / "default.png")]) == 0
    why = capsys.readouterr().err
    assert "on this photo" in why and "cop" in why  # copies were placed and weighed
    out = _read(tmp_path / "default.png")
    big = np.zeros_like(m)
    big[50:90, 60:100] = True
    small = m & ~big
    for hole in (big, small):
        alone = {}
        for method in ("photo-network", "biharmonic", "telea", "ns", "fsr-fast", "patchmatch"):
            target = tmp_path / f"{method}.png"
            if not target.exists():
                assert main(["inpaint", str(tmp_path / "a.png"), "--mask", str(tmp_path / "m.png"),
                             "--method", method, "--out", str(target)]) == 0
            alone[method] = _read(target)
        same = [k for k, v in alone.items() if np.array_equal(out[hole], v[hole])]
        assert same, "a hole holds no single method's fill with the real mask"
    assert np.array_equal(out[big], alone["photo-network"][big])  # the table's strong row holds
    assert np.array_equal(out[~m], _read(tmp_path / "a.png")[~m])
