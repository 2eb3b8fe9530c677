"""Sentences about the runs trained at the study's own scale (the committed full-profile Part A
runs, `scoring.at_study_scale`; Part B's phase 1, `scoring.phase_at_study_scale`): what made
them, how they compare with the study's numbers, and how their seeds spread against the
study's own repeated runs."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from ...stats import TIE
from .common import plural

MAKE = "`make study-scale`"


def _codes(full: pd.DataFrame) -> str:
    """'commit 6ea29f4, training code a093c22367e8 (today's)' for each distinct code."""
    parts = []
    for (commit, code, current), g in full.groupby(["commit", "code", "current_code"], sort=False):
        which = "today's" if current else "**not today's**: today's would retrain it"
        runs = "" if len(full.groupby(["commit", "code"])) == 1 else f" ({plural(len(g), 'run')})"
        parts.append(f"commit `{str(commit)[:7]}`, training code `{code}` ({which}){runs}")
    return "; ".join(parts)


def _unrecorded(full: pd.DataFrame) -> str:
    """'; 1 run resumed from earlier processes whose commit and precision were not recorded
    (...): baseline seed 0: epochs 1-29' for the runs with such epochs (`unrecorded_epochs`);
    '' when none."""
    if "unrecorded_epochs" not in full:
        return ""
    some = full[full.unrecorded_epochs.fillna("") != ""]
    if some.empty:
        return ""
    each = "; ".join(f"{r.method} seed {int(r.seed)}: epochs {r.unrecorded_epochs}"
                     for r in some.itertuples())
    return (f"; {plural(len(some), 'run')} resumed from earlier processes whose commit and "
            f"precision were not recorded (trained before each process was; the same training "
            f"code, part of the run's key): {each}")


def seed_counts(seeds: pd.Series) -> str:
    """'one seed', 'one seed each', '3 seeds (their mean)' or 'one seed each, 3 for baseline
    (their mean)' from the number of seeds per network."""
    multi = {m: int(k) for m, k in seeds.items() if k > 1}
    if not multi:
        return "one seed" + (" each" if len(seeds) > 1 else "")
    if len(multi) == len(seeds) and len(set(multi.values())) == 1:
        return f"{plural(next(iter(multi.values())), 'seed')}" + (" each" if len(seeds) > 1 else "") + " (their mean)"
    listed = ", ".join(f"{k} for {m}" for m, k in multi.items()) + " (their mean)"
    return listed if len(multi) == len(seeds) else "one seed each, " + listed


def unused_runs(unused: Sequence[Mapping]) -> str:
    """The full-profile runs found but not used (`scoring.study_scale_unused`), each named
    with its status beside its number, never as committed; '' when there are none."""
    if not unused:
        return ""
    each = []
    for u in unused:
        mse = u.get("mse")
        number = f"test MSE {mse:.6f} by its own scores.json" if mse is not None else "not scored"
        each.append(f"{u['method']} seed {u['seed']} (`{u['run']}`): {number}, **{u['status']}** "
                    f"({u['why']})")
    return (" Found at the study's scale but not used, since only runs committed as recorded "
            f"in results/full/study-scale.json are: {'; '.join(each)}.")


def study_scale_note(full: pd.DataFrame, names: Sequence[str],
                     planned: Collection[str] | None = None, unused: Sequence[Mapping] = ()) -> str:
    """The line under a Part A table that has the column of ours at the study's scale: the
    scale, what trained them (commit, training code, whether it is today's, precision), and
    which of `names` (the section's networks) are not trained yet: those of `planned` (the
    section's runs in `make study-scale`'s plan; all of `names` when None) by that command,
    the others only by the full profile itself; then the runs found but not used (`unused`:
    `scoring.study_scale_unused`: untracked, or not what their record says), each named as
    such beside its number."""
    missing = [n for n in names if full.empty or n not in set(full.method)]
    in_plan = [n for n in missing if planned is None or n in planned]
    beyond = [n for n in missing if n not in in_plan]
    todo = (f" Not trained at that scale yet: {', '.join(in_plan)} ({MAKE} trains "
            f"{'them' if len(in_plan) > 1 else 'it'})." if in_plan else "")
    if beyond:
        todo += (f" Not in the plan of runs the study's numbers need, so not trained at that "
                 f"scale here: {', '.join(beyond)} (`make report PROFILE=full` trains them).")
    if full.empty:
        which = (f"none of {', '.join(names)} is" if len(names) > 1
                 else f"{names[0]} is not" if names else "none of this section's runs is")
        return (f"Ours at the study's scale: {which} trained at the study's scale in this "
                f"checkout yet ({MAKE} trains {'them' if len(names) != 1 else 'it'} on this CPU)."
                + unused_runs(unused))
    first = full.iloc[0]
    trained = ", ".join(dict.fromkeys(str(m) for m in full.method))
    return (f"Ours at the study's scale ({trained}): {int(first.train_images):,} training images, "
            f"{int(first.epochs)} epochs, batch {' or '.join(str(int(b)) for b in full.batch_size.unique())}, "
            f"{seed_counts(full.groupby('method', sort=False)['seed'].nunique())}"
            + f", trained on this CPU by {_codes(full)}, in {first.precision} (the study "
            f"presumably trained in fp32){_unrecorded(full)}; scored here on the same test "
            f"images and masks.{todo}"
            + unused_runs(unused))


