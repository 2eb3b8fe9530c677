"""Resolve a params file into validated parameters: bases, profile, overrides, rescaling.

A params file (``params/a2_optimizers.yaml``) names a base (``extends: cae.yaml``)
holding the study's shared settings and declares its runs as small overrides of
the base's ``train`` section. The layers, merged in this order, are:

1. ``base``: the ``extends:`` chain (the study's shared settings);
2. ``file``: the params file itself;
3. ``profile``: the profile's section for the part (``params/profiles/quick.yaml``, ``cae:``/``vit:``,
   ``photo:`` for part D, beyond the study);
4. ``override``: the ``INPAINT_OVERRIDES`` environment variable (YAML, same sections).

The merged document is validated against `schema.SectionParams`; each run's
`RunConfig` is then rescaled by the profile's ``epoch_scale`` and ``mask_scale``
(`run_config`). Which layer set each value is `setting_sources`, so a notebook
can answer "why 10 epochs?". Errors are one line naming file and field.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .paths import REPO_ROOT
from .schema import ConclusionsParams, MaskConfig, RunConfig, SectionParams

PARAMS_DIR = REPO_ROOT / "params"
PROFILES = ("smoke", "quick", "full")
LAYERS = ("base", "file", "profile", "override")


class ParamsError(ValueError):
    """A params file is invalid; the message is one line naming file and field."""


# ----------------------------------------------------------------------- reading
def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Recursively merge `over` onto a copy of `base` (dicts merge, others replace)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


# (path, its size and modification time) -> the mapping it held: a notebook resolves its params
# (and its comparisons' and phases') hundreds of times from a score of files
_YAML: dict[tuple[str, int, int], dict[str, Any]] = {}


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping a YAML file holds (`yaml.safe_load`), parsed once per version of the file
    in this process; a copy, so a caller may change it."""
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if key not in _YAML:
            _YAML[key] = yaml.safe_load(path.read_text())
        doc = _YAML[key]
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise ParamsError(f"{path}: expected a mapping at top level")
    return copy.deepcopy(doc)


def one_line(path: Path | str, err: ValidationError, prefix: str = "") -> ParamsError:
    """The most telling error of a validation as one line: unknown keys (typos) first,
    since a misspelt key also makes the fields it should have set look missing."""
    errors = sorted(err.errors(), key=lambda e: e["type"] != "extra_forbidden")
    e = errors[0]
    parts = [str(p) for p in e["loc"] if not str(p).startswith("function-")]
    loc = ".".join(x for x in (prefix, ".".join(parts)) if x)
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        msg = "unknown key" + _did_you_mean(parts[-1], err.title)
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return ParamsError(f"{path}: {loc}: {msg}{more}")


def _did_you_mean(key: str, model_name: str) -> str:
    """' (did you mean 'extends'?)' when a known key of the top-level model is close."""
    from . import schema

    model = getattr(schema, model_name, None)
    known = [*model.model_fields, "extends"] if isinstance(model, type) else ["extends"]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else " (typo?)"


