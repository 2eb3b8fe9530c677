"""Before any notebook runs: is everything the profile needs on this machine?

``python -m inpaint_lib check --profile P`` (and the first step of ``make report``)
reads every params file with the profile (and INPAINT_OVERRIDES), as the notebooks
will, and works out:

- the datasets: each study's ``data`` (train and test) and its out-of-distribution
  set ``evaluation.ood`` (test only);
- the pretrained VGG-16 of the perceptual loss: needed where a Part B run gives the
  perceptual term a weight (now or through a ramp) with ``perceptual_weights: imagenet``
  (or a file path), unless that run is already in the run cache.

It looks where `inpaint_lib.data` looks (`data.SOURCES` and `data.on_disk`:
torchvision's folder in the data directory, then the image trees; a dataset with a
`fallback` is there when either is) and where
torchvision keeps its checkpoints, without downloading anything. A download counts
as possible only if the host answers within a few seconds. Each missing item is one
line: what, where it looked, and the fix; then exit 2, in seconds, no traceback.
When everything is there, it loads each dataset as the notebooks will (downloading
what is downloadable, decoding each image tree once into the cache), so an
unreadable image in a tree is also reported here, before any training.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

import yaml

from .data import SOURCES, candidate_paths, on_disk
from .resolve import PARAMS_DIR, ParamsError, load_params, run_config
from .schema import DataConfig, SectionParams

PROBE_SECONDS = 3.0
RANDOM_VGG_OVERRIDE = ("INPAINT_OVERRIDES='{cae: {train: {loss: {perceptual_weights: random}}}, "
                       "vit: {train: {loss: {perceptual_weights: random}}}}'")
VGG_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"  # VGG16_Weights.IMAGENET1K_V1


@dataclass
class Need:
    """One dataset configuration and the notebooks that use it."""

    cfg: DataConfig
    users: list[str] = field(default_factory=list)
    train: bool = False  # used for training (needs train/ as well as test/)


@dataclass
class Finding:
    ok: bool
    line: str


# ------------------------------------------------------------------ what is needed
def study_files() -> list[Path]:
    """The params files the report executes (not the bases, not the conclusions summary)."""
    out = []
    for path in sorted(PARAMS_DIR.glob("*.yaml")):
        if path.stem in ("cae", "vit"):
            continue
        doc = yaml.safe_load(path.read_text()) or {}
        if "part_a" not in doc:
            out.append(path)
    return out


def studies(profile: str) -> list[SectionParams]:
    return [load_params(p, profile) for p in study_files()]


def needed_datasets(all_studies: list[SectionParams]) -> list[Need]:
    needs: dict[str, Need] = {}
    for study in all_studies:
        stem = Path(study.source_file).stem
        for cfg, train in ((study.data, True), (study.evaluation.ood, False)):
            if cfg is None:
                continue
            # one need per set of files: sizes, crops, splits and subsets read the same images
            key = cfg.model_dump_json(include={"dataset", "root", "download", "fallback"})
            need = needs.setdefault(key, Need(cfg))
            need.users.append(stem)
            need.train |= train
    return list(needs.values())


def perceptual_runs(study: SectionParams) -> dict[str, str]:
    """{run name: perceptual_weights} of the study's runs whose loss gives the VGG term a
    weight, now or through a ramp (the rule `Trainer` builds the VGG by)."""
    out = {}
    for name in study.runs:
        loss = run_config(study, name).loss
        if loss.uses_perceptual:
            out[name] = loss.perceptual_weights
    return out


def uses_vgg(study: SectionParams) -> list[str]:
    """Names of the study's runs that need pretrained VGG-16 weights (not a random VGG)."""
    return [name for name, weights in perceptual_runs(study).items() if weights != "random"]


# ------------------------------------------------------------------ where it looks
def _has_images(folder: Path) -> bool:
    from .image_trees import IMAGE_SUFFIXES

    return folder.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.rglob("*"))


def _tree_ok(tree: Path, train: bool) -> bool:
    return _has_images(tree / "test") and (not train or _has_images(tree / "train"))


def _paths(cfg: DataConfig) -> tuple[Path | None, list[Path]]:
    """(torchvision's folder or None, image trees) that `data.load(cfg)` would read."""
    if cfg.dataset == "folder":
        return None, [Path(cfg.root or "").expanduser()]
    return candidate_paths(cfg.dataset)


def locate(cfg: DataConfig, train: bool) -> Path | None:
    """Where the dataset (or, failing it, its fallback) is on disk, or None: where
    `data.on_disk` finds it, with images in the tree's test/ (and train/ where it trains)."""
    usable = partial(_tree_ok, train=train)
    if cfg.dataset == "folder":
        found = next((t for t in _paths(cfg)[1] if usable(t)), None)
    else:
        found = on_disk(cfg.dataset, usable)
    if found is None and cfg.fallback is not None:
        return locate(cfg.fallback, train)
    return found


