"""Part A at the study's own scale (and Part B's first phase): the runs trained once on this
CPU, committed, and read back.

The study reports eleven Part A numbers from eight configurations. `PLAN` is seed 0 of each
(the baseline is also the study's Adam, latent-128 and 10x10-square run), seeds 1 and 2 of the
baseline, and seeds 0-2 of the ablation's best combination and of latent 256 (the first the
strongest result, the second a step that one seed left within noise): fifteen runs at the
`full` profile (45k/5k/10k, 200 epochs, batch 256). And one Part B run: phase 1 of the study's
ViT at 224 px (epochs 1-20, MAE only, so no GPU and no VGG-16 weights), committed without its
weights and scored as every Part B network is (`study_scale_vit`).

``python -m inpaint_lib study-scale`` (``make study-scale``) trains what is missing, one run
at a time, from one fixed commit: a git worktree (`WORKTREE`) at the commit recorded in
`results/full/study-scale.json`, so that training-code changes on the checked-out branch
meanwhile neither restart a run nor mix two codes among them. Each run goes through the
run cache of that code (``python -m inpaint_lib train ... --profile full``), which checkpoints
every epoch: stop it at any moment and start it again. A finished run is *exported* in place
(its `final.pt` keeps the weights only), scored on the full 10,000-image test set
(`scores.json`) and committed under `results/full/runs/` (``--commit``).

Every training process of a run is recorded beside it (``segments.json``, `segments`): the
pinned commit's code does not record them, so the driver does, around each process it starts
(commit, training code, precision, threads, start, end, epochs), appended across resumes. A run
is committed only if every one of its segments came from the pinned commit (`unpinned`), and
the command records it in `results/full/study-scale.json` (`record`): its commit, training
code, precision, data fingerprint, the SHA-256 of its weights and its test MSE.

Reading them back (`served_run`) matches a run by its config key, never by today's training
code, so the report shows a committed number whatever today's code is, and says when today's
training code differs from the code that trained it (`Committed.code`). A run is served as
*committed* only if git tracks it and it is what its record says (`Committed.problems`: the
pinned commit and training code, its precision, its data, its weights, its score); any other
run found (a developer's own full-profile run, a changed one) is named as such, never as
committed (`Committed.status`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from . import segments
from . import study_scale_vit as vit
from .code_version import scoring_code, training_code
from .io import atomic_torch_save, atomic_write_json, read_json, sha256_file
from .paths import REPO_ROOT
from .resolve import chained_run_config, deep_merge, find_params, load_params, with_seed
from .runs import Run
from .schema import RunConfig

PROFILE = "full"


@dataclass(frozen=True)
class Planned:
    """One run of the plan: where it is declared, its name there, its seed."""

    notebook: str  # params stem, e.g. "a2_optimizers"
    run: str
    seed: int = 0

    @property
    def label(self) -> str:
        return f"{self.notebook} :: {self.run} (seed {self.seed})"

    @property
    def part(self) -> str:
        """The study's part: "A" (the CAE) or "B" (the ViT: exported and scored by
        `study_scale_vit`)."""
        return load_params(find_params(f"{self.notebook}.yaml"), PROFILE).part


# the order they train in: the baseline and the best combination first (the headline numbers),
# then the study's other configurations, then the baseline's extra seeds (its noise)
PLAN: tuple[Planned, ...] = (
    Planned("a1_baseline", "baseline"),
    Planned("a6_ablation", "best combination"),
    Planned("a2_optimizers", "RMSprop"),
    Planned("a2_optimizers", "SGD + Momentum"),
    Planned("a3_latent", "16"),
    Planned("a3_latent", "64"),
    Planned("a3_latent", "256"),
    Planned("a4_masking", "Random-size squares"),
    Planned("a4_masking", "Multiple squares"),
    Planned("a1_baseline", "baseline", 1),
    Planned("a1_baseline", "baseline", 2),
    # the strongest Part A result on three seeds (its interval then needs no borrowed spread),
    # and latent 256, whose one seed sat within the baseline's seed noise of latent 128 (each
    # about 80 min here: before the ViT's hours, so each session can finish one)
    Planned("a6_ablation", "best combination", 1),
    Planned("a6_ablation", "best combination", 2),
    Planned("a3_latent", "256", 1),
    Planned("a3_latent", "256", 2),
    # Part B's first phase: the study's own ViT at 224 px, epochs 1-20 on MAE alone
    Planned("b1_phase1", "vit"),
)


def planned(part: str) -> list[Planned]:
    """The plan's runs of one part ("A" or "B")."""
    return [p for p in PLAN if p.part == part]


