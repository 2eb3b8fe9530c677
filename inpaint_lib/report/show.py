"""How notebooks display things: Markdown, figures with captions, formatted tables,
and a study's provenance block. The only module that talks to IPython."""

from __future__ import annotations

import re
import warnings

import pandas as pd
import yaml

from ..scoring import first_seed, loss_histories, same_masks
from ..scoring import reconstructions as prediction_rows
from ..section import Section
from . import figures, prose
from .figures import Figure, plt

# A notebook shows a random VGG-16 as a banner on its page (`prose.provenance`); the library's
# warning for command-line users would only repeat it as a red stderr block.
warnings.filterwarnings("ignore", message="perceptual loss uses a RANDOMLY INITIALISED VGG-16")

try:  # notebooks display rich output; the CLI (e.g. on a bare GPU machine) prints
    from IPython.display import HTML, Markdown, display
except ImportError:  # pragma: no cover - exercised only where IPython is absent
    HTML, Markdown, display = str, str, print


def one_level_items(text: str) -> str:
    """Markdown whose list items may start with a run name such as "+ mask channel": the
    "+" is escaped, so it stays one item instead of opening a nested list."""
    return re.sub(r"(?m)^(\s*[-*] )([+*-] )", r"\1\\\2", text)


def md(text: str) -> None:
    display(Markdown(one_level_items(text)))


def html(text: str) -> None:
    display(HTML(text))


def _title_once(fig: Figure) -> str:
    """The figure's title, taken out of the image (it is shown once, as the caption)."""
    if fig._suptitle:
        title = fig._suptitle.get_text()
        fig._suptitle.set_text("")
    else:
        title = fig.axes[0].get_title()
        fig.axes[0].set_title("")
    return title


def _png(fig: Figure) -> str:
    import base64
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def figure_html(fig: Figure, beside: bool = False) -> str:
    """A figure as HTML to place elsewhere (e.g. beside the report's findings): the image,
    then its title once as the caption; `beside`: the caption to the right of the image where
    the page is wide enough (under it where not), for a small figure whose caption is long."""
    title = _title_once(fig)
    img = f"<img src=\"data:image/png;base64,{_png(fig)}\">"
    caption = f"<p class='caption'><em>{title}</em></p>"
    if beside:
        return f"<div class='figrow'>{img}{caption}</div>"
    return f"{img}\n\n{caption}"


def figure(fig: Figure, collapsed: bool = False) -> None:
    """Display a figure with its title once, as an HTML caption under it (searchable,
    readable at any width), not also drawn in the image; `collapsed`: one click away, the
    title as the block's summary (for detail that another figure sums up)."""
    title = _title_once(fig)
    if collapsed:
        html(f"<details><summary><em>{title}</em></summary>"
             f"<img src=\"data:image/png;base64,{_png(fig)}\"></details>")
        return
    display(fig)
    plt.close(fig)
    if title:
        md(f"<p class='caption'><em>{title}</em></p>")


def format_table(df: pd.DataFrame, digits: int = 6) -> pd.io.formats.style.Styler:
    """Uniform number formatting for report tables; NaN shown as '-', no index."""
    fmt = {c: f"{{:.{digits}f}}" for c in df.columns if df[c].dtype.kind == "f"}
    for c in df.columns:
        if df[c].dtype.kind not in "fi":  # text (an interval, a verdict) keeps its own form
            continue
        if "PSNR" in c or "grid" in c or c.startswith("×"):
            fmt[c] = "{:.2f}"
        if "SSIM" in c:
            fmt[c] = "{:.4f}"
        if c == "ours / study":  # a ratio: how many times the study's number
            fmt[c] = "{:.1f}x"
        if c == "at scale / study":  # the same, near 1: two decimals tell 0.86x from 0.94x
            fmt[c] = "{:.2f}x"
        if c == "training s":
            fmt[c] = "{:,.0f}"
        if c == "parameters" and df[c].dtype.kind == "i":
            fmt[c] = "{:,}"
    return df.style.format(fmt, na_rep="-").hide(axis="index")


