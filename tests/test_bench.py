"""The benchmark runs end to end in --quick mode and writes complete results.

No timing assertions: shared machines are noisy. Only that every expected number
is there, positive, with a unit, and that the Markdown report was written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _value(results: dict, path: str) -> float:
    node = results
    for key in path.split("."):
        node = node[key]
    assert set(node) == {"value", "unit"} and node["unit"], f"{path}: not a quantity with a unit"
    return node["value"]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "PYTHONPATH": str(REPO), "INPAINT_DEVICE": "cpu"}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--quick", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted(out.glob("*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text()), files[0]


def test_sections_and_meta(results: tuple[dict, Path]) -> None:
    data, path = results
    assert {"meta", "notes", "cae", "masks", "vit", "memory", "ratios", "targets",
            "projection"} <= set(data)
    assert data["meta"]["quick"] is True
    assert data["meta"]["torch"] and data["meta"]["date"]
    assert path.stem == data["meta"]["device"]
    assert path.with_suffix(".md").read_text().startswith("# inpaint_lib benchmark")
    assert not list(path.parent.glob("*.tmp")), "temporary files left behind"
    assert any("RANDOMLY INITIALISED VGG-16" in n for n in data["notes"])


POSITIVE = [
    "cae.a_pipeline_trainer.throughput",
    "cae.b_bare_step.throughput",
    "cae.c_conventional_dataloader.throughput",
    "cae.data_path_only.ours.throughput",
    "cae.data_path_only.conventional.throughput",
    "cae.held_out_pass.throughput",
    "masks.library_random_squares.time_per_call",
    "masks.python_loop.time_per_call",
    "masks.union_only.row_dilation.time_per_call",
    "masks.union_only.batched_matmul.time_per_call",
    "masks.union_only.difference_array.time_per_call",
    "vit.matmul.fp32.flop_per_s",
    "vit.full_shape.variants.fp32.throughput",
    "vit.full_shape.variants.fp32.flop_per_step",
    "vit.full_shape.variants.fp32.achieved",
    "vit.full_shape.variants.fp32.fraction_of_matmul",
    "vit.full_shape.variants.fp32.held_out.throughput",
    "vit.quick_shape.variants.fp32.throughput",
    "vit.quick_shape.variants.fp32.flop_per_step",
    "memory.cae_a_pipeline.peak_rss",
    "memory.vit_full_shape_fp32.peak_rss",
    "ratios.cae_a_over_b",
    "ratios.cae_a_over_c",
    "ratios.masks_loop_over_library",
    "projection.part_a_pipeline.one_run",
    "projection.part_b_fp32.total",
]


def test_tool_speed_section(results: tuple[dict, Path]) -> None:
    data, path = results
    methods = data["tool"]["methods"]
    assert set(methods) >= {"mean", "telea", "ns", "biharmonic", "cae", "vit"}
    assert all(_value(data, f"tool.methods.{m}.seconds_per_image") > 0 for m in methods)
    assert "## tool" in path.with_suffix(".md").read_text()


@pytest.mark.parametrize("path", POSITIVE)
def test_positive_numbers(results: tuple[dict, Path], path: str) -> None:
    assert _value(results[0], path) > 0


def test_targets_and_checks(results: tuple[dict, Path]) -> None:
    data = results[0]
    names = [t["ratio"] for t in data["targets"]]
    assert names == ["cae_a_over_b", "cae_a_over_c", "masks_loop_over_library"]
    for t in data["targets"]:
        assert isinstance(t["pass"], bool) and t["value"] > 0 and t["goal"].startswith(">=")
    assert data["masks"]["union_algorithms_identical"] is True
    assert data["masks"]["config"]["output"].endswith("bool")
    assert data["complete"] is True
    # the full-shape step counts both VGG passes: far more FLOPs per image than the ViT alone
    flops = _value(data, "vit.full_shape.variants.fp32.flop_per_image")
    assert 3e10 < flops < 1.5e11


def test_library_precision_is_timed_and_compared(results: tuple[dict, Path]) -> None:
    data = results[0]
    vit_precision = data["meta"]["trainer_precision"]["vit"]
    cae_precision = data["meta"]["trainer_precision"]["cae"]
    assert data["cae"]["config"]["precision"] == cae_precision
    assert data["cae"]["config"]["conventional_precision"] == "fp32"
    for shape in ("full_shape", "quick_shape"):
        assert _value(data, f"vit.{shape}.variants.{vit_precision}.fraction_of_matmul") > 0
    if cae_precision != "fp32":  # e.g. bf16 on an AMX CPU: fp32 timed beside it
        assert _value(data, "cae.other_precisions.fp32.a_pipeline_trainer.throughput") > 0
        assert _value(data, f"ratios.cae_{cae_precision}_over_fp32_pipeline") > 0