def planned_runs(notebook: str) -> list[str]:
    """The names of `notebook`'s runs (params stem) that the plan trains."""
    return list(dict.fromkeys(p.run for p in PLAN if p.notebook == notebook))


WORKTREE = REPO_ROOT / ".study-scale"  # the fixed commit's checkout (git-ignored)
COMMITTED_FILES = ("config.json", "history.json", "train.log", "final.pt", "scores.json",
                   segments.SEGMENTS)


def committed_files(run_dir: Path) -> tuple[str, ...]:
    """What git holds of a finished run: `COMMITTED_FILES`, or, where its weights stay out of git
    (a weights record beside them: Part B), `study_scale_vit.COMMITTED_FILES`."""
    return vit.COMMITTED_FILES if (run_dir / vit.WEIGHTS_RECORD).exists() else COMMITTED_FILES


def weights_sha256(run_dir: Path) -> str | None:
    """The SHA-256 of the run's final.pt, or, where a checkout has no weights (Part B's run is
    committed without them), the one its weights record names."""
    if (run_dir / "final.pt").exists():
        return sha256_file(run_dir / "final.pt")
    record = run_dir / vit.WEIGHTS_RECORD
    return read_json(record).get("sha256") if record.exists() else None


def finished(run_dir: Path) -> bool:
    """Its weights are written, or recorded (a checkout of a run committed without them)."""
    return (run_dir / "final.pt").exists() or (run_dir / vit.WEIGHTS_RECORD).exists()


def committed_root() -> Path:
    """Where the committed full-scale runs live: the checkout's own results/full (not
    INPAINT_RESULTS_DIR, which may point at a scratch folder)."""
    return REPO_ROOT / "results" / PROFILE


def planned_config(p: Planned) -> RunConfig:
    """The effective config of a planned run at the full profile (nothing is loaded)."""
    params = load_params(find_params(f"{p.notebook}.yaml"), PROFILE)
    return chained_run_config(with_seed(params, p.run, p.seed), p.run, PROFILE)


COMMITTED, UNTRACKED, DIFFERS = "committed", "untracked", "differs from its record"


@dataclass(frozen=True)
class Committed:
    """A finished full-scale run found on disk, with what made it, its record in
    study-scale.json (None: not recorded) and whether git tracks it."""

    dir: Path
    info: dict[str, Any]  # its config.json
    record: dict[str, Any] | None = None  # its entry in study-scale.json's "runs"
    pin: dict[str, Any] | None = None  # study-scale.json's pinned commit and training code
    tracked: bool = False  # does git track its weights?

    @property
    def code(self) -> str:
        return self.info.get("code", "unrecorded")

    @property
    def commit(self) -> str:
        return self.info.get("git_commit", "unknown")

    @property
    def precision(self) -> str:
        return self.info.get("precision", "unrecorded")

    @property
    def current_code(self) -> bool:
        """Was it trained by today's training code (would the run cache find it)?"""
        return self.code == training_code()

    @property
    def scores(self) -> dict[str, Any] | None:
        path = self.dir / "scores.json"
        return read_json(path) if path.exists() else None

    @property
    def segments(self) -> list[dict[str, Any]]:
        """Its training processes (`segments.load`), oldest first."""
        return segments.load(self.dir)

    def problems(self) -> list[str]:
        """Why it may not be served as committed: [] when git tracks it and it is what its
        record says (the pinned commit and training code; its config.json's commit, training
        code, precision and data; its weights' SHA-256; its scores' test MSE)."""
        if self.record is None:
            return ["not recorded in results/full/study-scale.json"]
        out = []
        r, pin = self.record, self.pin or {}
        if not _same_commit(r.get("commit"), pin.get("commit")):
            out.append(f"its recorded commit {r.get('commit')} is not the pinned "
                       f"{str(pin.get('commit'))[:7]}")
        if r.get("training_code") != pin.get("training_code"):
            out.append(f"its recorded training code {r.get('training_code')} is not the pinned "
                       f"{pin.get('training_code')}")
        for field, key in RECORDED.items():
            if self.info.get(key) != r.get(field):
                out.append(f"its config.json says {field} {self.info.get(key)}, its record "
                           f"{r.get(field)}")
        if weights_sha256(self.dir) != r.get("weights_sha256"):
            out.append("its weights are not the recorded ones (SHA-256 differs)")
        mse = (self.scores or {}).get("means", {}).get("mse")
        if r.get("test_mse") is None and r.get("scores_sha256"):  # Part B: no one test MSE
            if sha256_file(self.dir / "scores.json") != r["scores_sha256"]:
                out.append("its scores.json is not the recorded one (SHA-256 differs)")
        elif mse is None or r.get("test_mse") is None or abs(mse - r["test_mse"]) > 1e-12:
            out.append(f"its scores.json test MSE {mse} is not the recorded {r.get('test_mse')}")
        if not self.tracked:
            out.append("git does not track it")
        return out

    @property
    def status(self) -> str:
        """`COMMITTED` (served as such), `UNTRACKED` (not recorded, or not in git) or
        `DIFFERS` (recorded, but not what the record says)."""
        problems = self.problems()
        if not problems:
            return COMMITTED
        if self.record is None or problems == ["git does not track it"]:
            return UNTRACKED
        return DIFFERS

    def run(self, name: str) -> Run:
        cfg = RunConfig.model_validate(self.info["config"])
        return Run(name, cfg, self.dir, self.info.get("dataset", "unknown"))

    def provenance(self) -> str:
        """e.g. 'commit 6ea29f4, training code a093c22367e8, bf16 autocast' (+ 'not today's';
        + its status where it is not committed as recorded)."""
        note = "" if self.current_code else f" (today's training code is {training_code()})"
        status = "" if self.status == COMMITTED else f"; {self.status}: {'; '.join(self.problems())}"
        return f"commit {self.commit}, training code {self.code}{note}, {self.precision}{status}"


