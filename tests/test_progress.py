"""Training progress goes to the terminal (the process's stderr fd) with run, epoch and ETA."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inpaint_lib import runs
from inpaint_lib.data import Splits, synthetic_images
from inpaint_lib.progress import TrainingProgress, human_seconds
from inpaint_lib.schema import CAEConfig, DataConfig, RunConfig


def test_epoch_lines_get_the_run_label_and_an_eta(capfd: pytest.CaptureFixture[str]) -> None:
    sink = TrainingProgress("a2_optimizers :: RMSprop (seed 0)")
    sink("resuming cae-123 after epoch 1")
    sink("epoch 2/3: train 0.10000  val 0.20000  (0.1s)")
    sink("epoch 3/3: train 0.09000  val 0.19000  (0.1s)")
    lines = capfd.readouterr().err.splitlines()
    assert lines[0] == "training a2_optimizers :: RMSprop (seed 0): resuming cae-123 after epoch 1"
    assert lines[1].startswith("training a2_optimizers :: RMSprop (seed 0) epoch 2/3: train 0.10000")
    assert lines[1].endswith(" s") and "ETA " in lines[1]
    assert "done, 2 epochs in" in lines[2]


def test_training_writes_progress_to_stderr_fd(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    imgs = synthetic_images(40, 32, seed=0)
    splits = Splits(imgs[:32], imgs[32:36], imgs[36:], "synthetic", "generated", "fp")
    cfg = RunConfig(data=DataConfig(dataset="synthetic"), model=CAEConfig(latent_channels=8),
                    epochs=2, batch_size=16, cpu_precision="fp32")
    runs.train_run(cfg, splits, tmp_path / "r", torch.device("cpu"), log=TrainingProgress("nb :: run (seed 0)"))
    err = capfd.readouterr().err
    assert "training nb :: run (seed 0) epoch 1/2:" in err and "ETA" in err
    assert "training nb :: run (seed 0) epoch 2/2:" in err and "done, 2 epochs" in err


def test_human_seconds() -> None:
    assert [human_seconds(s) for s in (3.4, 125, 3780)] == ["3 s", "2 min 05 s", "1 h 03 min"]