def seed_spread(study_runs: Mapping[str, float], ours: Sequence[float], data: str = "") -> str:
    """The study ran its baseline configuration four times under four names: that spread is
    its run-to-run noise. Ours: the baseline's seeds at the study's scale. Is the study's
    spread inside ours, and is our mean within the study's range? (`data`: the name of the
    images ours were trained and tested on; a JPEG copy is named as a candidate cause, not a
    measured one, when our mean is below the study's range.)"""
    if not study_runs:
        return ""
    theirs = list(study_runs.values())
    lo, hi = min(theirs), max(theirs)
    named = ", ".join(f"{name} {v:.6f}" for name, v in study_runs.items())
    mean = sum(theirs) / len(theirs)
    spread = 100 * (hi - lo) / 2 / mean
    head = (f"The study trained its baseline configuration {plural(len(theirs), 'time')} under "
            f"different names ({named}): mean {mean:.6f}, range {lo:.6f} to {hi:.6f} "
            f"(±{spread:.1f}%), its own run-to-run noise.")
    if len(ours) < 2:
        have = f" Ours at its scale: {ours[0]:.6f} (one seed so far)." if ours else ""
        return head + have + f" Our seeds at the study's scale: not all trained yet ({MAKE})."
    our_mean = sum(ours) / len(ours)
    our_lo, our_hi = min(ours), max(ours)
    sd = math.sqrt(sum((v - our_mean) ** 2 for v in ours) / (len(ours) - 1))
    inside = our_lo <= lo and hi <= our_hi
    within = lo <= our_mean <= hi
    return (head + f" Ours at the study's scale, {plural(len(ours), 'seed')}: mean "
            f"{our_mean:.6f}, range {our_lo:.6f} to {our_hi:.6f} (standard deviation {sd:.6f}, "
            f"{100 * sd / our_mean:.1f}%), {our_mean / mean:.2f}x the study's mean. The study's "
            f"spread is {'inside' if inside else '**not** inside'} ours, and our mean is "
            f"{'within' if within else '**outside**'} the study's range"
            + ("" if within else (" (below it: our runs reach a lower test MSE)" if our_mean < lo
                                  else " (above it)")) + "."
            + (f" Why is not measured here; one candidate: these images are the {data}, re-encoded "
               "as JPEG, which removes some of the finest detail a network has to reproduce, where "
               "the study presumably read the original pixels." if our_mean < lo and "JPEG" in data
               else ""))


def sweep_at_study_scale(sweep: pd.DataFrame) -> str:
    """The mask sweep of the baseline trained at the study's scale (rows of kind "study
    scale"): its growth from 1 mask to the most, against this profile's network and the best
    classical method at each count; '' when none is committed."""
    scale = sweep[sweep.kind == "study scale"].sort_values("masks")
    if scale.empty:
        return (f"At the study's scale: the baseline is not trained at that scale in this "
                f"checkout ({MAKE}).")
    ours = sweep[sweep.kind == "network"].sort_values("masks")
    first, last = scale.iloc[0], scale.iloc[-1]
    lost = []
    for count, g in sweep.groupby("masks"):
        best = g[g.kind == "classical"].mse.min()
        if g[g.kind == "study scale"].mse.iloc[0] >= best:
            lost.append(int(count))
    ratio = (ours.set_index("masks").mse / scale.set_index("masks").mse)
    return (f"**At the study's scale** ({first.method}, committed; no training here): test MSE {first.mse:.6f} with 1 mask and {last.mse:.6f} with "
            f"{int(last.masks)} ({last.mse / first.mse:.1f}x); this profile's network is "
            f"{ratio.min():.1f}x to {ratio.max():.1f}x it. The best classical method beats it at "
            f"{len(lost)} of {scale.masks.nunique()} mask counts"
            + (f" ({', '.join(map(str, lost))})." if lost else "."))


