"""Benchmark inpaint_lib's training pipelines against their limits and the conventional way.

    python -m benchmarks.bench [--quick] [--out results/bench] [--try-bf16] [--try-compile]

Measures in one process, after warm-up, medians over repeats:
 1. CAE training (Part A baseline, batch 256): (a) `Trainer.train_epoch`, (b) the bare
    model step on pre-made tensors, (c) a PIL Dataset + DataLoader(num_workers=2);
 2. ViT masks (N x 224 x 224, 300 squares of 12x12): `random_squares` vs a Python loop;
 3. ViT + perceptual-loss training step at the full and the quick profile's shapes:
    images/s, FLOPs (FlopCounterMode) and achieved FLOP/s vs a large matmul;
 4. peak memory of each case; on CUDA, AMP vs fp32; optional bf16 / torch.compile;
 5. the inpaint tool: seconds per 256x256 image, each method (tool_bench.py).
Writes results/bench/<device>.json and .md (atomically), and projects the full
profile's wall time from the measured rates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from inpaint_lib.schema import DataConfig, RunConfig, ViTConfig
from inpaint_lib.train import cpu_has_amx, default_device

from . import cae, mask_bench, report, tool_bench, vit
from .common import MemoryProbe, atomic_write_json, atomic_write_text, device_slug, load_average

RANDOM_VGG_NOTE = ("The perceptual loss uses a RANDOMLY INITIALISED VGG-16 "
                   "(PerceptualLoss('random')): pretrained weights are not available offline; "
                   "FLOPs and timings are identical with pretrained weights.")


@dataclass(frozen=True)
class Sizes:
    cae: cae.CAESizes
    masks: mask_bench.MaskSizes
    vit_full_batch: int
    vit_quick_batch: int | None  # None: the quick profile's own batch
    vit_repeats: int
    vit_eval_repeats: int
    matmul: int
    matmul_repeats: int


def choose_sizes(quick: bool, device: torch.device) -> Sizes:
    cuda = device.type == "cuda"
    if quick:
        return Sizes(cae.CAESizes(n_train=1024, n_val=256, repeats=2),
                     mask_bench.MaskSizes(batch=16, repeats=3),
                     vit_full_batch=8 if cuda else 1, vit_quick_batch=8 if cuda else 4,
                     vit_repeats=2 if cuda else 1, vit_eval_repeats=1,
                     matmul=4096 if cuda else 1024, matmul_repeats=3)
    if cuda:
        return Sizes(cae.CAESizes(n_train=16_384, n_val=5_000, repeats=5),
                     mask_bench.MaskSizes(batch=64, repeats=10),
                     vit_full_batch=64, vit_quick_batch=None, vit_repeats=10, vit_eval_repeats=5,
                     matmul=8192, matmul_repeats=10)
    # CPU: many short interleaved repeats resist a shared machine's bursts better than few long ones
    # CAE epochs of 16 steps: per-epoch work (mask draw, permutation, loss read-back) is
    # not inflated beyond a real epoch's share (176 steps at the full profile).
    return Sizes(cae.CAESizes(n_train=4096, n_val=1000, repeats=7),
                 mask_bench.MaskSizes(batch=64, repeats=7),
                 vit_full_batch=4, vit_quick_batch=None, vit_repeats=2, vit_eval_repeats=2,
                 matmul=2048, matmul_repeats=5)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench",
                                description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, few repeats (< 60 s on 2 idle CPU cores)")
    p.add_argument("--out", type=Path, default=Path("results/bench"), help="output folder")
    p.add_argument("--try-bf16", action="store_true", help="also time bf16 autocast")
    p.add_argument("--try-compile", action="store_true", help="also time torch.compile'd models")
    p.add_argument("--device", default=None,
                   help="cpu / cuda (default: $INPAINT_DEVICE, else cuda if present)")
    p.add_argument("--cae-images", type=int, default=None, help="override the CAE train set size")
    p.add_argument("--vit-batch", type=int, default=None, help="override the full-shape ViT batch")
    p.add_argument("--vit-quick-batch", type=int, default=None,
                   help="override the quick-shape ViT batch (default: the quick profile's)")
    return p.parse_args(argv)


_START = time.perf_counter()
_LOAD_AT_START = load_average()


def _log(msg: str) -> None:
    print(f"[bench {time.perf_counter() - _START:6.1f}s] {msg}", file=sys.stderr, flush=True)


def _meta(args: argparse.Namespace, device: torch.device, memory: MemoryProbe) -> dict[str, Any]:
    cuda = device.type == "cuda"
    return {
        "device": device_slug(device),
        "device_name": torch.cuda.get_device_name(device) if cuda else _cpu_name(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "trainer_precision": {"cae": cae.library_precision(cae.baseline_config(), device),
                              "vit": cae.library_precision(_vit_config(), device)},
        "cpu_amx": cpu_has_amx(),
        "options": {"try_bf16": args.try_bf16, "try_compile": args.try_compile},
        "memory_method": memory.method,
        "timing_method": "synchronised wall clock, after warm-up; median over repeats "
                         "(best-of also given); CAE cases (a), (b), (c) timed round-robin",
        "argv": sys.argv[1:],
        "load_average_at_start": _LOAD_AT_START,
        "load_average_at_end": load_average(),
    }


def _vit_config() -> RunConfig:
    """Part B's precision settings (params/vit.yaml: amp true, cpu_precision auto)."""
    return RunConfig(data=DataConfig(dataset="synthetic"), model=ViTConfig(), amp=True)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _wanted(v: vit.Variant, label: str, precisions: list[str], cuda: bool) -> bool:
    """Precisions run at both shapes. Other variants: on CUDA at both shapes (compile at the
    full shape only); on CPU at the quick shape only, where a step takes ~1 s, not ~5 s."""
    if v.name in precisions:
        return True
    if cuda:
        return label == "full_shape" or not v.compile_model
    return label == "quick_shape"


