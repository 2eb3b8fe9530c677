"""Training progress on the terminal, never in a notebook's stored outputs.

`runs.get_run` gives the training loop a `TrainingProgress` as its log sink when
the caller passes none (the notebooks). Each epoch line of `Trainer.fit` becomes

    training a2_optimizers :: RMSprop (seed 0) epoch 3/10: train 0.02345  val 0.02456  (1.2s)  ETA 8 s

written to the process's own stderr file descriptor. Inside a Jupyter kernel that
is `sys.stderr.fileno()`: ipykernel forwards what C code writes to fd 2 into the
notebook, but `fileno()` returns its copy of the original descriptor, the one the
kernel inherited from papermill (and so from `make`): the terminal. Outside a
kernel it is plain stderr. A notebook trained from JupyterLab shows its epochs in the
terminal that runs ``make lab``.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time

EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+):")


def _terminal_fd() -> int:
    """The file descriptor of the terminal this process was started from (see module doc)."""
    for stream in (sys.stderr, sys.__stderr__):
        try:
            return stream.fileno()
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            continue
    return 2


def to_terminal(line: str) -> None:
    """Write one line to the terminal; a closed or missing terminal is not an error."""
    try:
        os.write(_terminal_fd(), (line + "\n").encode(errors="replace"))
    except OSError:
        pass


def human_seconds(seconds: float) -> str:
    """e.g. '8 s', '2 min 05 s', '1 h 03 min'."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class TrainingProgress:
    """Log sink for one run: prefixes each line with the run and adds an ETA to epoch lines.

    The ETA is the mean wall time per epoch trained in this process times the epochs left.
    """

    def __init__(self, label: str) -> None:
        self.label = label  # e.g. "a2_optimizers :: RMSprop (seed 0)"
        self.start = time.perf_counter()
        self.epochs_done = 0

    def __call__(self, line: str) -> None:
        m = EPOCH_LINE.match(line)
        if m is None:  # e.g. "resuming ... after epoch 4"
            to_terminal(f"training {self.label}: {line}")
            return
        epoch, last = int(m.group(1)), int(m.group(2))
        self.epochs_done += 1
        elapsed = time.perf_counter() - self.start
        left = last - epoch
        tail = (f"ETA {human_seconds(elapsed / self.epochs_done * left)}" if left
                else f"done, {self.epochs_done} epochs in {human_seconds(elapsed)}")
        to_terminal(f"training {self.label} {line}  {tail}")