def file_layers(path: Path, depth: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """[(source, document)] of a params file's `extends:` chain, base first."""
    doc = read_yaml(path)
    base_name = doc.pop("extends", None)
    if base_name is None:
        return [(path.name, doc)]
    if depth > 8:
        raise ParamsError(f"{path}: extends: chain too deep (a cycle?)")
    return [*file_layers(path.parent / str(base_name), depth + 1), (path.name, doc)]


def load_profile(profile: str) -> dict[str, Any]:
    path = PARAMS_DIR / "profiles" / f"{profile}.yaml"
    if not path.exists():
        raise ParamsError(f"profile {profile!r}: no file {path} (choose from {', '.join(PROFILES)})")
    return read_yaml(path)


def _overrides() -> dict[str, Any]:
    text = os.environ.get("INPAINT_OVERRIDES")  # e.g. 'vit: {train: {amp: false}}'
    if not text:
        return {}
    try:
        extra = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ParamsError(f"INPAINT_OVERRIDES: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(extra, dict):
        raise ParamsError("INPAINT_OVERRIDES: expected a mapping like 'cae: {...}'")
    return extra


def find_params(params_file: str | Path) -> Path:
    """A params path as given, else the file of that name in params/."""
    path = Path(params_file)
    if not path.is_absolute() and not path.exists() and (PARAMS_DIR / path.name).exists():
        return PARAMS_DIR / path.name
    return path


def layers(params_file: str | Path, profile: str) -> dict[str, dict[str, Any]]:
    """The four layers of a study's parameters, by name (see the module docstring)."""
    path = find_params(params_file)
    chain = file_layers(path)
    base: dict[str, Any] = {}
    for _, doc in chain[:-1]:
        base = deep_merge(base, doc)
    file = chain[-1][1]
    part = file.get("part", base.get("part"))
    section = {"A": "cae", "D": "photo"}.get(part, "vit")
    return {"base": base, "file": file, "profile": load_profile(profile).get(section, {}),
            "override": _overrides().get(section, {})}


# ---------------------------------------------------------------------- studies
def load_params(params_file: str | Path, profile: str = "quick") -> SectionParams:
    """A study's validated parameters: base, file, profile and overrides merged; every run
    checked before any work (a bad field is one line naming file and field)."""
    path = find_params(params_file)
    doc: dict[str, Any] = {}
    for layer in layers(path, profile).values():
        doc = deep_merge(doc, layer)
    doc["profile_note"] = load_profile(profile).get("description", "")
    doc["source_file"] = str(path)
    try:
        study = SectionParams.model_validate(doc)
    except ValidationError as err:
        raise one_line(path, err) from None
    for name in study.runs:
        run_config(study, name, path)
    unknown = [name for name in study.full_only if name not in study.runs]
    if unknown:
        raise ParamsError(f"{path}: full_only: no run named {unknown[0]!r}")
    if profile != "full" and study.full_only:
        runs = {n: r for n, r in study.runs.items() if n not in study.full_only}
        deferred = {n: study.runs[n] for n in study.full_only}
        study = SectionParams.model_validate({**study.model_dump(), "runs": runs, "deferred": deferred})
    for name in study.run_seeds:
        if name not in study.runs:
            raise ParamsError(f"{path}: run_seeds.{name}: no run named {name!r}")
    for field in ("parent", "compare_with"):
        other = getattr(study, field)
        if other is not None and not (path.parent / other).exists():
            raise ParamsError(f"{path}: {field}: no params file {other!r} beside it")
    return study


def load_conclusions(params_file: str | Path) -> ConclusionsParams:
    path = find_params(params_file)
    try:
        params = ConclusionsParams.model_validate({**read_yaml(path), "source_file": str(path)})
    except ValidationError as err:
        raise one_line(path, err) from None
    for name in [*params.part_a, params.mask_sweep, params.part_b, params.part_b_variants]:
        if name is not None and not (path.parent / name).exists():
            raise ParamsError(f"{path}: {name}: no such params file beside it")
    return params


def is_conclusions(params_file: str | Path) -> bool:
    return "part_a" in read_yaml(find_params(params_file))


# --------------------------------------------------------------------- rescaling
def run_config(study: SectionParams, name: str, path: Path | str | None = None,
               parent: RunConfig | None = None) -> RunConfig:
    """The effective, validated RunConfig of run `name` of `study`.

    With `epoch_scale` != 1 (quick/smoke profiles) epoch numbers are rescaled:
    a ViT phase keeps its place in the chain (it starts right after `parent`),
    and in-phase events (lr changes, loss ramps) keep their relative position.
    `mask_scale` scales square sides (reduced image sizes).
    """
    path = path or study.source_file
    if name not in study.runs:
        raise ParamsError(f"{path}: runs: no run named {name!r} (have {', '.join(study.runs)})")
    doc = deep_merge(study.train, study.runs[name])
    doc["data"] = study.data.model_dump()
    try:
        cfg = RunConfig.model_validate(doc)
    except ValidationError as err:
        raise one_line(path, err, prefix=f"runs.{name}") from None
    update = _rescaled(cfg, study, parent)
    if parent is not None:
        update["parent"] = parent.key()
    if not update:
        return cfg
    try:
        return RunConfig.model_validate({**cfg.model_dump(), **update})
    except ValidationError as err:
        raise one_line(path, err, prefix=f"runs.{name} (after profile scaling)") from None


def _rescaled(cfg: RunConfig, study: SectionParams, parent: RunConfig | None) -> dict[str, Any]:
    """Fields of `cfg` that the profile's epoch_scale / mask_scale (and the chain) change."""
    first, last = cfg.epoch_range
    start = parent.epoch_range[1] + 1 if parent is not None else first
    update: dict[str, Any] = {}
    if study.epoch_scale != 1.0 or start != first:
        length = max(1, round((last - first + 1) * study.epoch_scale))
        new_first, new_last = start, start + length - 1

        def remap(e: int) -> int:
            frac = (e - first) / max(1, last - first + 1)
            return min(new_last, new_first + math.floor(frac * (new_last - new_first + 1)))

        if (new_first, new_last) != (first, last):
            update["epochs"] = (new_first, new_last) if new_first != 1 else new_last
            update["lr_changes"] = {remap(e): lr for e, lr in cfg.lr_changes.items()}
            update["mask_schedule"] = {remap(e): m.model_dump()
                                       for e, m in cfg.mask_schedule.items()}
            if cfg.loss.ramp_epochs is not None:
                a, b = cfg.loss.ramp_epochs
                update["loss"] = {**cfg.loss.model_dump(), "ramp_epochs": (remap(a), remap(b))}
    if study.mask_scale != 1.0:
        def side(v: int) -> int:
            return max(1, round(v * study.mask_scale))

        def scaled(mask: MaskConfig) -> dict[str, Any]:
            size = mask.size
            new = (side(size[0]), side(size[1])) if isinstance(size, tuple) else side(size)
            return {**mask.model_dump(), "size": new}

        update["mask"] = scaled(cfg.mask)
        schedule = update.get("mask_schedule", cfg.mask_schedule)
        update["mask_schedule"] = {e: scaled(MaskConfig.model_validate(m))
                                   for e, m in schedule.items()}
    return update


def chained_run_config(study: SectionParams, name: str, profile: str) -> RunConfig:
    """`run_config` placed in its chain: a ViT phase starts after its `parent` phase's last
    epoch, as it is trained (parents are resolved as configs; nothing is trained)."""
    parent = None
    if study.parent is not None:
        parent_study = load_params(Path(study.source_file).parent / study.parent, profile)
        parent = chained_run_config(parent_study, next(iter(parent_study.runs)), profile)
    return run_config(study, name, parent=parent)


def is_base_run(study: SectionParams, name: str) -> bool:
    """Is run `name` the study's shared base configuration (the baseline every Part A study
    shares, trained once)?"""
    base = SectionParams.model_validate({**study.model_dump(), "runs": {"_base": {}}})
    return run_config(study, name).key() == run_config(base, "_base").key()


def seeds_for(study: SectionParams, name: str) -> list[int]:
    """Seeds run `name` is trained with: `seeds`, `baseline_seeds` for the base configuration,
    or `run_seeds` for a named run, whichever is most."""
    cfg = run_config(study, name)
    n = max(study.seeds, study.baseline_seeds if is_base_run(study, name) else 1,
            study.run_seeds.get(name, 1))
    return [cfg.seed + i for i in range(n)]


def with_seed(study: SectionParams, name: str, seed: int) -> SectionParams:
    """The same study with run `name` trained from `seed`."""
    if seed == run_config(study, name).seed:
        return study
    runs = {**study.runs, name: {**study.runs[name], "seed": seed}}
    return SectionParams.model_validate({**study.model_dump(), "runs": runs})