def _save_partial(results: dict[str, Any], memory: MemoryProbe, out: Path) -> None:
    """Write what is measured so far, so an interrupted run still leaves its numbers."""
    results["memory"] = memory.results
    atomic_write_json(out.with_suffix(".json"), results)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    device = torch.device(args.device) if args.device else default_device()
    sizes = choose_sizes(args.quick, device)
    if args.cae_images:
        sizes = replace(sizes, cae=replace(sizes.cae, n_train=args.cae_images))
    if args.vit_batch:
        sizes = replace(sizes, vit_full_batch=args.vit_batch)
    if args.vit_quick_batch:
        sizes = replace(sizes, vit_quick_batch=args.vit_quick_batch)
    memory = MemoryProbe(device)
    out = args.out / device_slug(device)
    results: dict[str, Any] = {"meta": _meta(args, device, memory), "complete": False}
    cuda = device.type == "cuda"
    base = cae.library_precision(_vit_config(), device)  # what Trainer uses for Part B here
    precisions = list(dict.fromkeys([base, "fp32"] + (["bf16"] if args.try_bf16 else [])))
    notes = [RANDOM_VGG_NOTE]
    results["notes"] = notes

    _log(f"device {device}; CAE ({sizes.cae.n_train} images) ...")
    results["cae"] = cae.run(sizes.cae, device, memory, precisions, args.try_compile)
    _save_partial(results, memory, out)
    _log("masks ...")
    results["masks"] = mask_bench.run(sizes.masks, device, memory)
    _save_partial(results, memory, out)

    _log("inpaint tool, per 256x256 image ...")
    results["tool"] = tool_bench.run(device, repeats=2 if args.quick else 5)
    _save_partial(results, memory, out)

    _log("matmul reference ...")
    matmul = {p: vit.matmul_flops_per_s(sizes.matmul, vit.MATMUL_DTYPES[p], device,
                                        sizes.matmul_repeats) for p in precisions}
    loss_fn = vit.build_loss(device)
    quick_shape, quick_note = vit.quick_profile_shape()
    if sizes.vit_quick_batch is not None:
        quick_shape = replace(quick_shape, batch=sizes.vit_quick_batch)
    full_shape = vit.ViTShape(batch=sizes.vit_full_batch)
    notes.append(quick_note)
    smaller = "" if full_shape.batch == 64 else (
        " (the study uses 64; smaller here to keep the run short on this device)")
    notes.append(f"ViT full shape timed at batch {full_shape.batch}{smaller}; "
                 f"quick shape at batch {quick_shape.batch}.")
    variants = [vit.Variant(p, p) for p in precisions]
    if cuda and not args.quick:
        variants.append(vit.Variant(f"{base}+cudnn-benchmark", base, cudnn_benchmark=True))
    if args.try_compile:  # one shape only (see _wanted): compiling VGG + ViT fwd/bwd is slow
        variants.append(vit.Variant(f"{base}+compile", base, compile_model=True))
    vit_results: dict[str, Any] = {"matmul": matmul}
    for label, shape in (("full_shape", full_shape), ("quick_shape", quick_shape)):
        todo = [v for v in variants if _wanted(v, label, precisions, cuda)]
        _log(f"ViT {label} (batch {shape.batch}): {', '.join(v.name for v in todo)} ...")
        vit_results[label] = {
            "shape": shape.describe(),
            "variants": vit.run_variants(shape, loss_fn, device, todo, sizes.vit_repeats,
                                         sizes.vit_eval_repeats, memory, label, matmul),
        }
        results["vit"] = vit_results
        _save_partial(results, memory, out)

    results.update({"meta": _meta(args, device, memory), "notes": notes, "memory": memory.results})
    results["ratios"] = report.ratios(results)
    results["targets"] = report.targets(results["ratios"])
    bound = results["ratios"]["cae_c_over_b_bound"]["value"]
    notes.append(f"CAE a/c cannot exceed b/c = {1 / bound:.2f}x on this device: the conventional "
                 f"loop already runs at {bound:.0%} of the speed of the bare "
                 f"{results['cae']['config']['precision']} step (b), the limit of any pipeline "
                 "around this model.")
    results["projection"] = report.projection(results, base)
    if cuda and torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32:
        notes.append("fp32 on CUDA: cuDNN convolutions use TF32 by default (cudnn.allow_tf32=True) "
                     "while the fp32 matmul reference does not (matmul.allow_tf32=False), so the "
                     "fp32 step's fraction_of_matmul can exceed 1.")
    if not cuda:
        notes.append("Projections use this CPU's rates (Part B takes days here); "
                     "run on CUDA for GPU ones.")

    results["complete"] = True
    atomic_write_json(out.with_suffix(".json"), results)
    atomic_write_text(out.with_suffix(".md"), report.markdown(results) + tool_bench.markdown(results["tool"]))
    for t in results["targets"]:
        _log(f"{'PASS' if t['pass'] else 'FAIL'} {t['name']}: {t['value']:.3g}x (goal {t['goal']})")
    _log(f"wrote {out.with_suffix('.json')} and .md")
    return results


if __name__ == "__main__":
    main()