# the fields of a run's record checked against its config.json when it is served
RECORDED = {"commit": "git_commit", "training_code": "code", "precision": "precision",
            "data": "data"}


def _same_commit(a: str | None, b: str | None) -> bool:
    """Is a (possibly short) commit id the same as another? ('+dirty' never is.)"""
    if not a or not b or "+" in a or "+" in b:
        return False
    n = min(len(a), len(b))
    return n >= 7 and a[:n] == b[:n]


def finished_runs(root: Path | None = None) -> list[Committed]:
    """Every finished run under `root`/runs (default `committed_root()`), oldest first, with
    its record (study-scale.json) and whether git tracks it."""
    root = root or committed_root()
    pin = read_json(pin_file(root)) if pin_file(root).exists() else {}
    records = pin.get("runs", {})
    in_git = tracked(root)
    found = []
    for cfg_file in sorted((root / "runs").glob("*/config.json")):
        d = cfg_file.parent
        if finished(d):
            found.append(Committed(d, read_json(cfg_file), records.get(d.name), pin,
                                   d.name in in_git))
    return sorted(found, key=lambda c: c.info.get("started", ""))


def _key(info: dict[str, Any]) -> set[str]:
    """A run's config key as recorded, and as today's code computes it from its config (the two
    agree unless the key's definition changed since: then either still finds it)."""
    keys = {info.get("key")}
    try:
        keys.add(RunConfig.model_validate(info["config"]).key())
    except (KeyError, ValueError):
        pass
    return keys - {None}


def tracked(root: Path) -> set[str]:
    """Run directories under `root`/runs whose final.pt git tracks (committed runs)."""
    try:
        out = git("ls-files", "--", str((root / "runs").relative_to(REPO_ROOT)), check=False).stdout
    except ValueError:  # a root outside the checkout: nothing there is committed
        return set()
    return {Path(line).parent.name for line in out.splitlines()
            if line.endswith(("/final.pt", f"/{vit.WEIGHTS_RECORD}"))}


def committed_run(cfg: RunConfig, code: str | None = None, root: Path | None = None) -> Committed | None:
    """The finished run with this effective config, trained by whichever code (by `code`
    only, if given): one committed as recorded (`Committed.status`) before any other, then
    one git tracks, then the newest. Whether it may be served as committed: its `status`."""
    root = root or committed_root()
    key = cfg.key()
    matches = [c for c in finished_runs(root) if key in _key(c.info)
               and (code is None or c.info.get("code") == code)]
    if not matches:
        return None
    return max(matches, key=lambda c: (c.status == COMMITTED, c.tracked, c.info.get("started", "")))


def served_run(cfg: RunConfig, root: Path | None = None) -> tuple[Committed | None, list[Committed]]:
    """(the run with this config served at the study's scale: committed as recorded, or
    None; every other finished run with this config, named but not used: untracked or not
    what its record says)."""
    root = root or committed_root()
    key = cfg.key()
    matches = [c for c in finished_runs(root) if key in _key(c.info)]
    good = [c for c in matches if c.status == COMMITTED]
    served = max(good, key=lambda c: c.info.get("started", "")) if good else None
    return served, [c for c in matches if c is not served]


