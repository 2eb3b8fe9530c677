"""Training: determinism, resume equals uninterrupted, NaN guard, run cache reuse."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inpaint_lib import runs
from inpaint_lib.data import Splits, synthetic_images
from inpaint_lib.schema import DataConfig, RunConfig
from inpaint_lib.train import Trainer, TrainingDiverged

DEVICE = torch.device("cpu")


def _splits() -> Splits:
    imgs = synthetic_images(96, 32, seed=0)
    return Splits(imgs[:64], imgs[64:80], imgs[80:], "synthetic", "generated", "fp-test")


def _cfg(**kw: object) -> RunConfig:
    base = {"data": DataConfig(dataset="synthetic"), "model": {"arch": "cae", "latent_channels": 8},
            "epochs": 3, "batch_size": 16, "seed": 5}
    return RunConfig.model_validate({**base, **kw})


def _weights(trainer: Trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in trainer.model.parameters()]


def test_training_is_deterministic_and_learns(tmp_path: Path) -> None:
    a = runs.train_run(_cfg(), _splits(), tmp_path / "a", DEVICE, log=None)
    b = runs.train_run(_cfg(), _splits(), tmp_path / "b", DEVICE, log=None)
    assert all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b)))
    hist = a.history
    assert [h["epoch"] for h in hist] == [1, 2, 3]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert {"train_loss", "val_loss", "lr", "seconds"} <= set(hist[0])


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_resume_after_interruption_ends_identical(tmp_path: Path, precision: str) -> None:
    cfg = _cfg(cpu_precision=precision)
    straight = runs.train_run(cfg, _splits(), tmp_path / "straight", DEVICE, log=None)
    part = runs.train_run(cfg, _splits(), tmp_path / "resumed", DEVICE, stop_after=2, log=None)
    assert part.epoch == 2 and not (tmp_path / "resumed" / "final.pt").exists()
    assert (tmp_path / "resumed" / "state.pt").exists()
    lines: list[str] = []
    resumed = runs.train_run(cfg, _splits(), tmp_path / "resumed", DEVICE, log=lines.append)
    assert any("resuming" in line and "after epoch 2" in line for line in lines)
    assert all(torch.equal(x, y) for x, y in zip(_weights(straight), _weights(resumed)))
    assert [h["train_loss"] for h in resumed.history] == pytest.approx(
        [h["train_loss"] for h in straight.history])
    assert (tmp_path / "resumed" / "final.pt").exists() and not (tmp_path / "resumed" / "state.pt").exists()


def test_precision_follows_device_config_and_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from inpaint_lib import device

    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert device.autocast_dtype(_cfg(amp=True), cuda) == torch.float16
    assert device.autocast_dtype(_cfg(amp=False), cuda) is None
    assert device.autocast_dtype(_cfg(cpu_precision="bf16"), cpu) == torch.bfloat16
    assert device.autocast_dtype(_cfg(cpu_precision="fp32"), cpu) is None
    monkeypatch.setattr(device, "cpu_has_bf16", lambda: False)
    assert device.precision_name(_cfg(), cpu) == "fp32"  # auto without AMX: fp32
    monkeypatch.setattr(device, "cpu_has_bf16", lambda: True)
    assert device.precision_name(_cfg(), cpu) == "bf16 autocast"


def test_bf16_training_learns_records_its_precision_and_keeps_fp32_weights(tmp_path: Path) -> None:
    t = runs.train_run(_cfg(cpu_precision="bf16"), _splits(), tmp_path / "r", DEVICE, log=None)
    assert t.history[-1]["train_loss"] < t.history[0]["train_loss"]
    assert all(p.dtype == torch.float32 for p in t.model.parameters())
    info = runs.read_json(tmp_path / "r" / "config.json")
    assert info["precision"] == "bf16 autocast"
    assert info["data"] == _splits().fingerprint  # the exact images, beside the config
    fp32 = runs.train_run(_cfg(cpu_precision="fp32"), _splits(), tmp_path / "f", DEVICE, log=None)
    assert fp32.history[-1]["train_loss"] == pytest.approx(t.history[-1]["train_loss"], rel=0.05)
    assert fp32.history[-1]["train_loss"] != t.history[-1]["train_loss"]  # bf16 really ran


def test_nan_loss_stops_with_clear_message_and_keeps_checkpoint(tmp_path: Path) -> None:
    cfg = _cfg(optimizer={"name": "sgd", "lr": 1e12, "momentum": 0.0}, epochs=4)
    with pytest.raises(TrainingDiverged, match=r"epoch \d+: training loss is (nan|inf)"):
        runs.train_run(cfg, _splits(), tmp_path / "nan", DEVICE, log=None)
    assert not (tmp_path / "nan" / "final.pt").exists()


def test_checkpoints_load_with_weights_only(tmp_path: Path) -> None:
    runs.train_run(_cfg(epochs=1), _splits(), tmp_path / "r", DEVICE, log=None)
    state = torch.load(tmp_path / "r" / "final.pt", weights_only=True)
    assert set(state) == {"model", "optimizer"}


def test_optimizers_and_lr_changes(tmp_path: Path) -> None:
    cfg = _cfg(optimizer={"name": "rmsprop", "lr": 0.001}, lr_changes={2: 0.0005}, epochs=2)
    t = runs.train_run(cfg, _splits(), tmp_path / "r", DEVICE, log=None)
    assert isinstance(t.optimizer, torch.optim.RMSprop)
    assert [h["lr"] for h in t.history] == [0.001, 0.0005]


def test_get_run_trains_once_and_reuses(monkeypatch: pytest.MonkeyPatch) -> None:
    from inpaint_lib.resolve import load_params

    from .conftest import REPO

    study = load_params(REPO / "params/a1_baseline.yaml", "smoke")
    first = runs.get_run(study, "baseline", "smoke", DEVICE)
    calls: list[object] = []
    monkeypatch.setattr(runs, "train_run", lambda *a, **k: calls.append(a))
    again = runs.get_run(load_params(REPO / "params/a2_optimizers.yaml", "smoke"), "Adam", "smoke", DEVICE)
    assert again.dir == first.dir and calls == []
    assert again.info["git_commit"] and again.info["dataset"].startswith("synthetic")


def test_compiled_training_matches_eager_and_checkpoints_plain_keys(tmp_path: Path) -> None:
    eager = runs.train_run(_cfg(epochs=1, cpu_precision="fp32"), _splits(), tmp_path / "e", DEVICE,
                           log=None)
    compiled = runs.train_run(_cfg(epochs=1, cpu_precision="fp32", compile=True), _splits(),
                              tmp_path / "c", DEVICE, log=None)
    assert compiled.forward is not compiled.model  # really compiled
    assert compiled.history[0]["train_loss"] == pytest.approx(eager.history[0]["train_loss"], rel=1e-3)
    state = torch.load(tmp_path / "c" / "final.pt", weights_only=True)
    assert set(state["model"]) == set(eager.model.state_dict())  # no "_orig_mod." prefix


def test_history_records_held_out_hole_psnr_of_the_composite(tmp_path: Path) -> None:
    trainer = runs.train_run(_cfg(epochs=2), _splits(), tmp_path / "p", DEVICE, log=None)
    psnr = [h["val_hole_psnr"] for h in trainer.history]
    assert all(0 < p < 100 for p in psnr)
    # by hand for the final model: per-image hole PSNR on [-1, 1] (peak-to-peak 2), averaged
    _, by_trainer = trainer.held_out(2)
    masked, target = trainer.prepare(trainer.held_out_images, trainer.held_out_masks)
    with torch.no_grad():
        pred = trainer.model(masked, trainer.held_out_masks).float()
    hole = trainer.held_out_masks.float()
    mse = ((pred - target) ** 2 * hole).sum(dim=(1, 2, 3)) / (3 * hole.sum(dim=(1, 2, 3)))
    assert by_trainer == pytest.approx((10 * torch.log10(4 / mse)).mean().item(), rel=1e-3)
    assert psnr[-1] == pytest.approx(by_trainer, rel=1e-6)
