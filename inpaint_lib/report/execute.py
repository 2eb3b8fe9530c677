"""``python -m inpaint_lib.report.execute``: papermill's own command line (the Makefile runs
every notebook with it), started 0.9 s sooner.

papermill reads and writes notebooks with nbformat, which validates them with jsonschema; on
import jsonschema looks for the optional IRI-format checker `rfc3987_syntax` (installed here
for JupyterLab's event schemas), which builds its grammar when imported: 0.9 s of CPU in each
notebook's papermill process (about 60 per `make test`, 2-core Xeon, 2026-12-07). The notebook
schema has no IRI formats, so papermill is started with that module marked absent (None in
`sys.modules`: Python then raises ImportError and jsonschema goes without it). Nothing else
changes: the arguments, the engine, the kernel and the output are papermill's.
"""

from __future__ import annotations

import sys


def main() -> None:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    from papermill.cli import papermill

    papermill(prog_name="papermill")


if __name__ == "__main__":
    main()
