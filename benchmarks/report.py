"""Ratios, targets, wall-time projections and the Markdown rendering of the results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inpaint_lib.resolve import load_params as load_study
from inpaint_lib.resolve import run_config, seeds_for

from .common import Quantity, q

PARAMS = Path(__file__).resolve().parent.parent / "params"


def full_profile_part_a_runs() -> int:
    """Distinct (config, seed) runs of Part A's full profile, counted from the params files
    as the notebooks train them (the shared baseline once, every run with its seeds)."""
    runs: set[tuple[str, int]] = set()
    for path in sorted(PARAMS.glob("a*.yaml")):
        study = load_study(path, "full")
        for name in study.runs:
            key = run_config(study, name).key()
            runs |= {(key, seed) for seed in seeds_for(study, name)}
    return len(runs)


# Full-profile workload: CIFAR-10's 45k/5k split for 200 epochs (params/cae.yaml); Oxford-IIIT
# Pet's 7,349 images split 80/20 as the study does, for 400 epochs (params/vit.yaml).
PART_A = {"epochs": 200, "train_images": 45_000, "held_out_images": 5_000}
PART_B = {"epochs": 400, "train_images": 5_879, "held_out_images": 1_470}


def _tp(entry: dict[str, Any]) -> float:
    return entry["throughput"]["value"]


def _best(entry: dict[str, Any]) -> float:
    return entry["best_throughput"]["value"]


def ratios(results: dict[str, Any]) -> dict[str, Quantity]:
    cae, masks = results["cae"], results["masks"]
    a, b, c = cae["a_pipeline_trainer"], cae["b_bare_step"], cae["c_conventional_dataloader"]
    precision = cae["config"]["precision"]
    lib = masks["library_random_squares"]["time_per_call"]["value"]
    loop = masks["python_loop"]["time_per_call"]["value"]
    out = {
        "cae_a_over_b": q(_tp(a) / _tp(b), f"x (pipeline / bare step, both {precision})"),
        "cae_a_over_c": q(_tp(a) / _tp(c), f"x (pipeline in {precision} / conventional in fp32)"),
        "cae_a_over_b_best_of": q(_best(a) / _best(b), "x (best-of repeats, for noisy machines)"),
        "cae_a_over_c_best_of": q(_best(a) / _best(c), "x (best-of repeats, for noisy machines)"),
        "cae_c_over_b_bound": q(_tp(c) / _tp(b),
                                "x (conventional / bare step: a/c can reach at most 1 / this)"),
        "cae_data_path_ours_over_conventional": q(
            _tp(cae["data_path_only"]["ours"]) / _tp(cae["data_path_only"]["conventional"]),
            "x (data path alone)"),
    }
    for p, other in cae.get("other_precisions", {}).items():
        oa, ob = other["a_pipeline_trainer"], other["b_bare_step"]
        out[f"cae_{p}_a_over_b"] = q(_tp(oa) / _tp(ob), f"x (pipeline / bare step, both {p})")
        out[f"cae_{p}_a_over_c"] = q(_tp(oa) / _tp(c), f"x (pipeline in {p} / conventional)")
        out[f"cae_{precision}_over_{p}_pipeline"] = q(_tp(a) / _tp(oa), "x (pipeline speed-up)")
    if "a_pipeline_trainer" in cae.get("compiled", {}):
        ca, cb = cae["compiled"]["a_pipeline_trainer"], cae["compiled"]["b_bare_step"]
        out["cae_compiled_a_over_b"] = q(_tp(ca) / _tp(cb), f"x (both compiled, {precision})")
        out["cae_compiled_a_over_c"] = q(_tp(ca) / _tp(c), "x (compiled pipeline / conventional)")
        out["cae_compiled_over_eager_pipeline"] = q(_tp(ca) / _tp(a), "x (pipeline speed-up)")
    out["masks_loop_over_library"] = q(loop / lib, "x (time loop / time library)")
    out["masks_loop_over_library_best_of"] = q(
        _best(masks["library_random_squares"]) / _best(masks["python_loop"]),
        "x (best-of repeats, for noisy machines)")
    for name, entry in masks["union_only"].items():
        out[f"masks_loop_over_union_{name}"] = q(loop / entry["time_per_call"]["value"],
                                                 "x (time loop / time of this union alone)")
    vit = results.get("vit", {})
    for label in ("full_shape", "quick_shape"):
        variants = vit.get(label, {}).get("variants", {})
        base = variants.get("fp32")
        for name, entry in variants.items():
            if name != "fp32" and base and "throughput" in entry and "throughput" in base:
                out[f"vit_{label}_{name}_over_fp32"] = q(_tp(entry) / _tp(base),
                                                         "x (step throughput)")
    return out


def targets(r: dict[str, Quantity]) -> list[dict[str, Any]]:
    rows = [("CAE pipeline / bare step (a/b)", "cae_a_over_b", 0.90),
            ("CAE pipeline / conventional DataLoader (a/c)", "cae_a_over_c", 3.0),
            ("ViT masks: Python loop time / random_squares time", "masks_loop_over_library", 50.0)]
    out = []
    for name, key, goal in rows:
        row = {"name": name, "ratio": key, "value": r[key]["value"], "goal": f">= {goal:g}",
               "pass": r[key]["value"] >= goal}
        if f"{key}_best_of" in r:
            row["value_best_of"] = r[f"{key}_best_of"]["value"]
        out.append(row)
    return out


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def projection(results: dict[str, Any], vit_base: str) -> dict[str, Any]:
    """Full-profile wall time from the measured rates (training + per-epoch held-out pass)."""
    cae = results["cae"]
    held_a = _tp(cae["held_out_pass"])
    out: dict[str, Any] = {}
    n_runs = full_profile_part_a_runs()
    for name, key in (("pipeline", "a_pipeline_trainer"),
                      ("conventional", "c_conventional_dataloader")):
        epoch = PART_A["train_images"] / _tp(cae[key]) + PART_A["held_out_images"] / held_a
        run = PART_A["epochs"] * epoch
        out[f"part_a_{name}"] = {
            "one_run": q(run, "s"), "one_run_human": _human(run),
            "all_runs": q(run * n_runs, "s"),
            "all_runs_human": _human(run * n_runs),
            "assumes": (f"{PART_A['epochs']} epochs x ({PART_A['train_images']} train images at "
                        f"the measured {name} rate + {PART_A['held_out_images']} held-out images); "
                        f"{n_runs} runs: the full profile's Part A configurations x seeds"),
        }
    full = results["vit"]["full_shape"]
    base_entry = full["variants"].get(vit_base, {})
    for variant, entry in full["variants"].items():
        if "error" in entry:
            continue
        held = entry.get("held_out") or base_entry.get("held_out")  # optimiser-only variants
        if held is None:
            continue
        epoch = PART_B["train_images"] / _tp(entry) + PART_B["held_out_images"] / _tp(held)
        total = PART_B["epochs"] * epoch
        out[f"part_b_{variant}"] = {
            "total": q(total, "s"), "total_human": _human(total),
            "used_by_trainer": variant == vit_base,
            "assumes": (f"{PART_B['epochs']} epochs x ({PART_B['train_images']} train + "
                        f"{PART_B['held_out_images']} held-out images at 224x224), rates measured "
                        f"at batch {full['shape']['batch']['value']:.0f}"),
        }
    return out


# ------------------------------------------------------------------ markdown
def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-2:
        return f"{value:.3g}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _rows(prefix: str, node: Any) -> list[tuple[str, str, str]]:
    if isinstance(node, dict) and set(node) == {"value", "unit"}:
        return [(prefix, _fmt(node["value"]), node["unit"])]
    if isinstance(node, dict):
        rows: list[tuple[str, str, str]] = []
        for k, v in node.items():
            rows += _rows(f"{prefix}.{k}" if prefix else k, v)
        return rows
    if isinstance(node, list):
        return [(prefix, "; ".join(str(x) for x in node), "")]
    return [(prefix, str(node), "")]


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    mode = "quick" if meta["quick"] else "full"
    header = (f"{meta['date']} | torch {meta['torch']} | {meta['device_name']} | "
              f"{meta['threads']} threads | {mode} mode")
    load = (f"Load average (1, 5, 15 min) at start {meta.get('load_average_at_start')}, at end "
            f"{meta.get('load_average_at_end')} on {meta['cpu_count']} CPUs.")
    lines = [f"# inpaint_lib benchmark: {meta['device']}", "", header, "", load, ""]
    lines += ["## Targets (medians; best-of repeats in brackets)", "",
              "| target | measured | goal | pass |", "| --- | ---: | --- | --- |"]
    for t in results["targets"]:
        best = f" [{t['value_best_of']:.3g}x]" if "value_best_of" in t else ""
        lines.append(f"| {t['name']} | {t['value']:.3g}x{best} | {t['goal']} | "
                     f"{'PASS' if t['pass'] else 'FAIL'} |")
    lines += ["", "## Notes", ""] + [f"- {n}" for n in results["notes"]]
    for section in ("ratios", "cae", "masks", "vit", "memory", "projection"):
        lines += ["", f"## {section}", "", "| quantity | value | unit |", "| --- | ---: | --- |"]
        for path, value, unit in _rows("", results[section]):
            lines.append(f"| {path} | {value} | {unit} |")
    return "\n".join(lines) + "\n"
