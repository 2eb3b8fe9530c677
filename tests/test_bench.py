"""The benchmark runs end to end in --quick mode and writes complete results; the report's
Performance appendix renders them.

No timing assertions: shared machines are noisy. Only that every expected number
is there, positive, with a unit, and that the Markdown copy was written.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inpaint_lib.report.build import performance_appendix

REPO = Path(__file__).resolve().parent.parent
CASES = ("cae", "vit_full_shape", "vit_quick_shape", "cae_best", "vit_gradnorm")


def _value(results: dict, path: str) -> float:
    node = results
    for key in path.split("."):
        node = node[key]
    assert set(node) == {"value", "unit"} and node["unit"], f"{path}: not a quantity with a unit"
    return node["value"]


def _numbers(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every number under `node` that is not inside a {"value", "unit"} quantity."""
    if isinstance(node, dict) and set(node) == {"value", "unit"}:
        return []
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _numbers(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in _numbers(v, f"{path}[{i}]")]
    is_number = isinstance(node, int | float) and not isinstance(node, bool)
    return [(path, node)] if is_number else []


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "PYTHONPATH": str(REPO), "INPAINT_DEVICE": "cpu",  # no trained run
           "INPAINT_RESULTS_DIR": str(out / "results"), "INPAINT_CACHE_DIR": str(out / "cache")}
    env.pop("INPAINT_OVERRIDES", None)
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--quick", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted(out.glob("*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text()), files[0]


def test_sections_and_meta(results: tuple[dict, Path]) -> None:
    data, path = results
    assert {"format", "meta", "notes", "cases", "masks", "matmul", "memory", "ratios", "targets",
            "projection"} <= set(data)
    assert data["complete"] is True and data["meta"]["quick"] is True
    assert data["meta"]["torch"] and data["meta"]["date"] and data["meta"]["device_type"] == "cpu"
    assert path.stem == data["meta"]["device"]
    assert path.with_suffix(".md").read_text().startswith("# inpaint_lib benchmark")
    assert not list(path.parent.glob(".*.tmp")), "temporary files left behind"
    assert any("RANDOMLY INITIALISED VGG-16" in n for n in data["notes"])
    assert set(data["cases"]) == set(CASES)


def test_every_number_has_a_unit(results: tuple[dict, Path]) -> None:
    data = results[0]
    for section in ("cases", "masks", "matmul", "memory", "ratios", "projection"):
        assert _numbers(data[section], section) == []

    def quantities(node: Any, path: str) -> list[tuple[str, dict]]:
        if isinstance(node, dict) and set(node) == {"value", "unit"}:
            return [(path, node)]
        if isinstance(node, dict):
            return [x for k, v in node.items() for x in quantities(v, f"{path}.{k}")]
        return []

    found = quantities(data, "")
    assert len(found) > 100
    for path, node in found:
        assert node["unit"] and math.isfinite(node["value"]) and node["value"] >= 0, path


PER_VARIANT = ["pipeline.throughput", "bare_step.throughput", "held_out.throughput",
               "a_over_b", "first_call", "achieved", "fraction_of_matmul"]
PER_CASE = ["flop_per_image.train_step", "flop_per_image.held_out", "data_path_only.throughput",
            "config.image_size", "config.batch_size", "config.steps_per_call"]
OTHERS = [
    "cases.cae.conventional.dataloader.throughput",
    "cases.cae.conventional.data_path_only.throughput",
    "masks.library_random_squares.time_per_call",
    "masks.python_loop.time_per_call",
    "masks.union_only.row_dilation.time_per_call",
    "masks.union_only.batched_matmul.time_per_call",
    "masks.union_only.difference_array.time_per_call",
    "matmul.fp32.flop_per_s",
    "memory.cae_conventional.peak_rss",
    "ratios.cae_a_over_b",
    "ratios.cae_a_over_c",
    "ratios.cae_c_over_b_bound",
    "ratios.cae_data_path_ours_over_conventional",
    "ratios.vit_full_shape_a_over_b",
    "ratios.masks_loop_over_library",
    "projection.part_a_pipeline.one_run",
    "projection.part_a_conventional.all_runs",
]


