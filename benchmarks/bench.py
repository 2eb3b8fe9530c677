"""Benchmark inpaint_lib's training pipelines against their limits and the conventional way.

    python -m benchmarks.bench [--quick] [--out results/bench] [--try-compile] [--device cuda]

Measures in one process, after warm-up, medians over round-robin repeats:
 1. every case of `CASES`, a RunConfig resolved from a params file: the `Trainer`'s epoch (a)
    against its bare step (b) (`benchmarks.pipeline`), at the library's precision, fp32 and
    optionally compiled; the held-out pass, the data path alone, FLOPs and achieved FLOP/s
    against a large matmul. Part A's baseline also against the conventional DataLoader loop (c);
 2. ViT masks at the full shape: `random_squares` vs a Python loop, and each union;
 3. the inpaint tool per image and on a photo (`benchmarks.tool_bench`);
 4. peak memory of each case; the full profile's wall time projected from the rates.
Writes results/bench/<device>.json, the single source (`inpaint_lib.report` renders the
report's appendix from it), and a .md copy for people.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from inpaint_lib.device import cpu_has_bf16, default_device
from inpaint_lib.io import atomic_write_json, atomic_write_text
from inpaint_lib.jobs import list_jobs
from inpaint_lib.provenance import host_cpu
from inpaint_lib.report.build import bench_summary, quantity_table
from inpaint_lib.resolve import PARAMS_DIR, chained_run_config, load_params
from inpaint_lib.schema import MaskConfig, RunConfig

from . import mask_bench, tool_bench
from .pipeline import ConventionalLoop, changed, describe, matmul_flop_per_s, measure, precision
from .timing import MemoryProbe, Quantity, device_slug, load_average, q


@dataclass(frozen=True)
class Case:
    """A RunConfig as a params file resolves it, timed pipeline (a) vs bare step (b)."""

    name: str  # key under "cases" in the results, prefix of its ratios
    params: str  # params file in params/
    run: str  # run name in it
    profile: str = "full"
    steps: int = 16  # optimiser steps per timed call on the CPU; x4 on CUDA, /4 with --quick
    batch: dict[str, int] = field(default_factory=dict)  # "cpu"/"cuda"/"quick": a smaller batch
    compile_on: tuple[str, ...] = ("cpu", "cuda")  # device types where --try-compile applies
    conventional: bool = False  # also time the conventional loop (c) beside it


# One line per case: Case("cae_256", "a3_latent.yaml", "256") adds cases.cae_256
# to the results, its ratios (cae_256_a_over_b, ...) and its memory; a goal goes in TARGETS.
CASES = [
    Case("cae", "a1_baseline.yaml", "baseline", conventional=True),
    Case("vit_full_shape", "b7_phase7.yaml", "vit", steps=1, batch={"cpu": 4, "quick": 1},
         compile_on=("cuda",)),  # compiling ViT + VGG at 224 px takes minutes on a CPU
    Case("vit_quick_shape", "b7_phase7.yaml", "vit", "quick", steps=1, batch={"quick": 4},
         compile_on=("cpu",)),
    Case("cae_best", "a6_ablation.yaml", "best combination", compile_on=()),  # the ablation's best
    Case("vit_gradnorm", "b9_variants.yaml", "GradNorm", "quick", steps=1, batch={"quick": 4},
         compile_on=()),  # against vit_quick_shape, the same ViT with hand-set weights
]
# (name, ratio, goal, "min" or "max"): the targets table
TARGETS = [("CAE pipeline / bare step (a/b)", "cae_a_over_b", 0.90, "min"),
           ("CAE pipeline / conventional DataLoader (a/c)", "cae_a_over_c", 3.0, "min"),
           ("ViT masks: Python loop time / random_squares time", "masks_loop_over_library", 50.0, "min"),
           ("best CAE variant: pipeline / bare step (a/b)", "cae_best_a_over_b", 0.90, "min"),
           ("ViT step with GradNorm / with hand-set weights", "vit_gradnorm_step_over_manual", 1.5,
            "max")]
FORMAT = 2  # layout of the results JSON: 2 = "cases" of pipeline vs bare step
MASK_CASE = "vit_full_shape"  # masks timed at its image size, its mask at the largest
RANDOM_VGG_NOTE = ("The perceptual loss uses a RANDOMLY INITIALISED VGG-16 "
                   "(perceptual_weights: random): pretrained weights are not available offline; "
                   "FLOPs and timings are identical with pretrained weights.")
PART_A_CASE, PART_B_CASE = "cae", "vit_full_shape"  # the cases the projection scales up
# Dataset sizes, which the params do not hold: CIFAR-10's 50,000 training images split
# 45k/5k (cae.yaml, val_size 0.1); Oxford-IIIT Pet's 7,349 images 80/20 (vit.yaml).
PART_A_IMAGES = {"train": 45_000, "held_out": 5_000}
PART_B_IMAGES = {"train": 5_879, "held_out": 1_470}
BEST_OF, SPEED_UP = "x (best-of repeats, for noisy machines)", "x (pipeline speed-up)"


def resolve(case: Case, device: torch.device, quick: bool) -> tuple[RunConfig, int]:
    """The case's RunConfig as trained (`inpaint_lib.resolve`), at the benchmark's batch,
    with a random VGG; and the optimiser steps per timed call."""
    cfg = chained_run_config(load_params(case.params, case.profile), case.run, case.profile)
    batch = case.batch.get("quick" if quick else device.type, cfg.batch_size)
    steps = max(1, case.steps // 4) if quick else case.steps * (4 if device.type == "cuda" else 1)
    return changed(cfg, batch_size=batch, loss={"perceptual_weights": "random"}), steps


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench",
                                description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, few repeats (a smoke test)")
    p.add_argument("--out", type=Path, default=Path("results/bench"), help="output folder")
    p.add_argument("--try-compile", action="store_true", help="also time torch.compile'd steps")
    p.add_argument("--device", default=None,
                   help="cpu / cuda (default: $INPAINT_DEVICE, else cuda if present)")
    return p.parse_args(argv)


_START = time.perf_counter()


def log(msg: str) -> None:
    print(f"[bench {time.perf_counter() - _START:6.1f}s] {msg}", file=sys.stderr, flush=True)


def cpu_name() -> str:
    return host_cpu()


def meta(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    cuda = device.type == "cuda"
    return {
        "device": device_slug(device), "device_type": device.type,
        "device_name": torch.cuda.get_device_name(device) if cuda else cpu_name(),
        "torch": torch.__version__, "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick, "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "cpu_bf16": cpu_has_bf16(), "options": {"try_compile": args.try_compile},
        "overrides": os.environ.get("INPAINT_OVERRIDES", ""),
        "timing_method": "synchronised wall clock after warm-up; median over repeats (best-of "
                         "also given); each case's timings and the masks' taken round-robin",
        "argv": sys.argv[1:], "load_average_at_start": load_average(),
    }


# ------------------------------------------------------------ summary
def _tp(entry: dict[str, Any], best: bool = False) -> float:
    return entry["best_throughput" if best else "throughput"]["value"]


def ratios(results: dict[str, Any]) -> dict[str, Quantity]:
    """Flat table of the ratios: per case a/b of every variant (`<case>_a_over_b` at the
    library's precision, `<case>_<variant>_a_over_b` for the others), speed-ups over fp32
    and of compiling; a/c and its bound where the conventional loop ran; the masks."""
    out: dict[str, Quantity] = {}
    for name, case in results["cases"].items():
        base = case["library_variant"]
        ok = {k: v for k, v in case["variants"].items() if "pipeline" in v}
        lib, conv = ok[base], case.get("conventional")
        for label, v in ok.items():
            key = name if label == base else f"{name}_{label}"
            out[f"{key}_a_over_b"] = v["a_over_b"]
            if conv:
                out[f"{key}_a_over_c"] = q(_tp(v["pipeline"]) / _tp(conv["dataloader"]),
                                           f"x (pipeline in {label} / conventional in fp32)")
            if label != "fp32" and "fp32" in ok:
                out[f"{name}_{label}_over_fp32_pipeline"] = q(
                    _tp(v["pipeline"]) / _tp(ok["fp32"]["pipeline"]), SPEED_UP)
        out[f"{name}_a_over_b_best_of"] = q(
            _tp(lib["pipeline"], True) / _tp(lib["bare_step"], True), BEST_OF)
        if f"{base}+compile" in ok:
            out[f"{name}_compiled_over_eager_pipeline"] = q(
                _tp(ok[f"{base}+compile"]["pipeline"]) / _tp(lib["pipeline"]), SPEED_UP)
        if conv:
            c = conv["dataloader"]
            out[f"{name}_a_over_c_best_of"] = q(_tp(lib["pipeline"], True) / _tp(c, True), BEST_OF)
            out[f"{name}_c_over_b_bound"] = q(
                _tp(c) / _tp(lib["bare_step"]), "x (conventional / bare step: a/c <= 1 / this)")
            out[f"{name}_data_path_ours_over_conventional"] = q(
                _tp(case["data_path_only"]) / _tp(conv["data_path_only"]), "x (data path alone)")
    cases = results["cases"]
    if {"vit_gradnorm", "vit_quick_shape"} <= set(cases):  # the same ViT, weights learnt or set
        manual = cases["vit_quick_shape"]["variants"][cases["vit_quick_shape"]["library_variant"]]
        gradnorm = cases["vit_gradnorm"]["variants"][cases["vit_gradnorm"]["library_variant"]]
        out["vit_gradnorm_step_over_manual"] = q(_tp(manual["pipeline"]) / _tp(gradnorm["pipeline"]),
                                                 "x (step time, GradNorm / hand-set weights)")
    masks = results["masks"]
    lib, loop = masks["library_random_squares"], masks["python_loop"]
    out["masks_loop_over_library"] = q(_tp(lib) / _tp(loop), "x (time loop / time library)")
    out["masks_loop_over_library_best_of"] = q(_tp(lib, True) / _tp(loop, True), BEST_OF)
    for name, entry in masks["union_only"].items():
        out[f"masks_loop_over_union_{name}"] = q(_tp(entry) / _tp(loop),
                                                 "x (time loop / time of this union alone)")
    return out


def targets(r: dict[str, Quantity], goals: list[tuple[str, str, float, str]]) -> list[dict[str, Any]]:
    """goals: (name, ratio key, goal, "min" (at least) or "max" (at most)); a goal whose ratio
    was not measured is left out."""
    return [{"name": name, "ratio": key, "value": r[key]["value"],
             "goal": f"{'>=' if kind == 'min' else '<='} {goal:g}",
             "pass": r[key]["value"] >= goal if kind == "min" else r[key]["value"] <= goal}
            | ({"value_best_of": r[f"{key}_best_of"]["value"]} if f"{key}_best_of" in r else {})
            for name, key, goal, kind in goals if key in r]


def reading_notes(results: dict[str, Any]) -> list[str]:
    """What a reader needs to read the numbers right: the a/c bound, where the rates are from."""
    out = []
    bound = results["ratios"].get(f"{PART_A_CASE}_c_over_b_bound")
    if bound:
        lib, b = results["cases"][PART_A_CASE]["library_variant"], bound["value"]
        out.append(f"CAE a/c cannot exceed b/c = {1 / b:.2f}x on this device: the conventional "
                   f"loop already runs at {b:.0%} of the speed of the bare {lib} step (b), the "
                   "limit of any pipeline around this model.")
    if results["meta"]["device_type"] == "cpu":
        out.append("Projections use this CPU's rates (Part B takes days here); run on CUDA for "
                   "GPU ones.")
    return out


def _human(seconds: float) -> str:
    for limit, div, unit in ((120, 1, "s"), (7200, 60, "min"), (172800, 3600, "h")):
        if seconds < limit:
            return f"{seconds / div:.{0 if unit == 's' else 1}f} {unit}"
    return f"{seconds / 86400:.1f} days"


def _epochs(train: float, held_out: float, images: dict[str, int], epochs: int) -> float:
    return epochs * (images["train"] / train + images["held_out"] / held_out)


def projection(results: dict[str, Any]) -> dict[str, Any]:
    """Full-profile wall time from the measured rates (training + per-epoch held-out pass)."""
    out: dict[str, Any] = {}
    a = results["cases"].get(PART_A_CASE)
    if a:
        lib = a["variants"][a["library_variant"]]
        # distinct (config, seed) runs of the full profile's Part A, as they are trained
        n_runs = len(list_jobs(sorted(PARAMS_DIR.glob("a*.yaml")), "full",
                                 run_directories=False))
        epochs = int(a["config"]["epochs"]["value"])
        rates = {"pipeline": lib["pipeline"]}
        if "conventional" in a:
            rates["conventional"] = a["conventional"]["dataloader"]
        for way, rate in rates.items():
            run = _epochs(_tp(rate), _tp(lib["held_out"]), PART_A_IMAGES, epochs)
            out[f"part_a_{way}"] = {
                "one_run": q(run, "s"), "one_run_human": _human(run),
                "all_runs": q(run * n_runs, "s"), "all_runs_human": _human(run * n_runs),
                "assumes": (f"{epochs} epochs x ({PART_A_IMAGES['train']} train images at the "
                            f"measured {way} rate + {PART_A_IMAGES['held_out']} held-out "
                            f"images); {n_runs} runs: the full profile's Part A configurations "
                            "x seeds"),
            }
    b = results["cases"].get(PART_B_CASE)
    for label, v in (b or {}).get("variants", {}).items():
        if "pipeline" not in v:
            continue
        epochs = int(b["config"]["last_epoch"]["value"])
        total = _epochs(_tp(v["pipeline"]), _tp(v["held_out"]), PART_B_IMAGES, epochs)
        out[f"part_b_{label}"] = {
            "total": q(total, "s"), "total_human": _human(total),
            "used_by_trainer": label == b["library_variant"],
            "assumes": (f"{epochs} epochs (the phase chain) x ({PART_B_IMAGES['train']} train + "
                        f"{PART_B_IMAGES['held_out']} held-out images at "
                        f"{b['config']['image_size']['value']:.0f} px), rates measured at batch "
                        f"{b['config']['batch_size']['value']:.0f}"),
        }
    return out


def markdown(results: dict[str, Any]) -> str:
    """The human-readable copy of the JSON: its summary, then every measured quantity."""
    meta = results["meta"]
    lines = [f"# inpaint_lib benchmark: {meta['device']}", "",
             (f"{meta['date']} | torch {meta['torch']} | {meta['device_name']} | "
              f"{meta['threads']} threads | {'quick' if meta['quick'] else 'full'} mode"), "",
             (f"Load average (1, 5, 15 min) at start {meta['load_average_at_start']}, at end "
              f"{meta['load_average_at_end']} on {meta['cpu_count']} CPUs."), "",
             bench_summary(results, "##")]
    for section in ("cases", "masks", "matmul", "memory"):
        lines += ["", f"## {section}", "", *quantity_table(results[section])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    device = torch.device(args.device) if args.device else default_device()
    cuda = device.type == "cuda"
    repeats = 1 if args.quick else 10 if cuda else 7
    memory = MemoryProbe(device)
    out = args.out / device_slug(device)
    results: dict[str, Any] = {"format": FORMAT, "complete": False,
                               "meta": meta(args, device), "notes": [], "cases": {}}
    notes: list[str] = results["notes"]
    cases = {c.name: (c, *resolve(c, device, args.quick)) for c in CASES}

    def save() -> None:  # what is measured so far: an interrupted run still leaves its numbers
        results["memory"] = memory.results
        atomic_write_json(out.with_suffix(".json"), results)

    labels = sorted({precision(cfg, device) for _, cfg, _ in cases.values()} | {"fp32"})
    log(f"device {device}; matmul reference ({', '.join(labels)}) ...")
    size = (4096 if cuda else 1024) if args.quick else (8192 if cuda else 2048)
    results["matmul"] = {p: matmul_flop_per_s(p, size, device, repeats) for p in labels}
    for name, (case, cfg, steps) in cases.items():
        log(f"{name}: {case.params} run {case.run} at profile {case.profile}, batch "
            f"{cfg.batch_size}, {steps} steps per call ...")
        conv = None
        if case.conventional:
            with memory.probe(f"{name}_conventional"):
                conv = ConventionalLoop(cfg, cfg.batch_size * steps, device)
        compiled = args.try_compile and device.type in case.compile_on
        section, times = measure(name, cfg, device, steps, repeats, memory, compiled,
                                 results["matmul"], conv.timers() if conv else {})
        section["config"] = describe(cfg, f"{case.params}, run {case.run}, profile "
                                          f"{case.profile}", steps)
        if conv:
            section["conventional"] = conv.results(times)
            del conv  # stops its workers
        results["cases"][name] = section
        if case.batch.get("quick" if args.quick else device.type):
            notes.append(f"{name} timed at batch {cfg.batch_size}, smaller than the config's "
                         "to keep the run short on this device.")
        save()

    _, mask_cfg, _ = cases[MASK_CASE]
    side, size, count = mask_cfg.data.side or 224, mask_cfg.mask.sizes[1], mask_cfg.mask.counts[1]
    log(f"masks ({side} px, {count} squares of {size} px) ...")
    results["masks"] = mask_bench.run(MaskConfig(size=size, count=count), side,
                                      16 if args.quick else 64, device, repeats, memory)

    log(f"inpaint tool, per {64 if args.quick else tool_bench.SIZE} px square image ...")
    results["tool"] = (tool_bench.run(device, 1, size=64) if args.quick  # every method, in seconds
                       else tool_bench.run(device, 5))
    log("inpaint tool, the photo network on a " + ("256x192" if args.quick else "1024x768") + " photo ...")
    results["tool_photo"] = (tool_bench.run_photo(device, 1, size=(192, 256)) if args.quick
                             else tool_bench.run_photo(device, 3))
    save()

    results["ratios"] = ratios(results)
    results["targets"] = targets(results["ratios"], TARGETS)
    results["projection"] = projection(results)
    if any(cfg.loss.uses_perceptual for _, cfg, _ in cases.values()):
        notes.insert(0, RANDOM_VGG_NOTE)
    notes += reading_notes(results)
    if cuda and torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32:
        notes.append("fp32 on CUDA: cuDNN convolutions use TF32 by default while the fp32 "
                     "matmul reference does not, so fp32's fraction_of_matmul can exceed 1.")
    results["meta"] |= {"memory_method": memory.method, "load_average_at_end": load_average()}
    results["complete"] = True
    save()
    atomic_write_text(out.with_suffix(".md"), markdown(results)
                      + tool_bench.markdown(results["tool"])
                      + tool_bench.markdown_photo(results["tool_photo"]))
    for t in results["targets"]:
        log(f"{'PASS' if t['pass'] else 'FAIL'} {t['name']}: {t['value']:.3g}x (goal {t['goal']})")
    log(f"wrote {out.with_suffix('.json')} and .md")
    return results


if __name__ == "__main__":
    main()
