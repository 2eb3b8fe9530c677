"""``python -m inpaint_lib.report.execute``: papermill's own command line (the Makefile runs
every notebook with it), started 0.9 s sooner and finished 0.9 s sooner.

Started sooner: papermill reads and writes notebooks with nbformat, which validates them with
jsonschema; on import jsonschema looks for the optional IRI-format checker `rfc3987_syntax`
(installed here for JupyterLab's event schemas), which builds its grammar when imported: 0.9 s
of CPU in each notebook's papermill process (about 60 per `make test`, 2-core Xeon,
2026-12-07). The notebook schema has no IRI formats, so papermill is started with that module
marked absent (None in `sys.modules`: Python then raises ImportError and jsonschema goes
without it).

Finished sooner: after the last cell, papermill's engine (nbclient) asks the kernel to shut
down and waits for its process to end; a kernel that has imported torch, pandas, matplotlib and
seaborn spends 0.7-1 s of CPU tearing down its interpreter (a collection over torch's module
graph), on every notebook's critical path. Every output is in the notebook and every file a
cell writes is written when the last cell reports idle, so the kernel is stopped at once
instead (nbclient's ``shutdown_kernel="immediate"``): a notebook must leave nothing to exit
handlers (none in this project does; `tests/test_notebooks.py` pins the behaviour). Nothing
else changes: the arguments, the kernel and the output are papermill's.
"""

from __future__ import annotations

import sys
from typing import Any


def _register_engine() -> None:
    """papermill's default engine, its kernel stopped at once after the last cell."""
    from papermill.engines import NBClientEngine, papermill_engines

    class PromptExit(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            kwargs.setdefault("shutdown_kernel", "immediate")
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(None, PromptExit)
    papermill_engines.register("nbclient", PromptExit)


def main() -> None:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    _register_engine()
    from papermill.cli import papermill

    papermill(prog_name="papermill")


if __name__ == "__main__":
    main()
