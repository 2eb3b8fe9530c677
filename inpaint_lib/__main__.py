"""Command line: ``python -m inpaint_lib COMMAND ...``.

- ``check [--profile P] [--shared DIR] [--offline]``: is every dataset and weight file the
  profile needs here? One line per missing item (what, where it looked, the fix), exit 2.
- ``inpaint IMAGE_OR_DIR... (--mask M | --mask-from-alpha | --squares C:S | --strokes C:W) --out PATH
  [--method NAME | --compare] [--list-methods]``: inpaint your own images (tool/command.py).
- ``publish --profile P --out docs/report.html``: the committable copy of a rendered report
  (report/publish.py): figures re-encoded, images that may not be redistributed removed, credits.
- ``rank-networks --profile P``: the inpaint tool's default network, from the report's
  evaluations (tool/ranking.py); ``make report`` runs it.
- ``validate PARAMS... [--profile P]``: check params files before any work;
  one line naming file and field per bad file, exit 2.
- ``train PARAMS... [--profile P] [--device D] [--run NAME]...``: train (or find cached)
  every run the files declare (or the named ones, every seed), print their run
  directories. Same code as the notebooks.
- ``score PARAMS [--profile P] [--run NAME]...``: score trained runs and the classical
  methods on the study's test images and masks and print the table; trains nothing.
- ``jobs [PARAMS...] --profile P (--list | --workers N | --gpus K | --scheduler ADDR |
  --slurm JOBS)``: every run of the profile as one Dask job each (one Slurm job each, named
  by the run's key, with --slurm), Part B phases chained (jobs.py); the notebooks then only
  read the run cache.
- ``photo-network [--profile full] [--validate]``: train the shipped photo network from scratch
  and write it, its crossover tables (validation photos: where choices are made; test photos:
  the tool's) and provenance into inpaint_lib/photo_network/ (tool/retrain.py); ``--validate``:
  print the validation table only.
- ``study-scale [--status | --table | --record] [--commit]``: Part A (and Part B's phase 1) at
  the study's scale: train the planned full-profile runs that are missing, from one fixed
  commit, record each process as a segment, record each run in results/full/study-scale.json
  and commit them (study_scale.py, study_scale_vit.py; ``--record``: record the finished ones,
  train nothing).
- ``report --profile P``: merge the executed notebooks into one HTML report.
- ``compare-published [--profile quick] [--published docs/report.html]``: this run's first-screen
  findings beside the published copy's (report/first_screen.py); exit 0 when every difference
  is within noise, 1 when one is beyond it, 2 when either side's findings are missing.
- ``unpack-shared SRC [--dest DIR]``: unpack the offline archives of
  ``../shared/data`` into the data directory as image trees with LABEL files.
- ``gpu-partb pack|run|collect``: Part B at the study's scale on one GPU (gpu_partb.py):
  pack the pets and boats here, train and score there, bring the files back here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .resolve import PROFILES, ParamsError, is_conclusions, load_conclusions, load_params


def _validate(files: list[str], profile: str) -> int:
    bad = 0
    for f in files:
        try:
            if is_conclusions(f):
                load_conclusions(f)
            else:
                load_params(f, profile)
        except (ParamsError, OSError) as e:
            print(f"invalid: {e}", file=sys.stderr)
            bad += 1
    if not bad:
        print(f"ok: {len(files)} params file(s) valid for profile {profile}")
    return 2 if bad else 0


def _train(files: list[str], profile: str, device: str | None, only: list[str] | None) -> int:
    """Train (or find) every run of the files, or only the runs named by --run (every seed)."""
    import torch

    from .device import default_device
    from .resolve import seeds_for, with_seed
    from .runs import get_run

    dev = torch.device(device) if device else default_device()
    for f in files:
        params = load_params(f, profile)
        names = only or list(params.runs)
        for name in names:
            if name not in params.runs:
                raise ParamsError(f"{f}: --run {name!r}: no such run (have {', '.join(params.runs)})")
        for name in names:
            for seed in seeds_for(params, name):  # progress with ETA on stderr
                run = get_run(with_seed(params, name, seed), name, profile, dev)
                print(f"{f} :: {name} (seed {seed}) -> {run.dir}", flush=True)
    return 0


def _score(file: str, profile: str, device: str | None, only: list[str] | None) -> int:
    """Score trained runs (never train) and the classical methods on the study's test set and
    masks, and print the ablation-style table: the command behind a GPU or full-scale number."""
    import pandas as pd

    from . import scoring
    from .report import tables
    from .resolve import seeds_for, with_seed
    from .runs import trained_run
    from .section import open_section

    study = open_section(file, profile, device)
    names = only or list(study.params.runs)
    runs = {}
    for name in names:
        if name not in study.params.runs:
            raise ParamsError(f"{file}: --run {name!r}: no such run (have {', '.join(study.params.runs)})")
        seeded = [trained_run(with_seed(study.params, name, s), name, profile)
                  for s in seeds_for(study.params, name)]
        runs[name] = [r for r in seeded if r is not None]
        if not runs[name]:
            raise ParamsError(f"{file}: --run {name!r} is not trained for profile {profile}: "
                              f"python -m inpaint_lib train {file} --profile {profile} --run {name!r}")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(f"{study.params.title} · {study.label()} · profile {profile}")
        print(tables.ablation(scoring.results_table(study, runs)).to_string(index=False))
    return 0


def _compare_published(profile: str, published: str | None) -> int:
    """This run's first-screen findings against the published copy's, as a table: exit 0 when
    every difference is within noise, 1 when one is beyond it, 2 (one line) when a side has
    no findings."""
    from .report.first_screen import (
        NOT_REPRODUCED,
        PUBLISHED,
        FindingsMissing,
        compare,
        findings_path,
        load,
        published_path,
        table,
    )

    report = Path(published) if published else PUBLISHED
    try:
        theirs = load(published_path(report), "the published copy")
        ours = load(findings_path(profile), f"this run (profile {profile}; `make report PROFILE={profile}` writes it)")
    except FindingsMissing as e:
        print(f"compare-published: {e}", file=sys.stderr)
        return 2
    if theirs["profile"] != profile:
        print(f"compare-published: the published copy is of profile {theirs['profile']}, not {profile}",
              file=sys.stderr)
        return 2
    rows = compare(theirs, ours)
    print(table(rows, theirs, ours))
    return 1 if any(r.status == NOT_REPRODUCED for r in rows) else 0


def _unpack_shared(src: str, dest: str | None) -> int:
    import tarfile

    from .data import SHARED_ARCHIVES, data_dir

    root = Path(dest) if dest else data_dir()
    for archive in SHARED_ARCHIVES:
        path, target, label = Path(src) / archive.name, root / archive.tree, archive.label
        if (target / "LABEL").exists():
            print(f"{target}: already unpacked")
            continue
        if not path.exists():
            print(f"{path}: missing, skipped", file=sys.stderr)
            continue
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path) as tar:
            members = tar.getmembers()
            top = {m.name.split("/")[0] for m in members}
            strip = len(top) == 1 and next(iter(top)) not in ("train", "test")
            for m in members:
                if strip:
                    m.name = m.name.partition("/")[2]
                if m.name:
                    tar.extract(m, target, filter="data")
        (target / "LABEL").write_text(label + "\n")
        print(f"{target}: {label}")
    return 0


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors are one line naming the option (exit 2), not the whole usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _add_tool_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inpaint", help="inpaint your own images (python -m inpaint_lib inpaint -h)",
                       description="Fill the holes of your own images with a classical method or a "
                                   "trained network of the run cache. "
                                   "See inpaint_lib/tool/command.py.")
    p.add_argument("inputs", nargs="*", metavar="IMAGE_OR_DIR")
    holes = p.add_mutually_exclusive_group()
    holes.add_argument("--mask", metavar="MASK", help="mask image, nonzero (white) = missing, the "
                       "image's size; or a folder of masks matched by name")
    holes.add_argument("--mask-from-alpha", action="store_true",
                       help="the hole is every pixel of the image that is not fully opaque")
    holes.add_argument("--squares", metavar="COUNT:SIZE", help="COUNT random SIZExSIZE squares")
    holes.add_argument("--strokes", metavar="COUNT:WIDTH",
                       help="COUNT random free-form brush strokes WIDTH px wide")
    p.add_argument("--seed", type=int, default=0, help="seed of --squares/--strokes (default 0)")
    p.add_argument("--method", default=None, help="mean, telea, ns, biharmonic, fsr-fast, "
                   "fsr-best, patchmatch, photo-network or a trained network (see --list-methods; "
                   "default: per hole, the photo network or the best classical method)")
    p.add_argument("--compare", action="store_true",
                   help="write one panel with every method side by side instead of one fill")
    p.add_argument("--no-check", action="store_true",
                   help="the default per hole from the photo network's table alone, without "
                        "checking it on copies of the holes in the photo (about half the time)")
    p.add_argument("--out", default=None, help="output PNG (one image) or folder")
    p.add_argument("--profile", default="quick", choices=PROFILES, help="whose run cache (default quick)")
    p.add_argument("--device", default=None, help="cpu, cuda (default: cuda if available)")
    p.add_argument("--list-methods", action="store_true", help="what is available, from which run")
    p = sub.add_parser("publish", help="the committable copy of a rendered report (make publish)")
    p.add_argument("--profile", default="quick", choices=PROFILES)
    p.add_argument("--report", default=None, help="rendered report (default results/<profile>/report.html)")
    p.add_argument("--out", default="docs/report.html")
    p = sub.add_parser("rank-networks", help="score the trained networks for the inpaint tool's "
                       "default (make report runs it)")
    p.add_argument("--profile", default="quick", choices=PROFILES)


def _add_gpu_partb_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gpu-partb", help="Part B at the study's scale on one GPU (make gpu-partb)")
    act = p.add_subparsers(dest="action", required=True)
    a = act.add_parser("pack", help="here: the pets and boats, squashed and re-encoded, into DEST")
    a.add_argument("--dest", default=".gpu")
    a.add_argument("--size", type=int, default=224, help="pets' side (the profile's image size)")
    a.add_argument("--ood-size", type=int, default=224, help="boats' side (evaluation.ood)")
    a.add_argument("--quality", type=int, default=80, help="JPEG quality of the re-encoding")
    a = act.add_parser("run", help="there: train the seven phases, score, write <= 8 files to OUT")
    a.add_argument("--out", required=True)
    a.add_argument("--pack", default=".gpu", help="folder of data.tar and pack.json")
    a.add_argument("--epoch-scale", type=float, default=0.45,
                   help="fraction of the study's 400 epochs (default 0.45: 180 epochs)")
    a.add_argument("--profile", default="full", choices=PROFILES)
    a.add_argument("--device", default=None)
    a.add_argument("--work", default=None, help="scratch folder (default /tmp/inpaint-gpu-partb)")
    a.add_argument("--compile", action="store_true", help="torch.compile the ViT and the VGG")
    a.add_argument("--budget-s", type=float, default=540.0, help="stop training after the phase "
                   "past which the rest would not fit these seconds (default 540)")
    a = act.add_parser("collect", help="here: the run's files into DEST, weights joined")
    a.add_argument("src")
    a.add_argument("--dest", default="results/full-gpu")


def _run_tool(args: argparse.Namespace) -> int:
    from .shipped import ShippedNetworkError
    from .tool.command import ToolError, run

    try:
        return run(args)
    except (ToolError, ShippedNetworkError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    ap = _OneLineParser(prog="python -m inpaint_lib", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("validate", "train"):
        p = sub.add_parser(name)
        p.add_argument("params", nargs="+")
        p.add_argument("--profile", default="quick", choices=PROFILES)
        if name == "train":
            p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda if available)")
            p.add_argument("--run", action="append", default=None, metavar="NAME",
                           help="train only this run of the params file (repeatable; every seed)")
    p = sub.add_parser("score", help="score trained runs and the classical methods (trains nothing)")
    p.add_argument("params")
    p.add_argument("--profile", default="quick", choices=PROFILES)
    p.add_argument("--device", default=None)
    p.add_argument("--run", action="append", default=None, metavar="NAME")
    p = sub.add_parser("report")
    p.add_argument("--profile", default="quick", choices=PROFILES)
    p.add_argument("--out", default=None)
    p = sub.add_parser("compare-published", help="this run's first-screen findings against the "
                       "published copy's: exit 0 all within noise, 1 one beyond, 2 a side missing")
    p.add_argument("--profile", default="quick", choices=PROFILES)
    p.add_argument("--published", default=None, help="the published report (default docs/report.html; "
                   "its findings are beside it)")
    p = sub.add_parser("check", help="datasets and weights the profile needs (make report runs it first)")
    p.add_argument("--profile", default="quick", choices=PROFILES)
    p.add_argument("--shared", default=None, help="folder of the offline archives (for the fix lines)")
    p.add_argument("--offline", action="store_true",
                   help="do not probe the network: downloads count as impossible")
    _add_tool_parsers(sub)
    from .jobs import add_parser as add_jobs_parser

    add_jobs_parser(sub, PROFILES)
    p = sub.add_parser("study-scale", help="Part A (and Part B's phase 1) at the study's scale: train "
                       "the planned full-profile runs that are missing, from one fixed commit "
                       "(make study-scale)")
    p.add_argument("--status", action="store_true", help="print runs done / to do and the ETA; train nothing")
    p.add_argument("--commit", action="store_true", help="git-commit each finished run's files "
                   "and its record")
    p.add_argument("--table", action="store_true", help="print the runs beside the study's numbers "
                   "as a Markdown table; train nothing")
    p.add_argument("--record", action="store_true", help="export, score and record (with --commit: "
                   "commit) the finished planned runs in results/full/study-scale.json; train nothing")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    p = sub.add_parser("photo-network", help="train the shipped photo network from scratch and write "
                       "it with its crossover table into inpaint_lib/photo_network/ (make photo-network)")
    p.add_argument("--profile", default="full", choices=PROFILES)
    p.add_argument("--device", default=None)
    p.add_argument("--out", default=None, help="folder to write (default: the shipped one)")
    p.add_argument("--validate", action="store_true", help="print the network's table on the "
                   "validation photos only (to choose a variant), write nothing")
    p = sub.add_parser("unpack-shared")
    p.add_argument("src")
    p.add_argument("--dest", default=None)
    _add_gpu_partb_parser(sub)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "validate":
            return _validate(args.params, args.profile)
        if args.cmd == "train":
            return _train(args.params, args.profile, args.device, args.run)
        if args.cmd == "score":
            return _score(args.params, args.profile, args.device, args.run)
        if args.cmd == "check":
            from .preflight import run_check

            return run_check(args.profile, Path(args.shared) if args.shared else None,
                             (lambda host: False) if args.offline else None)
        if args.cmd == "jobs":
            from .jobs import main as jobs_main

            return jobs_main(args)
        if args.cmd == "unpack-shared":
            return _unpack_shared(args.src, args.dest)
        if args.cmd == "photo-network":
            from .shipped import SHIPPED_DIR
            from .tool.retrain import retrain

            retrain(args.profile, Path(args.out) if args.out else SHIPPED_DIR, args.device,
                    validate=args.validate)
            return 0
        if args.cmd == "study-scale":
            from .study_scale import main as study_scale

            return study_scale(args.status, args.commit, args.threads, args.table, args.record)
        if args.cmd == "gpu-partb":
            from .gpu_partb import main as gpu_partb

            return gpu_partb(args)
        if args.cmd == "inpaint":
            return _run_tool(args)
        if args.cmd == "publish":
            from .report.publish import PublishError, publish

            try:
                return publish(args.profile, Path(args.out), Path(args.report) if args.report else None)
            except PublishError as e:
                print(f"publish: {e}", file=sys.stderr)
                return 2
        if args.cmd == "compare-published":
            return _compare_published(args.profile, args.published)
        if args.cmd == "rank-networks":
            from .tool.ranking import rank_networks

            ranking = rank_networks(args.profile)
            print(f"default network for profile {args.profile}: {ranking['default'] or 'none trained'}")
            return 0
        from .report.build import build_report

        print(build_report(args.profile, args.out))
        return 0
    except ParamsError as e:
        print(f"invalid: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        # imported here, not at the top: `validate` starts without torch
        from .image_trees import DataMissingError
        from .losses import WeightsMissingError
        from .train import TrainingDiverged

        if isinstance(e, (DataMissingError, WeightsMissingError, TrainingDiverged)):
            print(f"error: {e}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