def in_progress(cfg: RunConfig, root: Path | None = None,
                code: str | None = None) -> tuple[Path, int] | None:
    """(run dir, last checkpointed epoch) of an unfinished run with this config (trained by
    `code`, if given), if any."""
    key = cfg.key()
    for cfg_file in sorted(((root or committed_root()) / "runs").glob("*/config.json")):
        d = cfg_file.parent
        info = read_json(cfg_file)
        if (key in _key(info) and not finished(d)
                and (code is None or info.get("code") == code)):
            log = d / "train.log"
            epochs = re.findall(r"^epoch (\d+)/", log.read_text(), re.MULTILINE) if log.exists() else []
            return d, int(epochs[-1]) if epochs else 0
    return None


# ---------------------------------------------------------------- exporting
def export(c: Committed, retrain: str | None = None) -> None:
    """Make a finished run committable: final.pt without the optimiser state (atomic); the
    run cache still finds it (nothing continues from a CAE run's optimiser). With `retrain`
    (Part B: phase 2 continues from the weights and the optimiser's moments, too big for git),
    final.pt stays as it is and its record is written instead (`study_scale_vit.record_weights`)."""
    if retrain is not None:
        vit.record_weights(c.dir, retrain)
        return
    state = torch.load(c.dir / "final.pt", map_location="cpu", weights_only=True)
    if set(state) != {"model"}:
        atomic_torch_save({"model": state["model"]}, c.dir / "final.pt")


def score(c: Committed, p: Planned) -> dict[str, Any]:
    """Score a finished run on the full test split under its own training masks, with the
    evaluation's seed (today's scoring code), and write `scores.json` beside it (Part B: on
    the held-out pets and the boats, `study_scale_vit.score`)."""
    if p.part == "B":
        return vit.score(c, p)
    from .section import open_section  # the evaluation layer: only when scoring

    section = open_section(find_params(f"{p.notebook}.yaml"), PROFILE)
    run = c.run(p.run)
    per_image = section.score(section.method(run), run.config.mask)
    out = {"images": len(next(iter(per_image.values()))),
           "dataset": section.splits.name, "data": section.splits.fingerprint,
           "mask": run.config.mask.model_dump(mode="json"),
           "mask_seed": section.params.evaluation.mask_seed, "value_range": list(section.value_range),
           "scoring_code": scoring_code(),
           "means": {k: float(v.double().mean()) for k, v in per_image.items()}}
    atomic_write_json(c.dir / "scores.json", out)
    return out


# ---------------------------------------------------------------- recording
def unpinned(c: Committed, pin: dict[str, Any]) -> list[str]:
    """The segments of a run not from the pinned commit: '' for none. A segment whose commit
    is unrecorded (reconstructed, before the last process of a run trained before segments
    were recorded) is not known to come from it."""
    out = []
    for i, seg in enumerate(c.segments, 1):
        if not _same_commit(seg.get("commit"), pin.get("commit")):
            what = "unrecorded" if seg.get("commit") is None else seg["commit"]
            out.append(f"segment {i} (epochs {_epochs(seg)}): commit {what}")
        elif seg.get("code") != pin.get("training_code"):
            out.append(f"segment {i} (epochs {_epochs(seg)}): training code {seg.get('code')}")
    if not c.segments:
        out.append("no segment recorded")
    return out


def unrecorded_epochs(c: Committed) -> str:
    """The epochs of a run trained by processes whose commit and precision were not recorded
    (reconstructed segments of a run committed before segments were recorded: their training
    code is the run's, part of its key), e.g. '1-29'; '' when every process was recorded."""
    return ", ".join(_epochs(s) for s in c.segments if s.get("commit") is None and s.get("epochs"))


def _epochs(seg: dict[str, Any]) -> str:
    e = seg.get("epochs")
    return "none" if not e else f"{e[0]}-{e[1]}" if e[0] != e[1] else str(e[0])