def vgg_checkpoint() -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(VGG_URL).path).name


def probe(host: str) -> bool:
    """True if `host` accepts a TCP connection (HTTPS, else HTTP) within PROBE_SECONDS."""
    for port in (443, 80):
        try:
            socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
            return True
        except OSError:
            continue
    return False


def reachable(hosts: set[str], probe_fn: Callable[[str], bool]) -> dict[str, bool]:
    """Probe every host in parallel; a host that has not answered in time is unreachable
    (DNS lookups are not bounded by the socket timeout, hence the overall deadline)."""
    if not hosts:
        return {}
    pool = ThreadPoolExecutor(max_workers=len(hosts))
    futures = {h: pool.submit(probe_fn, h) for h in hosts}
    wait(futures.values(), timeout=PROBE_SECONDS + 1)
    pool.shutdown(wait=False, cancel_futures=True)
    return {h: f.done() and not f.exception() and bool(f.result()) for h, f in futures.items()}


def _host(url: str) -> str:
    return urlparse(url).hostname or url


# ------------------------------------------------------------------ the lines
def _who(users: list[str]) -> str:
    users = sorted(set(users))
    return users[0] if len(users) == 1 else f"{len(users)} notebooks: {', '.join(users)}"


def _shared_fix(archive: str, shared: Path | None) -> str:
    if shared is not None and (shared / archive).exists():
        return f"`make shared-data SHARED={shared}` (it holds {archive})"
    return f"`make shared-data SHARED=<folder holding {archive}>`"


def missing_dataset_line(need: Need, shared: Path | None) -> str:
    from .data import data_dir

    cfg = need.cfg
    official, trees = _paths(cfg)
    splits = "{train,test}" if need.train else "test"
    if cfg.dataset == "folder":
        return (f"missing: image folder {trees[0]} (for {_who(need.users)}): expected "
                f"{trees[0]}/{splits}/<class>/*.jpg; fix: put the images there, or set data.root "
                "in the params file")
    src = SOURCES[cfg.dataset]
    if cfg.fallback is not None:  # either will do: say so, and how to get the stand-in
        stand_in = missing_dataset_line(Need(cfg.fallback, need.users, need.train), shared)
        return stand_in.replace("missing: ", f"missing: {src.what}, and its stand-in ", 1)
    looked = ", ".join([f"{official}/"] + [f"{t}/{splits}/<class>/*" for t in trees])
    note = "" if data_dir().is_dir() else f" (the data directory {data_dir()} does not exist)"
    fixes = [_shared_fix(src.archive.name, shared)] if src.archive else []
    if cfg.download:
        fixes.append(f"allow the download (network access to {_host(src.url)}; "
                     "torchvision fetches it on the first run)")
    else:
        fixes.append("allow the download (data.download: true and network access)")
    fixes.append("or point INPAINT_DATA_DIR at a folder that holds it")
    return (f"missing: {src.what} (for {_who(need.users)}): looked for {looked}{note}; "
            f"fix: {', or '.join(fixes[:-1])}, {fixes[-1]}")


def missing_vgg_line(users: list[str], where: Path) -> str:
    return (f"missing: the ImageNet VGG-16 weights of the perceptual loss (for {_who(users)}): "
            f"looked for {where}; fix: allow the download (network access to "
            f"{_host(VGG_URL)}, 528 MB), or copy {where.name} there, or run with a randomly "
            f"initialised VGG, flagged on every page that uses it: {RANDOM_VGG_OVERRIDE} make report")


