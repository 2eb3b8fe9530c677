"""Write a notebook from a compact cell list (dev tool: notebooks are stored without outputs).

Usage inside a script: write_notebook(path, [("md", text), ("params", code), ("code", code)]).
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def write_notebook(path: str | Path, cells: list[tuple[str, str]]) -> None:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        src = src.strip("\n")
        if kind == "md":
            nb.cells.append(new_markdown_cell(src))
        else:
            cell = new_code_cell(src)
            if kind == "params":
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(path).stem[:20]}-{i:02d}"
    nbformat.validate(nb)
    nbformat.write(nb, str(path))


if __name__ == "__main__":
    print(__doc__, file=sys.stderr)