def record(c: Committed, p: Planned, root: Path | None = None, note: str = "") -> dict[str, Any]:
    """Write the run's entry in study-scale.json's "runs" (atomically; the rest of the file
    kept): which planned run it is, the commit, training code, precision and data
    fingerprint its config.json records, the SHA-256 of its weights, its test MSE as scored,
    how many segments trained it and how many of them are reconstructed (`note`: why it was
    recorded, e.g. a migration). What `Committed.problems` checks when the run is served."""
    f = pin_file(root)
    doc = read_json(f)
    segs = c.segments
    entry = {"run": p.label, "notebook": p.notebook, "name": p.run, "seed": p.seed,
             **{field: c.info.get(key) for field, key in RECORDED.items()},
             "dataset": c.info.get("dataset"), "weights_sha256": sha256_file(c.dir / "final.pt"),
             "test_mse": (c.scores or {}).get("means", {}).get("mse"),
             "scores_sha256": sha256_file(c.dir / "scores.json"),
             "segments": len(segs),
             "segments_reconstructed": sum(s.get("recorded", "").startswith("reconstructed")
                                           for s in segs),
             "recorded": time.strftime("%Y-%m-%d %H:%M:%S")} | ({"note": note} if note else {})
    doc.setdefault("runs", {})[c.dir.name] = entry
    atomic_write_json(f, doc)
    return entry


MIGRATED = ("recorded from its config.json and train.log by `study-scale --record`: committed "
            "before runs were recorded; segments before its last process reconstructed")


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=check)


def commit(c: Committed, p: Planned, tries: int = 30, extra: str = "") -> bool:
    """Commit the run's files and its record (study-scale.json; only them: anything else
    staged stays staged); waits out another git process's index lock; `extra`: another commit
    message. False if it could not."""
    paths = [str((c.dir / f).relative_to(REPO_ROOT)) for f in committed_files(c.dir)
             if (c.dir / f).exists()]
    paths.append(str(pin_file(c.dir.parent.parent).relative_to(REPO_ROOT)))
    s = c.scores or {}
    mse = s.get("means", {}).get("mse")
    message = (f"results/full: {p.label} at the study's scale, test MSE "
               f"{mse:.6f}" if mse is not None else f"results/full: {p.label} at the study's scale"
               + (f", {s['headline']}" if s.get("headline") else ""))
    message += f" (trained by {c.commit}, training code {c.code}, {c.precision})"
    message = extra or message
    git_dir = Path(git("rev-parse", "--git-dir").stdout.strip())
    git_dir = git_dir if git_dir.is_absolute() else REPO_ROOT / git_dir
    busy = [n for n in ("MERGE_HEAD", "rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD")
            if (git_dir / n).exists()]
    if busy or git("symbolic-ref", "-q", "HEAD", check=False).returncode:
        return False  # a merge or rebase in progress, or a detached HEAD: try again next time
    for _ in range(tries):
        add = git("add", "-f", "--", *paths, check=False)
        if add.returncode == 0:
            if not git("diff", "--cached", "--quiet", "--", *paths, check=False).returncode:
                return True  # already committed as it is
            done = git("commit", "-q", "-m", message, "--", *paths, check=False)
            if done.returncode == 0:
                return True
        time.sleep(2)
    git("reset", "-q", "--", *paths, check=False)  # leave nothing staged for someone else's commit
    return False


def is_committed(c: Committed) -> bool:
    """Are the run's files and its record tracked by git and unchanged?"""
    paths = [str((c.dir / f).relative_to(REPO_ROOT)) for f in committed_files(c.dir)
             if (c.dir / f).exists()]
    paths.append(str(pin_file(c.dir.parent.parent).relative_to(REPO_ROOT)))
    tracked = git("ls-files", "--", *paths, check=False).stdout.split()
    return len(tracked) == len(paths) and not git("diff", "--quiet", "HEAD", "--", *paths,
                                                  check=False).returncode


# ---------------------------------------------------------------- training
def pin_file(root: Path | None = None) -> Path:
    return (root or committed_root()) / "study-scale.json"


def pinned_commit() -> str:
    """The commit every planned run trains from: recorded once (the clean HEAD when first
    asked), so a fresh checkout continues with the same code."""
    f = pin_file()
    if f.exists():
        return read_json(f)["commit"]
    if git("status", "--porcelain", "--", "inpaint_lib", "params", check=False).stdout.strip():
        raise SystemExit("study-scale: inpaint_lib/ or params/ has uncommitted changes; commit "
                         "them first, so the runs' code and settings are a commit")
    head = git("rev-parse", "HEAD").stdout.strip()
    atomic_write_json(f, {"commit": head, "training_code": training_code(),
                          "pinned": time.strftime("%Y-%m-%d %H:%M:%S")})
    return head