# ------------------------------------------------------------------ the check
def check_present(profile: str, shared: Path | None = None,
                  probe_fn: Callable[[str], bool] = probe) -> tuple[list[Finding], list[Need], list[str]]:
    """Fast pass, no download, no decoding: (findings, datasets, runs needing VGG weights)."""
    all_studies = studies(profile)
    needs = needed_datasets(all_studies)
    vgg_users = [f"{Path(s.source_file).stem}" for s in all_studies if uses_vgg(s)]
    absent = [n for n in needs if n.cfg.dataset != "synthetic" and locate(n.cfg, n.train) is None]
    hosts = {_host(SOURCES[n.cfg.dataset].url) for n in absent
             if n.cfg.dataset in SOURCES and n.cfg.download}
    weights = vgg_checkpoint()
    custom = {run_config(s, r).loss.perceptual_weights for s in all_studies for r in uses_vgg(s)}
    need_vgg = bool(vgg_users) and "imagenet" in custom and not weights.exists()
    if need_vgg:
        hosts.add(_host(VGG_URL))
    online = reachable(hosts, probe_fn)
    findings = []
    for need in absent:
        src = SOURCES.get(need.cfg.dataset)
        if not (src and need.cfg.download and online.get(_host(src.url))):
            findings.append(Finding(False, missing_dataset_line(need, shared)))
    for path in sorted(custom - {"imagenet"}):
        if not Path(path).expanduser().exists():
            findings.append(Finding(False, f"missing: VGG-16 weights file {path} (loss.perceptual_weights "
                                           "in a Part B params file); fix: put the file there or "
                                           "correct the path"))
    if need_vgg and not online.get(_host(VGG_URL)) and not _any_trained(profile, "vit"):
        findings.append(Finding(False, missing_vgg_line(vgg_users, weights)))
    return findings, needs, vgg_users


def _any_trained(profile: str, arch: str) -> bool:
    """Is a run of `arch` with the perceptual loss trained here (the fast pass's sign that the
    VGG-16 weights were here once; the slow pass checks run by run)? Phase 1 trains without
    it (`make study-scale` trains that one alone), so a trained run without it says nothing."""
    from .io import read_json
    from .runs import results_root

    for final in (results_root(profile) / "runs").glob(f"{arch}-*/final.pt"):
        loss = read_json(final.parent / "config.json").get("config", {}).get("loss", {})
        if max(loss.get("perceptual", 0), (loss.get("ramp_to") or {}).get("perceptual", 0)) > 0:
            return True
    return False


def check_loaded(profile: str, needs: list[Need], vgg_users: list[str]) -> list[Finding]:
    """Slow pass, once everything is present: load each dataset as the notebooks will
    (downloads, decoding into the cache), then see whether the VGG weights are still needed."""
    from .data import DataMissingError, load
    from .runs import trained_run

    findings = []
    by_stem = {Path(s.source_file).stem: s for s in studies(profile)}
    for need in needs:
        try:
            splits = load(need.cfg)
        except DataMissingError as e:
            findings.append(Finding(False, f"unusable: {e}"))
            continue
        sizes = ", ".join(f"{k} {v:,}" for k, v in splits.sizes().items() if v)
        role = "data" if need.train else "out-of-distribution test set"
        findings.append(Finding(True, f"ok: {splits.name}: {sizes} images, {splits.source} "
                                      f"({role} of {_who(need.users)})"))
    if any(not f.ok for f in findings):
        return findings
    if not vgg_users:
        if any("random" in perceptual_runs(s).values() for s in by_stem.values()):
            findings.append(Finding(True, "ok: the perceptual loss uses a randomly initialised "
                                          "VGG-16 (no weights needed; flagged in the report)"))
        return findings
    untrained = [stem for stem in vgg_users for name in uses_vgg(by_stem[stem])
                 if trained_run(by_stem[stem], name, profile) is None]
    if not untrained:
        findings.append(Finding(True, "ok: every run with a perceptual loss is already trained "
                                      "(the VGG-16 weights are not needed)"))
        return findings
    where = vgg_checkpoint()
    if where.exists():
        findings.append(Finding(True, f"ok: VGG-16 ImageNet weights at {where}"))
        return findings
    from torchvision.models import VGG16_Weights

    try:  # the host answered in the fast pass: fetch now, as training would
        VGG16_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
        findings.append(Finding(True, f"ok: VGG-16 ImageNet weights downloaded to {where}"))
    except Exception:  # noqa: BLE001 - any network failure: the same one line
        findings.append(Finding(False, missing_vgg_line(untrained, where)))
    return findings


def run_check(profile: str, shared: Path | None = None,
              probe_fn: Callable[[str], bool] | None = None) -> int:
    """Print one line per item (missing ones on stderr); 0 if all is there, else 2."""
    t0 = time.perf_counter()
    try:
        findings, needs, vgg_users = check_present(profile, shared, probe_fn or probe)
        if all(f.ok for f in findings):
            findings += check_loaded(profile, needs, vgg_users)
    except ParamsError as e:
        print(f"invalid: {e}", file=sys.stderr)
        return 2
    for f in findings:
        print(f.line, file=sys.stdout if f.ok else sys.stderr, flush=True)
    bad = sum(not f.ok for f in findings)
    took = time.perf_counter() - t0
    if bad:
        print(f"check: {bad} item(s) missing for profile {profile}; nothing was run ({took:.1f} s)",
              file=sys.stderr)
        return 2
    print(f"check: profile {profile} has everything it needs ({took:.1f} s)")
    return 0
