"""From the measurements: ratios, targets, the full profile's projected wall time, Markdown."""

from __future__ import annotations

from typing import Any

from inpaint_lib.report.build import bench_summary, quantity_table
from inpaint_lib.resolve import PARAMS_DIR, load_params, run_config, seeds_for

from .timing import Quantity, q

PART_A_CASE, PART_B_CASE = "cae", "vit_full_shape"  # the cases the projection scales up
# Dataset sizes, which the params do not hold: CIFAR-10's 50,000 training images split
# 45k/5k (cae.yaml, val_size 0.1); Oxford-IIIT Pet's 7,349 images 80/20 (vit.yaml).
PART_A_IMAGES = {"train": 45_000, "held_out": 5_000}
PART_B_IMAGES = {"train": 5_879, "held_out": 1_470}
BEST_OF, SPEED_UP = "x (best-of repeats, for noisy machines)", "x (pipeline speed-up)"


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


def notes(results: dict[str, Any]) -> list[str]:
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


def full_profile_part_a_runs() -> int:
    """Distinct (config, seed) runs of Part A's full profile, counted from the params files
    as the notebooks train them (the shared baseline once, every run with its seeds)."""
    runs: set[tuple[str, int]] = set()
    for path in sorted(PARAMS_DIR.glob("a*.yaml")):
        study = load_params(path, "full")
        for name in study.runs:
            runs |= {(run_config(study, name).key(), s) for s in seeds_for(study, name)}
    return len(runs)


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
        n_runs, epochs = full_profile_part_a_runs(), int(a["config"]["epochs"]["value"])
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
