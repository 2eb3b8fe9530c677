"""The package's import rule: a module imports only from its own layer or the layers below.

Every module of `inpaint_lib` is parsed with `ast` (imports inside functions included) and
its imports of the package collected; a subpackage counts as one unit (`models`, `schema`;
`report`: the report's builders; `tool`: the inpaint tool), whichever of its files imports or is
imported. A new module must be given a layer here.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "inpaint_lib"

# bottom to top
LAYERS: dict[str, set[str]] = {
    "foundation": {"paths", "io", "code_version", "schema", "resolve", "setting_sources",
                   "progress", "timings", "stats", "metrics", "masks", "image_trees", "data",
                   "device", "models", "segments"},
    "training": {"losses", "weighting", "train", "runs", "provenance", "preflight", "jobs"},
    "evaluation": {"baselines", "methods", "evaluate", "section", "scoring", "crossover",
                   "study_scale", "study_scale_vit", "shipped"},
    "report": {"report", "gpu_partb"},
    "tool": {"tool"},
    "entry": {"__main__"},
}
LEVEL = {module: i for i, modules in enumerate(LAYERS.values()) for module in modules}


def unit(path: Path) -> str:
    """The module (or subpackage) a file belongs to: "train", "models", "report", "__main__"."""
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def package_imports(path: Path) -> set[str]:
    """The package's modules (and subpackages) that the file imports, anywhere in it."""
    where = list(path.relative_to(PACKAGE).parent.parts)  # the file's package, below inpaint_lib
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:  # from . / from .. import
            base = where[:len(where) - (node.level - 1)]
            if node.module:
                found.add(".".join([*base, node.module]))
            else:
                found.update(".".join([*base, alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("inpaint_lib."):
            found.add(node.module.removeprefix("inpaint_lib."))
        elif isinstance(node, ast.Import):
            found.update(alias.name.removeprefix("inpaint_lib.") for alias in node.names
                         if alias.name.startswith("inpaint_lib."))
    return {name.split(".")[0] for name in found if name}


def graph() -> dict[str, set[str]]:
    """unit -> the other units it imports."""
    out: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue
        module = unit(path)
        out.setdefault(module, set()).update(package_imports(path) - {module})
    return out


def upward(imports: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} ({layer(module)}) imports {other} ({layer(other)})"
                  for module, others in imports.items() for other in others
                  if LEVEL[other] > LEVEL[module])


def layer(module: str) -> str:
    return next(name for name, modules in LAYERS.items() if module in modules)


def test_every_module_has_one_layer() -> None:
    modules = set(graph())
    assert modules - set(LEVEL) == set(), "give the new module a layer in LAYERS"
    assert set(LEVEL) - modules == set(), "LAYERS names a module that is gone"
    assert sum(len(m) for m in LAYERS.values()) == len(LEVEL), "a module is in two layers"


def test_the_collector_sees_top_level_relative_and_function_level_imports() -> None:
    imports = graph()
    assert "train" in imports["runs"]  # from .train import ... at the top
    assert "train" in imports["scoring"]  # inside step_times
    assert "report" in imports["gpu_partb"]  # from .report import figures, prose in a function
    assert {"scoring", "report"} <= imports["__main__"]  # from . import scoring; from .report ...
    # inside a subpackage: `..` and `...` climb out of it, and its own files are not imports
    assert "section" in imports["report"]  # report/verdicts.py: from ..section import ...
    assert "metrics" in imports["report"]  # report/prose/common.py: from ...metrics import ...
    assert "report" in imports["tool"]  # tool/explore.py: from ..report.show import (in a function)
    assert all(other in LEVEL for others in imports.values() for other in others)


def test_no_module_imports_from_a_layer_above_it() -> None:
    assert upward(graph()) == []


def test_an_upward_import_fails_the_rule() -> None:
    imports = graph()
    imports["metrics"] = imports["metrics"] | {"train"}  # as if metrics.py imported the trainer
    added = set(upward(imports)) - set(upward(graph()))
    assert added == {"metrics (foundation) imports train (training)"}


def test_an_upward_import_of_a_subpackage_fails_the_rule() -> None:
    imports = graph()
    imports["section"] = imports["section"] | {"report"}  # as if section.py imported report.tables
    imports["report"] = imports["report"] | {"tool"}  # as if a report builder used the tool
    added = set(upward(imports)) - set(upward(graph()))
    assert added == {"section (evaluation) imports report (report)",
                     "report (report) imports tool (tool)"}
