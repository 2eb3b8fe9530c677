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

Reading them back (`committed_run`) matches a run by its config key and its images, never by
the training code, so the report shows a committed number whatever today's code is, and says
when today's training code differs from the code that trained it (`Committed.code`).
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

from . import study_scale_vit as vit
from .code_version import scoring_code, training_code
from .io import atomic_torch_save, atomic_write_json, read_json
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
    # and latent 256, whose one seed sat within the baseline's seed noise of latent 128
    Planned("a6_ablation", "best combination", 1),
    Planned("a6_ablation", "best combination", 2),
    # Part B's first phase: the study's own ViT at 224 px, epochs 1-20 on MAE alone
    Planned("b1_phase1", "vit"),
    Planned("a3_latent", "256", 1),
    Planned("a3_latent", "256", 2),
)


def planned(part: str) -> list[Planned]:
    """The plan's runs of one part ("A" or "B")."""
    return [p for p in PLAN if p.part == part]


def planned_runs(notebook: str) -> list[str]:
    """The names of `notebook`'s runs (params stem) that the plan trains."""
    return list(dict.fromkeys(p.run for p in PLAN if p.notebook == notebook))


WORKTREE = REPO_ROOT / ".study-scale"  # the fixed commit's checkout (git-ignored)
COMMITTED_FILES = ("config.json", "history.json", "train.log", "final.pt", "scores.json")


def committed_files(run_dir: Path) -> tuple[str, ...]:
    """What git holds of a finished run: `COMMITTED_FILES`, or, where its weights stay out of git
    (a weights record beside them: Part B), `study_scale_vit.COMMITTED_FILES`."""
    return vit.COMMITTED_FILES if (run_dir / vit.WEIGHTS_RECORD).exists() else COMMITTED_FILES


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


@dataclass(frozen=True)
class Committed:
    """A finished full-scale run found on disk, with what made it."""

    dir: Path
    info: dict[str, Any]  # its config.json

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

    def run(self, name: str) -> Run:
        cfg = RunConfig.model_validate(self.info["config"])
        return Run(name, cfg, self.dir, self.info.get("dataset", "unknown"))

    def provenance(self) -> str:
        """e.g. 'commit 6ea29f4, training code a093c22367e8, bf16 autocast' (+ 'not today's')."""
        note = "" if self.current_code else f" (today's training code is {training_code()})"
        return f"commit {self.commit}, training code {self.code}{note}, {self.precision}"


def finished_runs(root: Path | None = None) -> list[Committed]:
    """Every finished run under `root`/runs (default `committed_root()`), oldest first."""
    root = root or committed_root()
    found = []
    for cfg_file in sorted((root / "runs").glob("*/config.json")):
        if finished(cfg_file.parent):
            found.append(Committed(cfg_file.parent, read_json(cfg_file)))
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
    only, if given): a committed one (git tracks it) before one that is only on disk (e.g. a
    developer's own `make report PROFILE=full`), then the newest."""
    root = root or committed_root()
    key = cfg.key()
    matches = [c for c in finished_runs(root) if key in _key(c.info)
               and (code is None or c.info.get("code") == code)]
    if not matches:
        return None
    committed = tracked(root)
    return max(matches, key=lambda c: (c.dir.name in committed, c.info.get("started", "")))


def in_progress(cfg: RunConfig, root: Path | None = None) -> tuple[Path, int] | None:
    """(run dir, last checkpointed epoch) of an unfinished run with this config, if any."""
    key = cfg.key()
    for cfg_file in sorted(((root or committed_root()) / "runs").glob("*/config.json")):
        d = cfg_file.parent
        if key in _key(read_json(cfg_file)) and not finished(d):
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


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=check)


def commit(c: Committed, p: Planned, tries: int = 30) -> bool:
    """Commit the run's files (only them: anything else staged stays staged); waits out
    another git process's index lock. False if it could not."""
    paths = [str((c.dir / f).relative_to(REPO_ROOT)) for f in committed_files(c.dir)
             if (c.dir / f).exists()]
    s = c.scores or {}
    mse = s.get("means", {}).get("mse")
    message = (f"results/full: {p.label} at the study's scale, test MSE "
               f"{mse:.6f}" if mse is not None else f"results/full: {p.label} at the study's scale"
               + (f", {s['headline']}" if s.get("headline") else ""))
    message += f" (trained by {c.commit}, training code {c.code}, {c.precision})"
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
    """Are the run's files tracked by git and unchanged?"""
    paths = [str((c.dir / f).relative_to(REPO_ROOT)) for f in committed_files(c.dir)
             if (c.dir / f).exists()]
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
    """One line per planned run (done, with its test MSE and code; started, at epoch k; to
    do), then the count and ETA. Returns (lines, runs to do)."""
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
            lines.append(f"done     {p.label}: {shown}; {c.provenance()}{dup}")
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
    ratio, and what trained ours; '-' where not trained yet or where the study has no number."""
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
        by = (f"`{c.commit}`, code `{c.code}`, {c.precision}, {c.info.get('threads')} thread(s)"
              if c is not None else "not trained yet")
        rows.append(f"| {p.notebook} :: {p.run} | {p.seed} | {f'{mse:.6f}' if mse is not None else '-'} | "
                    f"{f'{theirs:.6f}' if theirs else '-'} | {ratio} | {took} | {by} |")
    return "\n".join(rows)


def main(status: bool = False, do_commit: bool = False, threads: int | None = None,
         table: bool = False) -> int:
    """``python -m inpaint_lib study-scale [--status | --table] [--commit]``."""
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
    tree = worktree(commit_id)
    code = read_json(pin_file()).get("training_code")
    print(f"study-scale: training from commit {commit_id[:10]} in {tree} "
          f"(training code {code})", flush=True)
    for p in PLAN:
        if complete(p, tree, code, threads, do_commit):
            return 1
        lines, _ = status_lines()
        print(lines[-1], flush=True)
    print(json.dumps({"done": len(PLAN)}), flush=True)
    return 0


def complete(p: Planned, tree: Path, code: str | None, threads: int | None = None,
             do_commit: bool = False) -> int:
    """One planned run to the end: trained with `tree`'s code (unless found, trained by `code`),
    exported, scored by today's scoring code and, with `do_commit`, committed. 0, or 1 (said
    on stderr) when its training failed."""
    cfg = planned_config(p)
    c = committed_run(cfg, code=code)
    if c is None:
        print(f"== study-scale: {p.label}", flush=True)
        if train_in_worktree(p, tree, threads):
            print(f"study-scale: {p.label} failed; stopping", file=sys.stderr)
            return 1
        c = committed_run(cfg, code=code)
        if c is None:
            print(f"study-scale: {p.label} finished but no run was found", file=sys.stderr)
            return 1
    if not (c.dir / "final.pt").exists():  # committed without its weights, as Part B's run is
        print(f"study-scale: {p.label}: committed without its weights ({c.dir / vit.WEIGHTS_RECORD} "
              "says how to retrain them); its scores stay as committed", flush=True)
        return 0
    export(c, retrain_command(p, c) if p.part == "B" else None)
    if c.scores is None or c.scores.get("scoring_code") != scoring_code():
        score(c, p)
    if do_commit and not is_committed(c):
        ok = commit(c, p)
        print(f"study-scale: {p.label} " + ("committed" if ok else "NOT committed (git busy)"),
              flush=True)
    return 0