def test_tool_speed_section(results: tuple[dict, Path]) -> None:
    data, path = results
    methods = data["tool"]["methods"]
    assert set(methods) >= {"mean", "telea", "ns", "biharmonic", "cae", "vit"}
    assert all(_value(data, f"tool.methods.{m}.seconds_per_image") > 0 for m in methods)
    assert "## tool" in path.with_suffix(".md").read_text()


@pytest.mark.parametrize("case", CASES)
def test_case_numbers(results: tuple[dict, Path], case: str) -> None:
    data = results[0]
    section = data["cases"][case]
    for path in PER_CASE:
        assert _value(section, path) > 0, path
    lib = section["library_variant"]
    assert lib in section["variants"] and "fp32" in section["variants"]
    for label, variant in section["variants"].items():
        for path in PER_VARIANT:
            assert _value(variant, path) > 0, f"{label}.{path}"
        assert _value(data, f"memory.{case}_{label}.peak_rss") > 0
    if lib != "fp32":  # e.g. bf16 on an AMX CPU: fp32 timed beside it
        assert _value(data, f"ratios.{case}_{lib}_over_fp32_pipeline") > 0


@pytest.mark.parametrize("path", OTHERS)
def test_positive_numbers(results: tuple[dict, Path], path: str) -> None:
    assert _value(results[0], path) > 0


def test_targets_and_checks(results: tuple[dict, Path]) -> None:
    data = results[0]
    assert [t["ratio"] for t in data["targets"]] == [
        "cae_a_over_b", "cae_a_over_c", "masks_loop_over_library", "cae_best_a_over_b",
        "vit_gradnorm_step_over_manual"]
    for t in data["targets"]:
        assert isinstance(t["pass"], bool) and t["value"] > 0
        assert t["goal"].startswith("<=" if t["ratio"] == "vit_gradnorm_step_over_manual" else ">=")
        assert t["pass"] == (t["value"] <= 1.5 if t["goal"].startswith("<=") else t["value"] >= float(t["goal"][3:]))
    assert data["masks"]["union_algorithms_identical"] is True
    assert data["masks"]["config"]["output"] == "(16, 1, 224, 224) bool"
    # shapes from the params files: phase 7 at the full and at the quick profile
    assert _value(data, "cases.vit_full_shape.config.image_size") == 224
    assert _value(data, "cases.vit_quick_shape.config.image_size") == 64
    assert "mlp_dim 512" in data["cases"]["vit_quick_shape"]["config"]["model"]
    # the full-shape step counts both VGG passes: far more FLOPs per image than the ViT alone
    assert 3e10 < _value(data, "cases.vit_full_shape.flop_per_image.train_step") < 1.5e11
    assert _value(data, "projection.part_b_fp32.total") > 0


def test_performance_appendix(results: tuple[dict, Path], tmp_path: Path) -> None:
    path = results[1]
    text = performance_appendix(["cpu"], path.parent)
    assert f"results/bench/{path.name}" in text and "| CAE pipeline / bare step (a/b) |" in text
    assert "meets the goal" in text or "misses the goal" in text  # words, not PASS/FAIL
    assert "FAIL |" not in text.split("<details>")[0]
    assert "#### Ratios" in text and "cae_a_over_c" in text and "part_a_pipeline" in text
    assert "No benchmark results for a CUDA device" in performance_appendix(["cuda"], path.parent)
    assert "No benchmark results" in performance_appendix(["cpu"], tmp_path)
    interrupted = {**json.loads(path.read_text()), "complete": False}
    (tmp_path / path.name).write_text(json.dumps(interrupted))
    assert "rerun `make bench`" in performance_appendix(["cpu"], tmp_path)
    # the committed results render too (the report of a fresh clone)
    assert "| CAE pipeline / bare step (a/b) |" in performance_appendix(
        ["cpu"], REPO / "results" / "bench")