def worktree(commit_id: str) -> Path:
    """The fixed commit's checkout (created, or moved to `commit_id`)."""
    if not (WORKTREE / ".git").exists():
        git("worktree", "add", "--detach", str(WORKTREE), commit_id)
    else:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=WORKTREE, capture_output=True,
                              text=True, check=True).stdout.strip()
        if head != commit_id:
            subprocess.run(["git", "checkout", "-q", "--detach", commit_id], cwd=WORKTREE, check=True)
    return WORKTREE


def train_settings(p: Planned, threads: int | None = None) -> dict[str, str]:
    """The environment a planned run trains with, beside its paths: INPAINT_OVERRIDES for
    exactly this seed (the profile's 3 seeds per configuration, and a params file's own
    run_seeds, a6: 3 of the best combination, are not all planned) over the caller's own
    overrides (which `planned_config` reads too), and the torch threads."""
    section = {"A": "cae", "B": "vit"}[p.part]
    ours = {section: {"seeds": 1, "baseline_seeds": 1, "run_seeds": {p.run: 1},
                      "train": {"seed": p.seed}}}
    user = yaml.safe_load(os.environ.get("INPAINT_OVERRIDES") or "") or {}
    env = {"INPAINT_OVERRIDES": yaml.safe_dump(deep_merge(user, ours), default_flow_style=True,
                                               width=10**6).strip()}
    return env | ({"OMP_NUM_THREADS": str(threads)} if threads else {})


def train_args(p: Planned) -> list[str]:
    """The arguments of the Python command that trains a planned run (in the pinned checkout)."""
    return ["-m", "inpaint_lib", "train", f"params/{p.notebook}.yaml", "--profile", PROFILE,
            "--run", p.run]


def retrain_command(p: Planned, c: Committed) -> str:
    """The shell command that trains `c` again in a fresh clone, as `train_in_worktree` did."""
    env = {"INPAINT_RESULTS_DIR": "../results", "INPAINT_DATA_DIR": "../data",
           **train_settings(p, c.info.get("threads"))}
    return vit.retrain_command(c.commit, env, ["python", *train_args(p)])


def train_in_worktree(p: Planned, tree: Path, threads: int | None = None) -> int:
    """Train one planned run with the fixed commit's code into this checkout's results/.
    Its epochs (with an ETA) go to this process's terminal."""
    from .data import data_dir

    env = {**os.environ, **train_settings(p, threads), "PYTHONPATH": str(tree),
           "INPAINT_RESULTS_DIR": str(REPO_ROOT / "results"),
           "INPAINT_DATA_DIR": str(data_dir().resolve())}
    return subprocess.run([sys.executable, *train_args(p)], cwd=tree, env=env,
                          check=False).returncode


