"""Which trained network the inpaint tool uses by default: computed from the report.

Rule. Each trained network of the tool (`networks.trained_networks`) is scored by the
report's own cached evaluation on its own test set: hole PSNR (dB, over the missing
pixels) minus the hole PSNR of the best classical method on the same images and
masks (for the ViT, the mean of that margin over the report's occlusion levels on
the held-out pets). The default is the network with the largest margin if that margin
is positive, i.e. the best method: a network that loses to the classical methods on
its own test set is not the default, ``biharmonic`` is (and so with no trained
network). A network is the default only for images of the size it was tested at
(`default_methods`, `pick`): elsewhere its prediction is resampled, which the margin does not
cover. Raw PSNR is not compared across networks, since they are tested on
different images at different occlusion; the margin over the best method that needs
no training is. `--list-methods` shows every margin.

``make report`` runs ``python -m inpaint_lib rank-networks --profile P`` after the
notebooks; it writes ``results/<profile>/methods.json``, which the tool reads. It
re-reads the notebooks' cached evaluations through the same `Section` calls, so it
trains nothing and, after a report, scores nothing anew.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..io import atomic_write_json, read_json
from ..methods import Method
from ..resolve import PARAMS_DIR
from ..runs import results_root
from .networks import trained_networks
from .photos import Picture

if TYPE_CHECKING:  # the tables are built by `rank_networks` (make report): the command needs neither
    import pandas as pd

FALLBACK = "biharmonic"  # the default with no trained network that beats the classical methods
RULE = ("the trained network with the largest positive test hole-PSNR margin over the best "
        "classical method on the same images and masks, from the report's own evaluation")


def ranking_path(profile: str) -> Path:
    return results_root(profile) / "methods.json"


def read_ranking(profile: str) -> dict[str, Any]:
    path = ranking_path(profile)
    return read_json(path) if path.exists() else {}


def _margins(table: pd.DataFrame) -> pd.DataFrame:
    """Network rows of a results table with the best classical hole PSNR of their setting."""
    import pandas as pd

    key = "setting" if "setting" in table else "masks"
    rows = []
    for setting, g in table.groupby(key, sort=False):
        classical = g[g.kind == "classical"]
        if classical.empty:
            continue
        best = classical.loc[classical.hole_psnr.idxmax()]
        for _, r in g[g.kind == "network"].iterrows():
            rows.append({**r.to_dict(), "setting": setting, "best_classical": best.method,
                         "best_classical_hole_psnr": best.hole_psnr,
                         "margin_db": r.hole_psnr - best.hole_psnr})
    return pd.DataFrame(rows)


def _score(margins: pd.DataFrame, test_set: str, run_dir: str) -> dict[str, Any]:
    return {"run_dir": run_dir, "test_set": test_set,
            "masks": ", ".join(str(s) for s in margins.setting),
            "hole_psnr": float(margins.hole_psnr.mean()),
            "best_classical": " / ".join(dict.fromkeys(margins.best_classical)),
            "best_classical_hole_psnr": float(margins.best_classical_hole_psnr.mean()),
            "margin_db": float(margins.margin_db.mean())}


def rank_networks(profile: str) -> dict[str, Any]:
    """Score every trained network from the report's evaluations; write methods.json."""
    from .. import scoring
    from ..section import open_section

    nets = {n.run.dir.name: n for n in trained_networks(profile)}
    scores: dict[str, dict[str, Any]] = {}
    for notebook in sorted({n.notebook for n in nets.values() if n.name != "vit"}):
        study = open_section(str(PARAMS_DIR / f"{notebook}.yaml"), profile)
        runs = study.runs()  # trained: the notebook recorded them
        by_seed = {(name, r.config.seed): r.dir.name for name, seeded in runs.items() for r in seeded}
        part_a = study.params.part == "A"
        table = (scoring.results_table(study, runs) if part_a else  # the notebook's cached scores
                 scoring.occlusion_levels(study, runs, study.splits.test, study.splits.fingerprint))
        for (method, seed), g in _margins(table).groupby(["method", "seed"], sort=False):
            net = nets.get(by_seed.get((method, int(seed)), ""))
            if net is not None and net.notebook == notebook and net.name not in scores:
                # Part A: the run's first mask setting (its own); Part B: every occlusion level
                scores[net.name] = _score(g.head(1) if part_a else g, study.splits.name, net.run.dir.name)
    vit = next((n for n in nets.values() if n.name == "vit"), None)
    if vit is not None:
        study = open_section(str(PARAMS_DIR / "b8_evaluation.yaml"), profile)
        final = study.phase_chain()[-1][1]
        if final.dir == vit.run.dir:
            levels = scoring.occlusion_levels(study, {"ViT": [final]}, study.splits.test,
                                              study.splits.fingerprint)
            scores["vit"] = _score(_margins(levels), study.splits.name, final.dir.name)
    best = max(scores, key=lambda n: scores[n]["margin_db"]) if scores else None
    default = best if best is not None and scores[best]["margin_db"] > 0 else None
    result = {"profile": profile, "rule": RULE, "default": default, "networks": scores,
              "written": time.strftime("%Y-%m-%d %H:%M:%S")}
    atomic_write_json(ranking_path(profile), result)
    return result


