"""The report's generated sentences as pure functions: DataFrames (or plain values) in,
Markdown out. Every number in a sentence is read from its arguments; a yes/no is
written as words, never as ``True``/``False``.

Notebooks and tests call ``prose.<name>``; the sentences live by the part of the report
that writes them:
- `common`: counts in words, a notebook's provenance line and settings block;
- `part_a`: the CAE studies (rankings, the classical methods, ablation, mask sweep);
- `part_b`: the ViT phases, their evaluation and variants;
- `findings`: the report's opening findings and each section's closing line;
- `study_scale`: the committed runs at the study's own scale.
"""

from __future__ import annotations

from .common import count_of, plural, provenance, scale_note, settings_block
from .findings import (
    against_published,
    against_published_missing,
    counted,
    distance,
    findings,
    forest_scope,
    link,
    not_at_scale,
    ordering_steps,
    orderings,
    part_verdict,
    photo_advice,
    section_summaries,
    sweep_sentence,
    term,
    terms,
    verdict_scope,
)
from .part_a import (
    ablation,
    classical_shown_in,
    compare_to_best,
    final_epoch,
    generalisation_gaps,
    mask_sweep,
    more_context,
    noise_verdict,
    parameter_count,
    ranking,
    versus_baselines,
)
from .part_b import (
    classical_coverage,
    classical_methods,
    dataset_line,
    deferred,
    levels_shown,
    model_comparison,
    occlusion_levels,
    phase_figure_title,
    phase_heading,
    phase_loss_title,
    phase_progress,
    shift_between_sets,
    study_caption,
    variants,
    vit_parameters,
)
from .study_scale import (
    ablation_at_study_scale,
    phase_at_study_scale,
    phase_not_at_scale,
    phase_verdicts,
    seed_spread,
    study_scale_note,
    sweep_at_study_scale,
)

__all__ = [
    "ablation",
    "ablation_at_study_scale",
    "against_published",
    "against_published_missing",
    "classical_coverage",
    "classical_methods",
    "classical_shown_in",
    "compare_to_best",
    "count_of",
    "counted",
    "dataset_line",
    "deferred",
    "distance",
    "final_epoch",
    "findings",
    "forest_scope",
    "generalisation_gaps",
    "levels_shown",
    "link",
    "mask_sweep",
    "model_comparison",
    "more_context",
    "noise_verdict",
    "not_at_scale",
    "occlusion_levels",
    "ordering_steps",
    "orderings",
    "parameter_count",
    "part_verdict",
    "phase_at_study_scale",
    "phase_figure_title",
    "phase_heading",
    "phase_loss_title",
    "phase_not_at_scale",
    "phase_progress",
    "phase_verdicts",
    "photo_advice",
    "plural",
    "provenance",
    "ranking",
    "scale_note",
    "section_summaries",
    "seed_spread",
    "settings_block",
    "shift_between_sets",
    "study_caption",
    "study_scale_note",
    "sweep_at_study_scale",
    "sweep_sentence",
    "term",
    "terms",
    "variants",
    "verdict_scope",
    "versus_baselines",
    "vit_parameters",
]