def _hours(seconds: float) -> str:
    h, m = divmod(int(max(seconds, 0)) // 60, 60)
    return f"{h} h {m:02d} min"


def eta(done: list[Committed], to_do: int, partial: int = 0) -> str:
    """Time left from the finished runs' mean training time (epochs of a started run counted)."""
    seconds = [c.info["train_seconds"] for c in done if c.info.get("train_seconds")]
    if not seconds:
        return "unknown until the first run finishes"
    per_run = sum(seconds) / len(seconds)
    left = per_run * to_do - per_run * partial / 200
    return f"about {_hours(left)} ({per_run / 60:.0f} min a run here)"


def epoch_seconds(run_dir: Path) -> list[float]:
    """Seconds of each epoch a run's train.log records ("epoch 3/20: ... (417.5s)")."""
    log = run_dir / "train.log"
    text = log.read_text() if log.exists() else ""
    return [float(s) for s in re.findall(r"^epoch \d+/\d+: .*\(([\d.]+)s\)$", text, re.MULTILINE)]


def vit_eta(cfg: RunConfig, started: tuple[Path, int] | None) -> str:
    """Time left of the Part B run from its own epochs so far (its epochs are not Part A's)."""
    seconds = epoch_seconds(started[0]) if started else []
    if not seconds:
        return "the ViT: unknown until its first epoch"
    per_epoch = sum(seconds) / len(seconds)
    left = per_epoch * (cfg.epoch_range[1] - started[1])
    return f"the ViT: about {_hours(left)} ({per_epoch / 60:.1f} min an epoch here)"


def status_lines(root: Path | None = None) -> tuple[list[str], int]:
    """One line per planned run (done, with its test MSE, what trained it and, where it is
    not committed as recorded, why; started, at epoch k; to do), then the count and ETA.
    Returns (lines, runs to do)."""
    lines, done, to_do, partial, vit_left = [], [], 0, 0, []
    seen: set[str] = set()
    for p in PLAN:
        cfg = planned_config(p)
        c = committed_run(cfg, root=root)
        part_a = p.part == "A"
        if c is not None:
            done += [c] if part_a else []
            mse = (c.scores or {}).get("means", {}).get("mse")
            shown = (f"test MSE {mse:.6f}" if mse is not None else
                     (c.scores or {}).get("headline", "not scored yet"))
            dup = " (the same run as above)" if str(c.dir) in seen else ""
            seen.add(str(c.dir))
            segs = c.segments
            parts = (f"; {len(segs)} segments" + (f" ({sum(s['recorded'].startswith('reconstructed') for s in segs)} "
                     "reconstructed)" if any(s["recorded"].startswith("reconstructed") for s in segs) else "")
                     if len(segs) > 1 else "")
            lines.append(f"done     {p.label}: {shown}; {c.provenance()}{parts}{dup}")
            continue
        to_do += 1
        started = in_progress(cfg, root)
        if not part_a:
            vit_left.append(vit_eta(cfg, started))
        if started:
            partial += started[1] if part_a else 0
            lines.append(f"started  {p.label}: epoch {started[1]} of {cfg.epoch_range[1]} "
                         f"checkpointed ({started[0].name})")
        else:
            lines.append(f"to do    {p.label}")
    to_do_a = to_do - len(vit_left)
    left = ([eta(done, to_do_a, partial)] if to_do_a else []) + vit_left
    lines.append(f"{len(PLAN) - to_do} of {len(PLAN)} runs done, {to_do} to do; "
                 f"ETA {'; '.join(left) if left else 'none'}")
    return lines, to_do


def markdown_table(root: Path | None = None) -> str:
    """The planned runs as a Markdown table: ours at the study's scale (test MSE as scored when
    committed, `scores.json`) beside the study's number for the same configuration, their
    ratio, what trained ours (in how many segments) and whether it is committed as recorded;
    '-' where not trained yet or where the study has no number."""
    rows = [("| run | seed | test MSE, ours at the study's scale | the study's | ours / study | "
            "training | trained by |"), "|---|---:|---:|---:|---:|---:|---|"]
    for p in planned("A"):  # Part B's run has no test MSE: `status_lines` shows it
        params = load_params(find_params(f"{p.notebook}.yaml"), PROFILE)
        ref = params.reference.get(p.run)
        theirs = ref.test_mse if ref is not None else None
        c = committed_run(planned_config(p), root=root)
        mse = ((c.scores or {}).get("means", {}).get("mse") if c is not None else None)
        ratio = f"{mse / theirs:.2f}x" if mse is not None and theirs else "-"
        took = f"{c.info['train_seconds'] / 60:.0f} min" if c is not None and c.info.get("train_seconds") else "-"
        by = "not trained yet"
        if c is not None:
            segs = c.segments
            last = (f"`{c.commit}`, code `{c.code}`, {c.precision}, {c.info.get('threads')} "
                    "thread(s)")
            unknown = [s for s in segs[:-1] if s.get("commit") is None]
            by = (last if len(segs) <= 1 else f"{len(segs)} processes; the last: {last}"
                  + ("; the earlier ones' commit, precision and threads unrecorded (reconstructed "
                     "from train.log)" if unknown else ""))
            by += "" if c.status == COMMITTED else f"; **{c.status}**"
        rows.append(f"| {p.notebook} :: {p.run} | {p.seed} | {f'{mse:.6f}' if mse is not None else '-'} | "
                    f"{f'{theirs:.6f}' if theirs else '-'} | {ratio} | {took} | {by} |")
    return "\n".join(rows)


def train_segment(p: Planned, cfg: RunConfig, tree: Path, code: str,
                  threads: int | None = None) -> int:
    """One process of the pinned commit training `p` (`train_in_worktree`), recorded beside
    the run as a segment (`segments.append_process`: what it wrote in config.json, its end,
    its epochs), the processes before it kept (`segments.sync`): also when it is stopped."""
    before = in_progress(cfg, code=code)
    offset = 0
    if before is not None:
        segments.sync(before[0])
        offset = segments.log_size(before[0])
    try:
        return train_in_worktree(p, tree, threads)
    finally:
        found = committed_run(cfg, code=code)
        after = found.dir if found is not None else (in_progress(cfg, code=code) or (None,))[0]
        if after is not None and (after / "config.json").exists():
            segments.append_process(after, offset if before and before[0] == after else 0,
                                    segments.now())


DONE, FAILED, REFUSED = 0, 1, 2


def complete(p: Planned, tree: Path | None, code: str | None, threads: int | None = None,
             do_commit: bool = False, pin: dict[str, Any] | None = None) -> int:
    """One planned run to the end: trained by `tree`'s code in recorded segments (unless found
    trained by `code`; with no `tree`, only what is found), then `finish`ed. `DONE`, `FAILED`
    (said on stderr: its training failed) or `REFUSED` (not every segment from the pin)."""
    pin = pin if pin is not None else read_json(pin_file())
    cfg = planned_config(p)
    c = committed_run(cfg, code=code)
    if c is None:
        if tree is None:
            return DONE
        print(f"== study-scale: {p.label}", flush=True)
        if train_segment(p, cfg, tree, code, threads):
            print(f"study-scale: {p.label} failed; stopping", file=sys.stderr)
            return FAILED
        c = committed_run(cfg, code=code)
        if c is None:
            print(f"study-scale: {p.label} finished but no run was found", file=sys.stderr)
            return FAILED
    if not (c.dir / "final.pt").exists():  # committed without its weights, as Part B's run is
        print(f"study-scale: {p.label}: committed without its weights ({c.dir / vit.WEIGHTS_RECORD} "
              "says how to retrain them); its scores stay as committed", flush=True)
        return DONE
    return REFUSED if finish(c, p, pin, do_commit) is None else DONE


def finish(c: Committed, p: Planned, pin: dict[str, Any], do_commit: bool) -> Committed | None:
    """A finished planned run: exported, scored (again, when the scoring code changed), its
    segments synced and its record written, then committed (`do_commit`). A run that git
    already tracks (committed before runs were recorded) is recorded as it is (`MIGRATED`);
    any other is recorded and committed only if every segment came from the pinned commit
    (`unpinned`). Returns the run as recorded, or None when it was refused. Part B's run keeps
    its weights out of git: its weights record says how to train them again."""
    export(c, retrain_command(p, c) if p.part == "B" else None)
    rescored = c.scores is None or c.scores.get("scoring_code") != scoring_code()
    if rescored:
        score(c, p)
    segments.sync(c.dir)
    if not c.tracked:
        bad = unpinned(c, pin)
        if bad:
            print(f"study-scale: {p.label} NOT recorded or committed: not every segment came from "
                  f"the pinned commit {pin['commit'][:7]} ({'; '.join(bad)}); remove {c.dir} to "
                  "train it again from the pinned commit", file=sys.stderr, flush=True)
            return None
    if c.record is None or rescored or c.record.get("weights_sha256") is None:
        note = (c.record or {}).get("note", MIGRATED if c.tracked and c.record is None else "")
        record(c, p, c.dir.parent.parent, note=note)
    c = next(x for x in finished_runs(c.dir.parent.parent) if x.dir == c.dir)
    if do_commit and not is_committed(c):
        ok = commit(c, p, extra=(f"results/full: {p.label} recorded in study-scale.json ({MIGRATED})"
                                 if c.tracked and c.record and c.record.get("note") == MIGRATED
                                 else ""))
        print(f"study-scale: {p.label} " + ("committed" if ok else "NOT committed (git busy)"),
              flush=True)
    return c


def main(status: bool = False, do_commit: bool = False, threads: int | None = None,
         table: bool = False, record_only: bool = False) -> int:
    """``python -m inpaint_lib study-scale [--status | --table | --record] [--commit]``
    (`--record`: export, score, record (and commit) the finished planned runs; train nothing)."""
    if table:
        print(markdown_table())
        return 0
    lines, _ = status_lines()
    print("\n".join(lines), flush=True)
    if status:
        return 0
    import fcntl

    lock = open(committed_root() / "study-scale.lock", "w")  # noqa: SIM115 - held until exit
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("study-scale: another study-scale is running in this checkout", file=sys.stderr)
        return 1
    commit_id = pinned_commit()
    pin = read_json(pin_file())
    code = pin.get("training_code")
    tree = None if record_only else worktree(commit_id)
    if tree is not None:
        print(f"study-scale: training from commit {commit_id[:10]} in {tree} "
              f"(training code {code})", flush=True)
    refused = 0
    for p in PLAN:
        done = complete(p, tree, code, threads, do_commit, pin)
        if done == FAILED:
            return 1
        refused += done == REFUSED
        lines, _ = status_lines()
        print(lines[-1], flush=True)
    print(json.dumps({"done": len(PLAN) - status_lines()[1], "planned": len(PLAN), "refused": refused}),
          flush=True)
    return 1 if refused else 0