def default_method(profile: str) -> tuple[str, str]:
    """(method name, why) of the tool's default for `profile`."""

    nets = {n.name: n for n in trained_networks(profile)}
    if not nets:
        return FALLBACK, f"no trained network in {results_root(profile)}/runs yet"
    ranking = read_ranking(profile)
    name = ranking.get("default")
    score = ranking.get("networks", {}).get(name or "", {})
    if name in nets and score.get("run_dir") == nets[name].run.dir.name:
        return name, (f"{RULE}: {score['margin_db']:+.2f} dB against {score['best_classical']} "
                      f"on {score['test_set']}; {ranking_path(profile)}")
    scores = ranking.get("networks", {})
    if ranking and scores:
        top = max(scores, key=lambda n: scores[n]["margin_db"])
        return FALLBACK, (f"no trained network beats the classical methods on its test set; the "
                          f"best, {top}, is {scores[top]['margin_db']:+.2f} dB against "
                          f"{scores[top]['best_classical']} ({ranking_path(profile)})")
    return FALLBACK, (f"networks are trained but not ranked yet ({ranking_path(profile)} is "
                      f"missing or stale; `make report PROFILE={profile}` writes it)")


def crossover_default(profile: str) -> tuple[str, dict[str, Any]] | None:
    """(the photo network's tool name, the crossover table) when the crossover section has
    run for `profile` and its network is still in the run cache, else None."""
    from ..crossover import load_crossover

    doc = load_crossover(profile)
    if doc is None:
        return None
    net = next((n for n in trained_networks(profile) if n.run.dir.name == doc["network_run"]), None)
    return (net.name, doc) if net is not None else None


@dataclass(frozen=True)
class PhotoDefault:
    """The photo network the default uses per hole, with the crossover table behind it."""

    name: str  # its tool name: the shipped "photo-network" or the report's "cae-photo"
    crossover: dict[str, Any]  # {"network_run", "rows"}: `crossover.margins` records
    why: str  # one line: which network, and why this one
    make_method: Callable[[torch.device], Method]


def mean_margin(crossover: dict[str, Any], settings: set[tuple[str, str]] | None = None) -> float:
    """The network's mean hole-PSNR margin over the best classical method, over its settings
    (those of `settings` only, when given: two tables compared on the settings they share)."""
    rows = [r for r in crossover["rows"]
            if settings is None or (r["shape"], r["setting"]) in settings]
    return sum(r["hole_psnr_margin"] for r in rows) / len(rows) if rows else float("nan")


def _settings(crossover: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["shape"], r["setting"]) for r in crossover["rows"]}


def photo_default(profile: str) -> PhotoDefault | None:
    """The shipped photo network (`shipped.load`), or the one the report trained for
    `profile` (`crossover_default`) where present and its own crossover table measures it at
    least as good (mean hole-PSNR margin over the settings both tables have, each on its own
    held-out photos: the report's on its profile's, the shipped one's when shipped): a network retrained at full
    scale replaces the shipped one, the quick profile's 14-epoch one does not unless it
    measures better. None when neither exists (the default is then `default_method`)."""
    from .. import shipped as shipped_mod

    shipped = shipped_mod.load()
    local = crossover_default(profile)
    local_net = None
    if local is not None:
        local_net = next(n for n in trained_networks(profile) if n.name == local[0])
    shared = (_settings(local[1]) & _settings(shipped.crossover)
              if local is not None and shipped is not None else None)
    if local is not None and local_net is not None:
        local_margin = mean_margin(local[1], shared)
        if shipped is None or not local_margin < mean_margin(shipped.crossover, shared):
            why = (f"{local[0]}, trained by this checkout's report ({local_net.describe()}); mean "
                   f"margin {local_margin:+.2f} dB over its crossover settings"
                   + (f", against the shipped network's {mean_margin(shipped.crossover, shared):+.2f} "
                      "dB on the same settings" if shipped is not None else ""))
            return PhotoDefault(local[0], local[1], why, local_net.method)
    if shipped is None:
        return None
    why = f"{shipped_mod.NAME}, shipped ({shipped.describe()})"
    if local is not None:
        why += (f"; the report's own {local[0]} measures {mean_margin(local[1], shared):+.2f} dB on "
                f"average against its {mean_margin(shipped.crossover, shared):+.2f} dB on the same "
                "settings, so it is not used")
    return PhotoDefault(shipped_mod.NAME, shipped.crossover, why, shipped.method)


def network_size(name: str, profile: str) -> int:
    return next(n.image_size for n in trained_networks(profile) if n.name == name)


def default_methods(profile: str) -> list[str]:
    """[ranked network, FALLBACK] when a trained network beats the classical methods on its
    own test set (`ranking.default_method`), else [FALLBACK]. The network is the default only
    for images of its own size: its margin was measured there, and at another size its
    prediction is resampled (`at_full_resolution`), which the margin does not cover."""
    name = default_method(profile)[0]
    return [FALLBACK] if name == FALLBACK else [name, FALLBACK]


def pick(methods: list[tuple[str, Method]], picture: Picture, own_size: int | None) -> Method:
    """The method for one image: the first, unless `own_size` (the default network's image
    size) is given and the image is not own_size x own_size; then the second (FALLBACK)."""
    if own_size is not None and picture.size != (own_size, own_size):
        return methods[1][1]
    return methods[0][1]
