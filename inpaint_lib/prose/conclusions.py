"""The conclusions notebook's sentences: each study and test set against the classical
methods, the mask sweep, the headline count and what the verdict is about."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .part_a import mask_sweep, versus_baselines
from .part_b import occlusion_levels


def verdict_scope(profile: str, description: str) -> str:
    """What a network-vs-classical verdict is about: '' at the study's settings, else the
    profile's own description of what it reduced."""
    if profile == "full":
        return ""
    return (f"These are the networks of the `{profile}` profile ({description}). The verdict is "
            "about these reduced networks, not about the architectures at the study's settings: "
            "`make report PROFILE=full` trains those.")


def studies_against_classical(part_a: Mapping[str, pd.DataFrame]) -> str:
    """`versus_baselines` for each study: {title: long results table}."""
    return "\n\n".join(f"**{title}**\n" + versus_baselines(long) for title, long in part_a.items())


def sweep_paragraph(sweep: tuple[pd.DataFrame, pd.DataFrame] | None) -> str:
    """`mask_sweep` for the conclusions ('' when no sweep was run)."""
    return "" if sweep is None else "**Test-time mask sweep.** " + mask_sweep(*sweep)


def sets_against_classical(part_b: Mapping[str, pd.DataFrame], network: str = "ViT") -> str:
    """`occlusion_levels` for each test set: {set name: levels table}."""
    return "\n\n".join(occlusion_levels(levels, f"{network} on {name}")
                        for name, levels in part_b.items())


def headline(table: pd.DataFrame) -> str:
    """How many (comparison, metric) pairs of `tables.headline` rows the network wins."""
    wins = int((table.winner == "network").sum())
    return (f"The best trained network beats the best classical method in **{wins} of "
            f"{len(table)}** (comparison, metric) pairs; the classical method wins "
            f"**{len(table) - wins}**.")
