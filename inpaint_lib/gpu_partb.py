"""Part B at the study's own scale on one GPU (issue 20): pack here, run there, collect here.

The GPU machine has torch but no pydantic, no network and no Jupyter, takes at most 64 MiB
of working tree and gives back at most 8 files of 16 MiB. So:

- ``pack`` (here, ``make gpu-partb``): the pet tree and the boats tree of the data directory,
  each image squashed to the profile's square size (the size the loaders resize to anyway)
  and re-encoded as JPEG at a stated quality, into ``.gpu/data.tar`` with ``.gpu/pack.json``
  (sha256, counts, quality, the git commit and the training-code fingerprint of the checkout,
  `code_version.training_code`, as the run cache names code). Relative
  paths are kept, so the image trees sort, pool and split exactly as the shared trees do.
- ``run`` (there): unpack into a data directory, train the seven phases of the profile
  one by one through the run cache with the epoch scale given (stopping after a phase when
  the rest would not fit the time budget), score the final
  network and the classical methods on the held-out pets at the study's mask counts and on
  the boats (the classical methods in a CPU process while the GPU trains), the patch-grid
  measure of every phase, seconds per epoch and the fraction of the GPU's peak the step
  reached, and write at most 8 files (`OUTPUT_FILES` and the weight shards) into ``--out``,
  each as soon as it is known, so a run cut short still returns what it finished.
- ``collect`` (here): the files brought back into ``results/full-gpu/``, the weight
  shards joined (and checked against their sha256) into ``final.pt``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import yaml

from .code_version import training_code
from .io import atomic_write_bytes, atomic_write_json, atomic_write_text, sha256_file
from .paths import REPO_ROOT

PARAMS = "params/b8_evaluation.yaml"  # the evaluation's settings (it extends phase 7)
PHASE_PARAMS = "params/b7_phase7.yaml"  # the last phase; its parent chain is phases 1-6
TREES = {"pets": "oxford-pet", "boats": "boats"}  # pack folder <- data-directory tree
DEFAULT_QUALITY = 80  # 44.2 MB for the 3,979 images at 224 px (85: 50.9 MB)
SHARD_BYTES = 15 * 2**20  # weight shards under the 16 MiB a returned file may have
MAX_FILES = 8
TRAVEL_LIMIT = 64 * 2**20  # the working tree a device call may send
# The H200's dense bf16 (and fp16) tensor-core peak, per NVIDIA's H200 SXM data sheet; the
# device README measured about 790 TFLOP/s for an 8192^3 bf16 product through PyTorch.
PEAK_TFLOPS = {"spec": 989.4, "measured_matmul": 790.0}
OUTPUT_FILES = ("manifest.json", "histories.json", "scores.csv", "phases.png",
                "generalisation.png")


class GpuRunError(RuntimeError):
    """A bad argument or a damaged pack: one line naming it."""


# ------------------------------------------------------------------------- pack
def _encode_jpeg(path: Path, size: int, quality: int) -> bytes:
    """One image squashed to size x size as the loaders do it (`image_trees._decode`), then
    JPEG-encoded at `quality`."""
    from PIL import Image

    from .image_trees import _decode

    buf = io.BytesIO()
    Image.fromarray(_decode(path, size)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def pack(dest: Path, size: int = 224, ood_size: int = 224, quality: int = DEFAULT_QUALITY,
         data: Path | None = None, commit: str | None = None) -> dict[str, Any]:
    """Write ``dest/data.tar`` (pets/, boats/: train|test/<class>/*.jpg and LABEL) and
    ``dest/pack.json``; return the pack's description. Images are decoded in a thread pool."""
    from concurrent.futures import ThreadPoolExecutor

    from .data import data_dir
    from .image_trees import _list_images, tree_label

    if not 1 <= quality <= 100:
        raise GpuRunError(f"--quality {quality}: must be in 1..100")
    root = data or data_dir()
    dest.mkdir(parents=True, exist_ok=True)
    sets: dict[str, Any] = {}
    tmp = dest / "data.tar.tmp"
    with tarfile.open(tmp, "w") as tar, ThreadPoolExecutor() as pool:
        for name, folder in TREES.items():
            tree, side = root / folder, size if name == "pets" else ood_size
            paths = [p for split in ("train", "test") for p in _list_images(tree / split)]
            if not paths:
                raise GpuRunError(f"{tree}: no images under train/ or test/ "
                                  f"(make shared-data, or set INPAINT_DATA_DIR)")
            label = (f"{tree_label(tree, folder)}, squashed to {side}×{side} px and re-encoded "
                     f"as JPEG quality {quality} for the GPU run")
            blobs = pool.map(lambda p, s=side: _encode_jpeg(p, s, quality), paths)
            for p, blob in zip(paths, blobs, strict=True):
                _add(tar, f"{name}/{p.relative_to(tree).with_suffix('.jpg').as_posix()}", blob)
            _add(tar, f"{name}/LABEL", (label + "\n").encode())
            sets[name] = {"images": len(paths), "size": side, "label": label, "from": str(tree)}
    os.replace(tmp, dest / "data.tar")
    info = {"file": "data.tar", "sha256": sha256_file(dest / "data.tar"),
            "bytes": (dest / "data.tar").stat().st_size, "quality": quality,
            "re_encoded": True, "sets": sets, "git_commit": commit or _git_commit(),
            "training_code": training_code(),
            "packed": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    atomic_write_json(dest / "pack.json", info)
    return info


def _add(tar: tarfile.TarFile, name: str, blob: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size, member.mtime = len(blob), 0
    tar.addfile(member, io.BytesIO(blob))


def _git_commit() -> str:
    from .runs import git_commit

    return git_commit()


def travel_bytes(root: Path = REPO_ROOT, extra: tuple[str, ...] = (".gpu",)) -> int:
    """Bytes of what a device call sends: tracked files, untracked files git does not
    ignore, and the carried folders `extra`."""
    import subprocess

    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True, check=True).stdout.split(b"\0")
    paths = {root / p.decode() for p in listed if p}
    for folder in extra:
        paths |= {p for p in (root / folder).rglob("*") if p.is_file()}
    return sum(p.stat().st_size for p in paths if p.is_file())


def unpack(pack_dir: Path, dest: Path) -> dict[str, Any]:
    """Check ``data.tar`` against ``pack.json`` and unpack it into `dest` (a data
    directory: oxford-pet/ and boats/ image trees, as `make shared-data` makes them)."""
    info_path = pack_dir / "pack.json"
    if not info_path.exists():
        raise GpuRunError(f"{info_path}: missing (make gpu-partb packs the data)")
    info = json.loads(info_path.read_text())
    digest = sha256_file(pack_dir / info["file"])
    if digest != info["sha256"]:
        raise GpuRunError(f"{pack_dir / info['file']}: sha256 {digest[:12]} is not the "
                          f"packed {info['sha256'][:12]}: pack it again")
    with tarfile.open(pack_dir / info["file"]) as tar:
        for m in tar.getmembers():
            top, _, rest = m.name.partition("/")
            if top not in TREES or not rest:
                raise GpuRunError(f"{info['file']}: unexpected member {m.name!r}")
            m.name = f"{TREES[top]}/{rest}"
            tar.extract(m, dest, filter="data")
    return info


# -------------------------------------------------------------------------- run
def _overrides(pack_info: dict[str, Any], epoch_scale: float, compile_: bool) -> str:
    """INPAINT_OVERRIDES for the run: the user's own (if any) under ours: the epoch scale, the
    random VGG (no ImageNet weights there), and the packed sets at their packed sizes."""
    from .resolve import deep_merge

    user = yaml.safe_load(os.environ.get("INPAINT_OVERRIDES") or "") or {}
    ours = {"vit": {
        "epoch_scale": epoch_scale,
        "data": {"dataset": "oxford_pet", "image_size": pack_info["sets"]["pets"]["size"],
                 "download": False},
        "evaluation": {"ood": {"dataset": "ships", "image_size": pack_info["sets"]["boats"]["size"],
                               "download": False}},
        "train": {"loss": {"perceptual_weights": "random"}, **({"compile": True} if compile_ else {})},
    }}
    return yaml.safe_dump(deep_merge(user, ours), default_flow_style=True, width=10**6).strip()


def classical_jobs(cpus: int, levels: int) -> list[list[tuple[str, int]]]:
    """The (set, test level) pairs the classical methods are scored on, dealt round-robin to
    one CPU process each, as many processes as the cores beside the two the GPU's feeder keeps
    (at least 1, at most one per pair)."""
    pairs = [(s, i) for s in ("pets", "boats") for i in range(levels)]
    n = max(1, min(len(pairs), cpus - 2))
    return [pairs[k::n] for k in range(n)]


def _classical_worker(params_file: str, profile: str, threads: int,
                      jobs: list[tuple[str, int]]) -> None:
    """Score every classical method on the (set, test level) `jobs` (CPU); the results land
    in the evaluation cache the main process reads."""
    import torch

    from .section import open_ood, open_section

    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    try:
        if len(cores) > 4:  # leave two cores to the process that feeds the GPU
            os.sched_setaffinity(0, cores[2:])
        os.nice(5)
    except OSError:  # a sandbox may refuse either: then the worker shares every core
        pass
    torch.set_num_threads(threads)
    study = open_section(params_file, profile, "cpu")
    ood = open_ood(study)
    sets = {"pets": (study.splits.test, study.splits.fingerprint), "boats": (ood.test, ood.fingerprint)}
    for set_name, level in jobs:
        for method in study.classical():  # less those too slow here (classical_images)
            study.score(method, study.level_masks()[level], *sets[set_name])


def step_throughput(study: Any) -> dict[str, float]:
    """FLOPs of one training step of the final phase's configuration (forward and backward,
    VGG term included; `torch.utils.flop_counter`, uncompiled) and its seconds per step
    (`scoring.step_times`: 3 steps after a warm-up step)."""
    from torch.utils.flop_counter import FlopCounterMode

    from .resolve import run_config
    from .schema import SectionParams
    from .scoring import step_times
    from .train import Trainer

    base = SectionParams.model_validate({**study.params.model_dump(), "runs": {"_base": {}}})
    cfg = run_config(base, "_base").model_copy(update={"epochs": 1, "compile": False})
    trainer = Trainer(cfg, study.splits, study.device)
    trainer.train_images = study.splits.train[: cfg.batch_size].to(study.device)
    trainer.train_epoch(1)  # warm-up outside the counter
    counter = FlopCounterMode(display=False)
    with counter:
        trainer.train_epoch(1)
    seconds = float(step_times(study, [])["seconds per step"].iloc[0])
    return {"flops_per_step": float(counter.get_total_flops()), "seconds_per_step": seconds,
            "batch_size": cfg.batch_size}


def paired_intervals(scores: Any, network: str, reference: str,
                     metrics: tuple[str, ...] = ("hole_psnr", "hole_mae", "ssim")) -> list[dict]:
    """Per set and mask level: mean of the per-image difference `network` - `reference` on
    the images both were scored on (same images, same masks) and its 95% t-interval."""
    from .stats import mean_ci

    rows = []
    for (set_name, level), g in scores.groupby(["set", "masks"], sort=False):
        a = g[g.method == network].set_index("image")
        b = g[g.method == reference].set_index("image")
        common = a.index.intersection(b.index)
        for m in metrics:
            diff = (a.loc[common, m] - b.loc[common, m]).dropna().tolist()
            mean, half = mean_ci(diff) if diff else (math.nan, math.nan)
            rows.append({"set": set_name, "masks": level, "metric": m, "images": len(diff),
                         "difference": mean, "ci95": half,
                         "excludes_zero": bool(abs(mean) > half) if not math.isnan(half) else False})
    return rows


class _Manifest:
    """manifest.json, rewritten (atomically) after every stage with the elapsed seconds."""

    def __init__(self, out: Path, t0: float, base: dict[str, Any]) -> None:
        self.out, self.t0, self.doc = out, t0, {**base, "stages": {}}

    def stage(self, name: str, started: float, **facts: Any) -> None:
        now = time.perf_counter()
        self.doc["stages"][name] = round(now - started, 2)
        self.doc.update(facts)
        self.doc["elapsed_s"] = round(now - self.t0, 2)
        atomic_write_json(self.out / "manifest.json", self.doc)
        print(f"[gpu-partb] {name}: {now - started:.1f} s (elapsed {now - self.t0:.1f} s)",
              flush=True)


def run(out: Path, pack_dir: Path, epoch_scale: float, profile: str = "full",
        device: str | None = None, work: Path | None = None, compile_: bool = False,
        shard_bytes: int = SHARD_BYTES, budget_s: float = 540.0,
        reserve_s: float = 90.0) -> dict[str, Any]:
    """The whole GPU side (see the module docstring); returns the manifest. Training stops
    after a phase when the remaining phases, at the seconds per epoch measured so far, and
    `reserve_s` for scoring would end past `budget_s` (the manifest says so); the last
    phase trained is then the network scored."""
    t0 = time.perf_counter()
    if not 0 < epoch_scale <= 1:
        raise GpuRunError(f"--epoch-scale {epoch_scale}: must be in (0, 1]")
    if budget_s <= 0:
        raise GpuRunError(f"--budget-s {budget_s:g}: must be positive")
    out.mkdir(parents=True, exist_ok=True)
    work = work or Path("/tmp/inpaint-gpu-partb")
    shutil.rmtree(work, ignore_errors=True)
    pack_info = unpack(pack_dir, work / "data")
    os.environ.update({"INPAINT_DATA_DIR": str(work / "data"),
                       "INPAINT_RESULTS_DIR": str(work / "results"),
                       "INPAINT_CACHE_DIR": str(work / "cache"),
                       "INPAINT_OVERRIDES": _overrides(pack_info, epoch_scale, compile_)})

    import torch

    from .section import open_ood, open_section

    study = open_section(PARAMS, profile, device)  # validates every field before any work
    ood = open_ood(study)
    dev = study.device
    gpu = torch.cuda.get_device_name(dev) if dev.type == "cuda" else None
    man = _Manifest(out, t0, {
        "what": "Part B: the seven ViT phases of the study, trained and scored on one GPU",
        "profile": profile, "epoch_scale": epoch_scale, "params": PARAMS,
        "training_code": training_code(), "pack": pack_info,
        "git_commit_packed": pack_info.get("git_commit"),
        "code_matches_pack": training_code() == pack_info.get("training_code"),
        "torch": torch.__version__, "device": str(dev), "device_name": gpu,
        "cpu_count": os.cpu_count(), "overrides": os.environ["INPAINT_OVERRIDES"],
        "random_vgg": True, "compile": compile_,
        "data": {"pets": {"name": study.splits.name, "sizes": study.splits.sizes(),
                          "image_size": study.splits.image_size, "fingerprint": study.splits.fingerprint},
                 "boats": {"name": ood.name, "images": len(ood.test), "image_size": ood.image_size,
                           "fingerprint": ood.fingerprint}},
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())})
    man.stage("setup_and_data", t0)

    import multiprocessing as mp

    cpus = os.cpu_count() or 1
    workers = [mp.get_context("spawn").Process(target=_classical_worker,
                                               args=(PARAMS, profile, 2, jobs))
               for jobs in classical_jobs(cpus, len(study.level_masks()))]
    for w in workers:
        w.start()  # CPU scoring of the classical methods while the GPU trains

    t = time.perf_counter()
    chain, stopped = _train_phases(profile, dev, out, epoch_scale, t0, budget_s, reserve_s)
    epochs = sum(len(run.history) for _, run in chain)
    seconds = [h["seconds"] for _, run in chain for h in run.history]
    man.stage("training", t, epochs_trained=epochs, epochs_of_study=400,
              phases_trained=len(chain), stopped_early=stopped, budget_s=budget_s,
              train_seconds=sum(seconds), seconds_per_epoch=sum(seconds) / max(1, len(seconds)),
              seconds_per_epoch_after_first_of_each_phase=_steady(chain),
              steps_per_epoch=math.ceil(len(study.splits.train) / chain[-1][1].config.batch_size))

    t = time.perf_counter()
    tp = step_throughput(study)
    achieved = tp["flops_per_step"] / tp["seconds_per_step"] / 1e12
    per_epoch = tp["flops_per_step"] * man.doc["steps_per_epoch"] / man.doc["seconds_per_epoch"] / 1e12
    man.stage("throughput", t, throughput={
        **tp, "tflops_per_s_step": achieved, "tflops_per_s_epoch": per_epoch,
        "peak_tflops": PEAK_TFLOPS, "precision": study.facts()["precision"],
        "fraction_of_peak_step": {k: achieved / v for k, v in PEAK_TFLOPS.items()},
        "fraction_of_peak_epoch": {k: per_epoch / v for k, v in PEAK_TFLOPS.items()},
        "note": "FLOPs counted by torch.utils.flop_counter.FlopCounterMode (matmuls and convs, "
                "forward and backward) for one step of the final phase; peak: the H200's dense "
                "tensor-core rate, fp16 and bf16 alike ('spec' the data sheet, "
                "'measured_matmul' an 8192^3 bf16 product on this kind of machine)"})

    t = time.perf_counter()
    for w in workers:
        w.join()
    exits = [w.exitcode for w in workers]
    man.stage("classical_scoring_wait", t, classical_workers_exit=exits)
    if any(exits):
        raise GpuRunError(f"a classical-scoring process failed (exits {exits})")

    t = time.perf_counter()
    scores, phase_grid = _scores(study, ood, chain, epoch_scale)
    scores.to_csv(out / "scores.csv", index=False)
    man.stage("scoring", t, phases=phase_grid,
              paired_vs_biharmonic=paired_intervals(scores, "ViT", "biharmonic"))

    t = time.perf_counter()
    _panels(study, ood, chain, epoch_scale, out)
    man.stage("panels", t)

    t = time.perf_counter()
    shards = _weights(chain[-1][1].dir / "final.pt", out, shard_bytes)
    man.stage("weights", t, weights=shards)
    man.doc["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    man.stage("total", t0)
    files = sorted(p.name for p in out.iterdir())
    if len(files) > MAX_FILES:
        raise GpuRunError(f"{out}: {len(files)} files, more than the {MAX_FILES} that come back")
    print(f"[gpu-partb] done in {time.perf_counter() - t0:.1f} s, epoch scale {epoch_scale} "
          f"({epochs} of 400 epochs, {man.doc['seconds_per_epoch']:.2f} s per epoch); "
          f"files: {', '.join(files)}", flush=True)
    return man.doc


def phase_files(last: str = PHASE_PARAMS, profile: str = "full") -> list[Any]:
    """The params of the ViT phases, oldest first: `last` and its `parent` chain."""
    from .resolve import find_params, load_params

    chain, params = [], load_params(find_params(last), profile)
    while True:
        chain.append(params)
        if params.parent is None:
            return chain[::-1]
        params = load_params(Path(params.source_file).parent / params.parent, profile)


def stop_now(elapsed: float, seconds_per_epoch: float, epochs_left: int, reserve_s: float,
             budget_s: float) -> bool:
    """Would the remaining epochs at the measured rate, and the reserve, end past the budget?"""
    return epochs_left > 0 and elapsed + epochs_left * seconds_per_epoch + reserve_s > budget_s


def _train_phases(profile: str, dev: Any, out: Path, epoch_scale: float, t0: float,
                  budget_s: float, reserve_s: float) -> tuple[list, bool]:
    """Train the phases one by one through the run cache (each continues from its parent's
    final weights), rewriting histories.json after each; stop early per `stop_now`."""
    from .resolve import chained_run_config
    from .runs import get_run

    phases = phase_files(PHASE_PARAMS, profile)
    lengths = [chained_run_config(p, next(iter(p.runs)), profile).num_epochs for p in phases]
    chain: list = []
    for k, params in enumerate(phases):
        run = get_run(params, next(iter(params.runs)), profile, dev)
        chain.append((params, run))
        histories = {"epoch_scale": epoch_scale, "profile": profile, "phases": [
            {"phase": p.phase, "params": Path(p.source_file).name, "title": p.title,
             "epochs": list(r.config.epoch_range), "masks": r.config.mask.label,
             "caption": (p.reference[r.name].figure if r.name in p.reference else None),
             "train_seconds": r.info.get("train_seconds"), "history": r.history}
            for p, r in chain]}
        atomic_write_json(out / "histories.json", histories)
        seconds = [h["seconds"] for _, r in chain for h in r.history]
        rate = sum(seconds) / max(1, len(seconds))
        if stop_now(time.perf_counter() - t0, rate, sum(lengths[k + 1:]), reserve_s, budget_s):
            print(f"[gpu-partb] stopping after phase {params.phase}: {sum(lengths[k + 1:])} more "
                  f"epochs at {rate:.2f} s would pass the {budget_s:.0f} s budget", flush=True)
            return chain, True
    return chain, False


def _steady(chain: list) -> float:
    """Mean seconds per epoch without each phase's first epoch (warm-up, kernel choice)."""
    rest = [h["seconds"] for _, run in chain for h in run.history[1:]]
    return sum(rest) / len(rest) if rest else math.nan


def _scores(study: Any, ood: Any, chain: list, epoch_scale: float) -> tuple[Any, list[dict]]:
    """(per-image long table of the final ViT and the classical methods on both sets at every
    level, the patch-grid measure and hole PSNR of every phase's network on the pets)."""
    import pandas as pd

    from .evaluate import scored_images
    from .masks import fixed_masks, occluded_fraction
    from .metrics import mean_metrics

    final = chain[-1][1]
    vit = study.method(final, "ViT")
    frames = []
    ev = study.params.evaluation
    for set_name, images, data_id in (("pets", study.splits.test, study.splits.fingerprint),
                                      ("boats", ood.test, ood.fingerprint)):
        side = images.shape[-1]
        for cfg in study.level_masks():
            frac = occluded_fraction(fixed_masks(len(images), side, side, cfg, ev.mask_seed))
            for method in [vit, *study.classical()]:
                per = study.score(method, cfg, images, data_id)
                index = scored_images(len(images), len(per["hole_psnr"]))  # a slow one: a spread
                frame = pd.DataFrame({k: v.numpy() for k, v in per.items()})
                frame.insert(0, "image", index.numpy())
                frame.insert(0, "occluded", frac[index].numpy())
                frame.insert(0, "kind", "network" if method is vit else "classical")
                frame.insert(0, "method", method.name)
                frame.insert(0, "masks", cfg.label)
                frame.insert(0, "set", set_name)
                frames.append(frame)
    scores = pd.concat(frames, ignore_index=True)
    scores["epoch_scale"] = epoch_scale
    first = study.level_masks()[0]
    phases = []
    for params, run in chain:
        means = mean_metrics(study.score(study.method(run, f"phase {params.phase}"), first))
        phases.append({"phase": params.phase, "epochs": list(run.config.epoch_range),
                       "masks_scored": first.label, "grid": means.get("grid"),
                       "grid_pred": means.get("grid_pred"), "grid_target": means.get("grid_target"),
                       "hole_psnr": means["hole_psnr"], "hole_mae": means["hole_mae"],
                       "ssim": means["ssim"]})
    return scores, phases


def _panels(study: Any, ood: Any, chain: list, epoch_scale: float, out: Path) -> None:
    """phases.png: each phase's network on its own training masks (the study's Figures
    16-23); generalisation.png: the final network at every test level on pets and boats
    (Figures 25-26). Titles carry the epoch scale."""
    from .report import figures, prose
    from .report.figures import plt
    from .scoring import occlusion_grid, reconstructions

    scale = f"epoch scale {epoch_scale:g}: {chain[-1][1].config.epoch_range[1]} of 400 epochs"
    rows: dict[str, Any] = {}
    for params, run in chain:
        shown = reconstructions(study, [study.method(run, "output")], run.config.mask)
        title = prose.phase_figure_title(params.reference.get(run.name), run.config)
        rows[f"P{params.phase} input"] = shown["input"]
        rows[f"P{params.phase} output\n" + title.replace(". Reconstruction at", ",")] = shown["output"]
    rows["ground truth"] = shown["ground truth"]
    _save(figures.image_grid(rows, f"Part B phases 1-7 on held-out pets ({scale})"), out / "phases.png")
    vit = study.method(chain[-1][1], "ViT")
    grid = {f"pets, {k}": v for k, v in occlusion_grid(study, vit, study.splits.test).items()}
    grid |= {f"boats, {k}": v for k, v in occlusion_grid(study, vit, ood.test).items()}
    _save(figures.image_grid(grid, f"Held-out pets and boats: input and final ViT ({scale})"),
          out / "generalisation.png")
    plt.close("all")


def _save(fig: Any, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    atomic_write_bytes(path, buf.getvalue())


def _weights(final: Path, out: Path, shard_bytes: int) -> dict[str, Any]:
    """The final network's weights (fp32, as `Run.load_model` reads them: {"model": state};
    the optimiser's moments stay behind) cut into shards of at most `shard_bytes`."""
    import torch

    buf = io.BytesIO()
    torch.save({"model": torch.load(final, map_location="cpu", weights_only=True)["model"]}, buf)
    blob = buf.getvalue()
    names = []
    for i in range(0, len(blob), shard_bytes):
        name = f"final.pt.{i // shard_bytes:02d}"
        atomic_write_bytes(out / name, blob[i:i + shard_bytes])
        names.append(name)
    return {"file": "final.pt", "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest(),
            "shards": names}


# ---------------------------------------------------------------------- collect
def collect(src: Path, dest: Path) -> list[str]:
    """Copy the run's files from `src` into `dest` (results/full-gpu/), joining the weight
    shards into final.pt (checked against the manifest's sha256)."""
    man_path = src / "manifest.json"
    if not man_path.exists():
        raise GpuRunError(f"{man_path}: missing: not the output folder of a gpu-partb run")
    man = json.loads(man_path.read_text())
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in OUTPUT_FILES:
        if (src / name).exists():
            shutil.copyfile(src / name, dest / name)
            copied.append(name)
    weights = man.get("weights")
    if weights:
        blob = b"".join((src / s).read_bytes() for s in weights["shards"])
        if hashlib.sha256(blob).hexdigest() != weights["sha256"]:
            raise GpuRunError(f"{src}: the weight shards do not join to the recorded sha256")
        atomic_write_bytes(dest / weights["file"], blob)
        copied.append(weights["file"])
    atomic_write_text(dest / "COLLECTED", f"from {src} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    return copied


def main(args: Any) -> int:
    """``python -m inpaint_lib gpu-partb pack|run|collect`` (see `__main__`)."""
    try:
        if args.action == "pack":
            info = pack(Path(args.dest), args.size, args.ood_size, args.quality)
            print(json.dumps({k: info[k] for k in ("bytes", "quality", "sets", "training_code")},
                             indent=1))
            sent = travel_bytes(extra=(args.dest,))
            print(f"what a device call sends (tracked + untracked + {args.dest}): "
                  f"{sent / 2**20:.1f} MiB of {TRAVEL_LIMIT / 2**20:.0f}")
            if sent > TRAVEL_LIMIT:
                raise GpuRunError(f"{sent / 2**20:.1f} MiB would travel, over the "
                                  f"{TRAVEL_LIMIT / 2**20:.0f} MiB limit: pack with a lower --quality")
        elif args.action == "run":
            run(Path(args.out), Path(args.pack), args.epoch_scale, args.profile, args.device,
                Path(args.work) if args.work else None, args.compile, budget_s=args.budget_s)
        else:
            for name in collect(Path(args.src), Path(args.dest)):
                print(Path(args.dest) / name)
    except GpuRunError as e:
        print(f"gpu-partb: {e}", file=sys.stderr)
        return 2
    return 0
