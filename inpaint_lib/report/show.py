"""How notebooks display things: Markdown, figures with captions, formatted tables,
and a study's provenance block. The only module that talks to IPython."""

from __future__ import annotations

import re
import warnings

import pandas as pd
import yaml

from ..metrics import METRIC_LABELS
from ..runs import Run
from ..scoring import first_seed, loss_histories, same_masks
from ..scoring import reconstructions as prediction_rows
from ..section import Section
from . import figures, prose, tables
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
    html(f"<details><summary>{summary} ({prose.plural(len(df), 'row')}; {csv_link(df, name)})</summary>"
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


def reconstructions(study: Section, runs: dict, title: str, baselines: bool | list[str] = False,
                    collapsed: bool = False) -> None:
    """Input, each run's prediction (first seed) and the ground truth on the study's
    example images, one figure per kind of training mask; the classical methods too
    (`baselines`: all the section runs, or those named). The first figure is shown (unless
    `collapsed`), the others are one click away."""
    groups = same_masks(first_seed(runs))
    classical = [m for m in study.classical()  # those the section runs
                 if baselines is True or (baselines and m.name in baselines)]
    for i, (label, (mask_cfg, group)) in enumerate(groups.items()):
        methods = [study.method(r, name) for name, r in group.items()] + classical
        suffix = f" — {label}" if len(groups) > 1 else ""
        figure(figures.image_grid(prediction_rows(study, methods, mask_cfg), title + suffix),
               collapsed=collapsed or i > 0)


def phase_at_study_scale(study: Section, run: Run) -> None:
    """This ViT phase trained at the study's scale (`scoring.phase_at_study_scale`, a committed
    run of `study_scale_vit`) beside this profile's `run` and the study's figure: what trained
    it, its reconstructions under the phase's masks, its loss curve beside ours, and its paired
    verdicts on the held-out pets and the boats. A phase in `make study-scale`'s plan that is
    not committed gets one line saying so; the other phases, and the full profile, nothing."""
    from .. import scoring, study_scale
    from .. import study_scale_vit as vit
    from ..io import read_json
    from ..resolve import chained_run_config, load_params

    c = scoring.phase_at_study_scale(study)
    if c is None:
        if study.profile != study_scale.PROFILE and study_scale.planned_runs(study.name):
            full = load_params(study.params.source_file, study_scale.PROFILE)
            cfg = chained_run_config(full, next(iter(full.runs)), study_scale.PROFILE)
            md(prose.phase_not_at_scale(study.params.phase, cfg.epoch_range))
        return
    trained = c.run(run.name)
    cfg, history, scores = trained.config, trained.history, c.scores
    side, m, loss = scores["sets"]["pets"]["image_size"], cfg.model, cfg.loss
    weights = read_json(c.dir / vit.WEIGHTS_RECORD)
    md(prose.phase_at_study_scale({
        "phase": study.params.phase, "px": side, "patch": m.patch_size, "dim": m.dim,
        "depth": m.depth, "heads": m.heads, "dropout": m.dropout, "parameters": weights["parameters"],
        "dataset": scores["sets"]["pets"]["dataset"], "train_images": c.info["sizes"]["train"],
        "test_images": c.info["sizes"]["test"], "epochs": cfg.epoch_range,
        "optimizer": {"adamw": "AdamW", "adam": "Adam"}.get(cfg.optimizer.name, cfg.optimizer.name),
        "lr": cfg.optimizer.lr, "batch": cfg.batch_size, "masks": cfg.mask.label, "seed": cfg.seed,
        "loss": ("MAE only" if loss.mae > 0 and not loss.mse and not loss.uses_perceptual else
                 f"λ_MAE {loss.mae:g}, λ_Perceptual {loss.perceptual:g}"),
        "commit": c.commit, "code": c.code, "current_code": c.current_code, "precision": c.precision,
        "threads": c.info.get("threads"), "train_seconds": c.info.get("train_seconds", 0.0),
        "sha256": weights["sha256"], "run_dir": f"results/full/runs/{c.dir.name}",
        "loss_first": history[0]["test_loss"], "loss_last": history[-1]["test_loss"],
        "profile": study.profile, "ours_epochs": run.config.epoch_range,
        "ours_first": run.history[0]["test_loss"], "ours_last": run.history[-1]["test_loss"]}))
    shown = {f"the study's ViT, {side} px" if k == vit.NETWORK else k: v
             for k, v in vit.reconstructions(c).items()}
    figure(figures.image_grid(shown, prose.phase_figure_title(study.reference(run), cfg)
                              + f" at the study's scale: the study's ViT at {side} px, held-out "
                              f"pets (stored as JPEG, quality {scores['reconstructions']['jpeg_quality']})"))
    figure(figures.loss_curves({f"ours, profile {study.profile}": run.history,
                                "ours at the study's scale": history},
                               f"Phase {study.params.phase} loss at the study's scale and in this "
                               "profile (train solid, held-out dashed)", ylabel="loss"),
           collapsed=True)
    paired = {metric: tables.paired_comparisons(vit.per_image(c, metric), metric)
              for metric in vit.PAIRED_METRICS}
    verdicts = tables.with_patch_grid(tables.verdicts_by_metric(paired), vit.levels(c), vit.NETWORK)
    label = {k: METRIC_LABELS[k] for k in ("hole_mae", "hole_psnr", "ssim", "grid")}
    table(verdicts, digits=4, name=f"phase{study.params.phase}-at-study-scale",
          columns=["comparison", f"network {label['hole_mae']}",
                   f"best classical ({label['hole_mae']})", f"{label['hole_mae']} difference [95%]",
                   f"{label['hole_mae']} verdict", f"{label['hole_psnr']} verdict",
                   f"{label['ssim']} verdict", label["grid"]],
          note=prose.scale_note(study.value_range))
    md(prose.phase_verdicts(paired))
