"""benchmarks.compare_reports: two builds agree but for their timings, or say where not."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.compare_reports import compare


def _notebook(path: Path, mse: str, seconds: str, minutes: str) -> None:
    table = ("<table><tr><th>method</th><th>test MSE</th><th>training s</th></tr>"
             f"<tr><td>baseline</td><td>{mse}</td><td>{seconds}</td></tr></table>")
    md = f"The baseline trained in {minutes} min on 2 threads.\n\n| run | training s |\n|---|---|\n| a | {seconds} |"
    cells = [{"cell_type": "code", "outputs": [{"data": {"text/html": table}},
                                                {"data": {"text/markdown": md}}]}]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells}))


def test_timings_are_masked_and_a_changed_number_is_found(tmp_path: Path) -> None:
    a, b, c = (tmp_path / x / "quick" for x in "abc")
    _notebook(a / "notebooks" / "a1.ipynb", "0.0348", "41.2", "3")
    _notebook(b / "notebooks" / "a1.ipynb", "0.0348", "29.7", "2")  # faster, same science
    _notebook(c / "notebooks" / "a1.ipynb", "0.0332", "29.7", "2")  # another number
    assert compare(a, b) == []
    diffs = compare(a, c)
    assert diffs and all(d.startswith("a1.ipynb: ") for d in diffs)
    assert any("0.0348" in d for d in diffs) and any("0.0332" in d for d in diffs)
