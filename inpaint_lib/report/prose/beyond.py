"""Sentences of the "beyond the study" notebooks: the crossover section (d1_crossover).

Pure functions: the crossover table (`crossover.crossover_table`) and its targets in,
Markdown out; every number is read from the arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ...shipped import ShippedNetwork


def _interval(row: pd.Series | dict[str, Any], metric: str = "hole_psnr", tag: str = "") -> str:
    unit = " dB" if metric == "hole_psnr" else ""
    return (f"{row[f'{metric}_margin{tag}']:+.2f}{unit} "
            f"[{row[f'{metric}_low{tag}']:+.2f}, {row[f'{metric}_high{tag}']:+.2f}]")


def crossover(margins: pd.DataFrame) -> str:
    """Where the network's hole-PSNR margin over the best classical method turns positive
    (its 95% interval above zero), per mask shape, and where it is a loss or a tie."""
    lines = []
    for shape, g in margins.groupby("shape", sort=False):
        g = g.sort_values("width")
        won = g[g["hole_psnr_low"] > 0]
        lost = g[g["hole_psnr_high"] < 0]
        parts = [f"{r['setting']} (width {r['width']:.0f} px) {_interval(r)} against "
                 f"{r['best_classical']}" for _, r in g.iterrows()]
        if len(won) == len(g):
            where = "the network wins at every hole size measured"
        elif won.empty:
            where = ("the network wins at no hole size measured" + (
                f"; it loses at {', '.join(lost['setting'])}" if len(lost) else ""))
        else:
            first = won.iloc[0]
            where = (f"the crossover lies at about {first['width']:.0f} px: the network wins from "
                     f"{first['setting']} on ({', '.join(won['setting'])})")
        lines.append(f"- **{shape}**: {where}. Margins: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def targets(rows: list[dict[str, Any]]) -> str:
    """The issue's targets, each met or missed with its number and interval."""
    if not rows:
        return "No target applies to these settings."
    met = sum(r["met"] for r in rows)
    items = [f"- {r['target']}: **{'met' if r['met'] else 'missed'}** "
             f"({r['margin']:+.2f} dB [{r['low']:+.2f}, {r['high']:+.2f}])" for r in rows]
    return f"{met} of {len(rows)} targets met on this profile:\n\n" + "\n".join(items)


def shipped(card: dict[str, Any] | None) -> str:
    """What the photo network shipped with the tool is and how it was trained (its card)."""
    if card is None:
        return ("No photo network is shipped in this checkout (`make photo-network` trains one "
                "and writes it into `inpaint_lib/photo_network/`).")
    p = card["provenance"]
    return (f"The **shipped photo network** (`inpaint_lib/photo_network/`, what `inpaint` uses with "
            f"no training): the same network trained once at the `{p['profile']}` photo profile, "
            f"{p['epochs']} epochs on {p['train_crops']:,} random {p['crop']} px crops of "
            f"{p['train_photos']:,} training photos of {p['dataset']}, "
            f"{p['train_seconds'] / 60:.0f} min on `{p['device']}` ({p['threads']} thread(s), "
            f"{p['precision']}); commit `{p['commit']}`, training code `{p['training_code']}`, "
            f"weights sha256 `{card['sha256'][:12]}`. Its own table, when shipped, scored "
            f"{ShippedNetwork(Path('.'), card).test_photos()}"
            + ("" if "validation" in card["crossover"] else
               " (`make photo-network` retrains it with validation photos held out to choose on)")
            + "; below, it is scored again on this section's test photos and masks, beside this "
            "profile's network.")


def targets_side_by_side(named: dict[str, list[dict[str, Any]]]) -> str:
    """Several networks' targets (`crossover.targets` rows, by network name) as one Markdown
    table: one row per target, per network the margin with its interval and met / missed,
    then how many each meets."""
    names = list(named)
    targets = list(dict.fromkeys(t["target"] for rows in named.values() for t in rows))
    lines = ["| target | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for target in targets:
        cells = []
        for name in names:
            t = next((r for r in named[name] if r["target"] == target), None)
            cells.append("-" if t is None else
                         f"{'**met**' if t['met'] else 'missed'}: {t['margin']:+.2f} dB "
                         f"[{t['low']:+.2f}, {t['high']:+.2f}]")
        lines.append(f"| {target} | " + " | ".join(cells) + " |")
    counts = "; ".join(f"{name}: {sum(t['met'] for t in rows)} of {len(rows)} met"
                       for name, rows in named.items())
    return "\n".join(lines) + f"\n\n{counts}."
