"""Which layer set each setting: the rows of a notebook's settings block.

`setting_sources` compares every effective value of a study (and of each of its runs, as
trained) with the study's shared base and names the last layer that set it (see
`resolve`: base, file, profile, override) and, where the profile rescaled it, the knob.
It answers "why 10 epochs?".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .resolve import (
    LAYERS,
    chained_run_config,
    deep_merge,
    file_layers,
    find_params,
    layers,
    load_params,
)
from .schema import RunConfig, SectionParams


def _leaves(doc: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(doc, BaseModel):
        doc = doc.model_dump(mode="json")
    if isinstance(doc, dict) and doc:
        for k, v in doc.items():
            yield from _leaves(v, (*prefix, str(k)))
    else:
        yield prefix, doc


def _get(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return _MISSING
        doc = doc[key]
    return doc


_MISSING = object()
_PERCEPTUAL_ONLY = {("loss", "perceptual_weights"), ("loss", "perceptual_images")}


def setting_sources(params_file: str | Path, profile: str) -> list[dict[str, Any]]:
    """Every effective setting that differs from the study's shared base, with what set it.

    One row {setting, base value, value, set by} per value: study-level settings
    (``data.subset.train``) and each run's settings as trained (``runs.baseline.epochs``).
    "set by" names the last layer that set the value (the params file, the profile,
    INPAINT_OVERRIDES) and, where the profile rescaled it, the knob and the value before.
    """
    docs = layers(params_file, profile)
    path = find_params(params_file)
    bases = [name for name, _ in file_layers(path)[:-1]]
    names = {"base": " + ".join(bases) or "defaults", "file": path.name,
             "profile": f"profile {profile}", "override": "INPAINT_OVERRIDES"}
    study = load_params(params_file, profile)
    if not docs["base"]:  # a params file without a base: its own train section is the base
        docs["base"] = {"train": docs["file"].get("train", {})}
    base_study = SectionParams.model_validate({"title": "", "part": study.part, "data": study.data,
                                               **docs["base"]}).model_dump(mode="json")
    rows: list[dict[str, Any]] = []
    top = study.model_dump(mode="json", include={"data", "evaluation", "seeds", "baseline_seeds",
                                                 "epoch_scale", "mask_scale"})
    for key, value in _leaves(top):
        before = _get(base_study, key)
        who = _last_layer(docs, key)
        if who is not None and value != before:
            rows.append(_row(key, before, value, names[who]))
    base_cfg = RunConfig.model_validate({**docs["base"].get("train", {}),
                                         "data": study.data.model_dump()}).model_dump(mode="json")
    for name in study.runs:
        cfg = chained_run_config(study, name, profile)
        effective = cfg.model_dump(mode="json", exclude={"data", "parent"})
        declared = RunConfig.model_validate({**deep_merge(study.train, study.runs[name]),
                                             "data": study.data.model_dump()}).model_dump(mode="json")
        for key, value in _leaves(effective):
            before = _get(base_cfg, key)
            if value == before or (key in _PERCEPTUAL_ONLY and not cfg.loss.uses_perceptual):
                continue  # unchanged, or a setting of a term this run does not use
            # a run's own entry (runs.<name>) is merged over the shared train section
            layer = _last_layer(docs, ("runs", name, *key)) or _last_layer(docs, ("train", *key))
            rescaled = _get(declared, key) != value
            if layer is None and not rescaled:
                continue  # a schema default that came with a mapping set above it
            who = names[layer or "base"]
            if rescaled:
                knob = "mask_scale" if key[0] == "mask" else "epoch_scale"
                declared_value = _get(declared, key)  # missing where rescaling moved the key
                shown = "-" if declared_value is _MISSING else declared_value
                who = (f"{who} ({shown}), rescaled by profile {profile}: "
                       f"{knob} {getattr(study, knob):g}")
            rows.append(_row(".".join(("runs", name, *key)), before, value, who))
    return rows


def _last_layer(docs: dict[str, dict[str, Any]], key: tuple[str, ...]) -> str | None:
    """The last layer (in merge order) whose document sets `key`, or replaces a value
    above it with a non-mapping; None when no layer does."""
    found = None
    for name in LAYERS:
        doc = docs[name]
        if _get(doc, key) is not _MISSING or any(
                not isinstance(_get(doc, key[:i]), dict) and _get(doc, key[:i]) is not _MISSING
                for i in range(1, len(key))):
            found = name
    return found


def _row(setting: tuple[str, ...] | str, before: Any, value: Any, who: str) -> dict[str, Any]:
    key = setting if isinstance(setting, str) else ".".join(setting)
    return {"setting": key, "base value": None if before is _MISSING else before,
            "value": value, "set by": who}