SHOWN_COLUMNS = 8  # what fits 1024 px without scrolling sideways


def table(df: pd.DataFrame, digits: int = 6, columns: list[str] | None = None,
          name: str = "table", rows: pd.Series | None = None, note: str = "") -> None:
    """A table that fits a laptop: at most `SHOWN_COLUMNS` columns (`columns`, else the
    first ones) and, where `rows` (a boolean Series) is given, only those rows shown; a table
    cut either way is also one click away in full, with a CSV download (`name`.csv). `note`:
    a line under the table (e.g. `prose.scale_note`, the scale of its metrics)."""
    if len(df.columns) <= SHOWN_COLUMNS and columns is None and rows is None:
        display(format_table(df, digits))
    else:
        shown = columns or list(df.columns[:SHOWN_COLUMNS])
        display(format_table((df if rows is None else df[rows])[shown], digits))
        what = [f"all {len(df.columns)} columns"] if len(shown) < len(df.columns) else []
        what += [f"all {len(df)} rows"] if rows is not None else []
        collapsed_table(df, "The full table: " + ", ".join(what), name, digits)
    if note:  # each paragraph of it a line of its own; its Markdown links as HTML ones
        note = re.sub(r"\[([^\]]+)\]\((#[^)\s]+)\)", r"<a href='\2'>\1</a>", note)
        md("\n".join(f"<p class='caption'>{line}</p>" for line in note.split("\n\n")))


def csv_link(df: pd.DataFrame, name: str) -> str:
    """An HTML link that downloads `df` as `name`.csv from the page itself (a data: URI)."""
    import base64

    data = base64.b64encode(df.to_csv(index=False).encode()).decode()
    return f"<a download='{name}.csv' href='data:text/csv;base64,{data}'>download as CSV</a>"


def collapsed_table(df: pd.DataFrame, summary: str, name: str, digits: int = 6) -> None:
    """A table one click away: a collapsed block titled `summary`, with a CSV download."""
    html(f"<details><summary>{summary} ({len(df)} rows; {csv_link(df, name)})</summary>"
         f"{format_table(df, digits).to_html()}</details>")


def provenance(study: Section) -> None:
    """One collapsed block: the provenance line, and the settings (what differs from the
    study's base, and which layer set it) of a study's notebook."""
    effective = yaml.safe_dump(study.params.model_dump(mode="json", exclude={"reference"}),
                               sort_keys=False, width=100)
    md(prose.settings_block(study.settings(), study.params.source_file, study.profile, effective,
                            prose.provenance(study.facts(), study.params.title)))


def loss_curves(study: Section, runs: dict, title: str, collapsed: bool = False) -> None:
    """Train and held-out loss of each run's first seed."""
    ylabel = "MSE loss ([-1, 1] scale)" if study.params.part == "A" else "loss"
    figure(figures.loss_curves(loss_histories(first_seed(runs)), title, ylabel=ylabel),
           collapsed=collapsed)


def reconstructions(study: Section, runs: dict, title: str, baselines: bool = False,
                    collapsed: bool = False) -> None:
    """Input, each run's prediction (first seed) and the ground truth on the study's
    example images, one figure per kind of training mask; the classical methods too. The
    first figure is shown (unless `collapsed`), the others are one click away."""
    groups = same_masks(first_seed(runs))
    for i, (label, (mask_cfg, group)) in enumerate(groups.items()):
        methods = [study.method(r, name) for name, r in group.items()]
        methods += study.classical() if baselines else []  # those the section runs
        suffix = f" — {label}" if len(groups) > 1 else ""
        figure(figures.image_grid(prediction_rows(study, methods, mask_cfg), title + suffix),
               collapsed=collapsed or i > 0)
