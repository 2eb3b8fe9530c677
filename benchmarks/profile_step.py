"""Where a training step's time goes: torch.profiler tables for the ViT and CAE steps.

    python -m benchmarks.profile_step [--batch 64] [--precision fp16-amp] [--rows 20]

Profiles, after warm-up, a few ViT + perceptual-loss steps at the study's shape
(benchmarks.vit.ViTStep) and a few CAE `Trainer.train_epoch` steps, and prints the
top operators by self time on the device (CUDA) or the CPU. A diagnostic for the
suggestions in the benchmark report, not part of the benchmark's numbers.
"""

from __future__ import annotations

import argparse
import warnings

from torch.profiler import ProfilerActivity, profile

from inpaint_lib.train import Trainer, default_device

from . import cae, vit
from .common import sync


def _table(prof: profile, cuda: bool, rows: int) -> str:
    key = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=rows, max_name_column_width=60)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_step")
    p.add_argument("--batch", type=int, default=None,
                   help="ViT batch (default 64 on CUDA, 4 on CPU)")
    p.add_argument("--precision", default=None, help="fp32 / fp16-amp / bf16 (default: Trainer's)")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--rows", type=int, default=20)
    args = p.parse_args(argv)
    device = default_device()
    is_cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if is_cuda else [])
    precision = args.precision or ("fp16-amp" if is_cuda else "fp32")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step = vit.ViTStep(vit.ViTShape(batch=args.batch or (64 if is_cuda else 4)),
                           vit.build_loss(device), device, vit.Variant(precision, precision))
    for _ in range(2):
        step()
    sync(device)
    with profile(activities=activities) as prof:
        for _ in range(args.steps):
            step()
        sync(device)
    print(f"== ViT step, batch {step.shape.batch}, {precision}, {args.steps} steps ==")
    print(_table(prof, is_cuda, args.rows))

    cfg = cae.baseline_config()
    trainer = Trainer(cfg, cae.make_splits(256 * args.steps * 4, 256), device)
    trainer.train_epoch(1)
    sync(device)
    with profile(activities=activities) as prof:
        trainer.train_epoch(2)
        sync(device)
    print(f"== CAE Trainer.train_epoch, {args.steps * 4} steps of 256 ==")
    print(_table(prof, is_cuda, args.rows))


if __name__ == "__main__":
    main()