def ablation_at_study_scale(paired: dict[str, pd.DataFrame], best: str) -> str:
    """Does the ablation's `best` network, trained at the study's scale, beat the best
    classical method on the same test images and masks, and by how much: hole MSE and hole
    PSNR, each with its interval (`paired`: `tables.paired_comparisons` by metric, rows of the
    committed runs)."""
    rows = {m: t[t.network == best] for m, t in paired.items() if len(t)}
    if not rows or any(r.empty for r in rows.values()):
        return (f"At the study's scale: the {best} is not trained at that scale in this checkout "
                f"({MAKE}).")
    parts = []
    for metric, r in rows.items():
        r = r.iloc[0]
        unit = " dB" if "psnr" in metric else ""
        rel = "" if "psnr" in metric else f", {100 * r.difference / r['classical mean']:+.0f}%"
        parts.append(f"{r.metric} {r['network mean']:.4g} against {r.classical}'s {r['classical mean']:.4g}, "
                     f"difference {r.difference:+.3g}{unit} [{r.low:+.3g}, {r.high:+.3g}]{rel}: "
                     f"**{r.verdict}**")
    first = next(iter(rows.values())).iloc[0]
    seeds = (f"{plural(int(first.seeds), 'seed')}" + (", with the seed spread of that scale's "
             "multi-seed runs" if str(first["seed spread"]).startswith("pooled") else ""))
    return (f"**At the study's scale** (the {best} trained on the full training split for the "
            f"study's epochs, {seeds}), against the best classical method on each metric, on the "
            f"same {int(first.images):,} test images and masks: " + "; ".join(parts) + ".")


def _minutes(seconds: float) -> str:
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def phase_at_study_scale(f: Mapping[str, Any]) -> str:
    """The paragraph that opens a ViT phase trained at the study's scale (`study_scale_vit`):
    the network and the phase's settings as trained, what trained it and in how long, where its
    weights are, and its held-out loss from first to last epoch beside this profile's.

    `f`: phase, px, patch, dim, depth, heads, dropout, parameters, dataset, train_images,
    test_images, epochs (first, last), optimizer, lr, batch, masks, loss, seed, commit, code,
    current_code, precision, threads, train_seconds, sha256, run_dir, loss_first, loss_last,
    and this profile's: profile, ours_epochs, ours_first, ours_last."""
    first, last = f["epochs"]
    code = "today's" if f["current_code"] else "**not today's**"
    threads = plural(int(f["threads"]), "thread") if f.get("threads") else "its default threads"
    return (
        f"**Phase {f['phase']} at the study's scale** (committed; nothing trains here): the study's "
        f"own ViT, {f['px']}×{f['px']} px, patch {f['patch']}, dim {f['dim']}, {f['depth']} blocks, "
        f"{f['heads']} heads, dropout {f['dropout']:g} ({f['parameters']:,} parameters, as its text "
        f"describes it), trained on the {f['train_images']:,} training photos of {f['dataset']} as "
        f"the study's phase {f['phase']}: epochs {first}-{last}, {f['loss']}, {f['optimizer']} at "
        f"learning rate {f['lr']:g}, batch {f['batch']}, {f['masks']} masks, seed {f['seed']}. "
        f"Trained on this CPU by commit `{str(f['commit'])[:7]}`, training code `{f['code']}` "
        f"({code}), in {f['precision']} (the study: fp16 mixed precision on a GPU) with {threads}, "
        f"in {_minutes(f['train_seconds'])}; its weights are not in git (`{f['run_dir']}/weights.json` "
        f"holds their SHA-256 `{f['sha256'][:12]}…` and the command that retrains them). Held-out "
        f"loss (MAE on the {f['test_images']:,} test photos, [0, 1] scale) {f['loss_first']:.4f} at "
        f"epoch {first}, {f['loss_last']:.4f} at epoch {last}; this profile's reduced ViT "
        f"(`{f['profile']}`, epochs {f['ours_epochs'][0]}-{f['ours_epochs'][1]}): "
        f"{f['ours_first']:.4f}, then {f['ours_last']:.4f}.")


def phase_verdicts(paired: Mapping[str, pd.DataFrame]) -> str:
    """Per metric ({metric: `tables.paired_comparisons` rows of the one network at the study's
    scale}), how many (test set, occlusion level) comparisons it wins, loses and ties against
    the best classical method, with the first comparison's numbers."""
    parts, noise = [], ""
    for table in paired.values():
        if table.empty:
            continue
        counts = table.verdict.value_counts()
        r = table.iloc[0]
        unit = " dB" if "PSNR" in r.metric else ""
        parts.append(f"{r.metric}: better in {int(counts.get('better', 0))}, worse in "
                     f"{int(counts.get('worse', 0))}, tied in {int(counts.get(TIE, 0))} of "
                     f"{len(table)} (on {r.comparison}: {r['network mean']:.4g} against "
                     f"{r.classical}'s {r['classical mean']:.4g}, {r.difference:+.3g}{unit} "
                     f"[{r.low:+.3g}, {r.high:+.3g}])")
        noise = str(r.noise)
    if not parts:
        return ""
    return ("Against the best classical method on each metric, image by image on the same images "
            f"and masks (each test set at each occlusion level; the 95% intervals hold {noise}): "
            + "; ".join(parts) + ".")


def phase_not_at_scale(phase: int, epochs: tuple[int, int]) -> str:
    """The line of a planned ViT phase (`study_scale.PLAN`) not committed in this checkout."""
    return (f"**Phase {phase} at the study's scale** (the study's ViT at its resolution, epochs "
            f"{epochs[0]}-{epochs[1]}): not trained in this checkout yet; {MAKE} trains it on this "
            "CPU (MAE only: no GPU and no VGG-16 weights needed) and commits it.")
