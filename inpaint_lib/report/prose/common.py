"""What every part's sentences share: counts in words, the provenance line and the
settings block of a notebook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def count_of(k: int, n: int, what: str) -> str:
    """'all 10 images', 'none of the 10 images', '7 of 10 images'."""
    if k == n:
        return f"all {n} {what}" if n > 1 else f"the {what}"
    return f"none of the {n} {what}" if k == 0 else f"{k} of {n} {what}"


def scale_note(value_range: tuple[float, float]) -> str:
    """The line under a results table that gives every metric's scale (`Section.value_range`)."""
    low, high = value_range  # short: it stands under many tables, and must not read as a repeat
    return (f"Scale: MSE and MAE on [{low:g}, {high:g}] pixel values; PSNR in dB, peak "
            f"{high - low:g}; SSIM 0-1.")


def provenance(facts: Mapping[str, Any], section: str = "") -> str:
    """The provenance line of a notebook (`Section.facts`). The smoke-profile and random-VGG
    warnings are the report's, once at its top (`report._header`); the line only flags them."""
    out = []
    flags = [w for w, on in (("generated shapes (smoke)", "synthetic" in facts["dataset"]),
                             ("random VGG-16 perceptual loss", facts.get("random_vgg")))
             if on]
    sizes = ", ".join(f"{k} {v:,}" for k, v in facts["sizes"].items() if v)
    counts = sorted(set(facts["seeds"].values()))
    seeds = (plural(counts[0], "seed") + " per run" if len(counts) == 1 else
             ", ".join(f"{name}: {plural(n, 'seed')}" for name, n in facts["seeds"].items()))
    first, last = facts["epochs"]
    side = facts["image_size"]
    out.append(f"**Provenance{' of ' + section if section else ''}.** profile `{facts['profile']}` · dataset **{facts['dataset']}** "
               f"({sizes}; {side}x{side} px) · epochs {first}-{last} · batch {facts['batch_size']} · "
               f"{seeds} · test masks seed {facts['mask_seed']} · device `{facts['device']}`, "
               f"training in {facts['precision']}"
               + (f" · ⚠ {', '.join(flags)}, see the warning at the top" if flags else ""))
    return "\n\n".join(out)


def settings_block(rows: list[dict[str, Any]], source: str, profile: str, effective_yaml: str,
                   provenance: str = "") -> str:
    """A collapsible block: the `provenance` line, each setting that differs from the study's
    base and what set it (the params file, the profile, INPAINT_OVERRIDES, a rescaling), then
    the full params."""
    lines = [(f"<details><summary>Provenance and settings: what ran, what differs from the "
              f"study's base and why ({source}, profile {profile})</summary>\n")]
    lines += [provenance, ""] if provenance else []
    if rows:
        lines += ["| setting | base value | here | set by |", "|---|---|---|---|"]
        lines += [f"| `{r['setting']}` | {_cell(r['base value'])} | {_cell(r['value'])} | {r['set by']} |"
                  for r in rows]
    else:
        lines.append("Every setting is the study's base value.")
    lines += ["\nAll effective parameters:\n", f"```yaml\n{effective_yaml}```", "</details>"]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"`{value}`".replace("|", "\\|")
