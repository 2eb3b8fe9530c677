"""The section named by `compare_with`: with `same_data=True`, only if both have the same data."""

from __future__ import annotations

import pytest

from inpaint_lib.section import open_compared, open_section

from .conftest import REPO


def test_compare_with_on_the_same_data_opens_the_other_section() -> None:
    variants = open_section(REPO / "params" / "b9_variants.yaml", "smoke")
    chain = open_compared(variants, same_data=True)  # b9 scores b8's chain on its own test split
    assert chain.params.source_file.endswith("b8_evaluation.yaml")
    assert chain.splits.fingerprint == variants.splits.fingerprint


def test_compare_with_on_other_data_raises_naming_both_files_and_fingerprints() -> None:
    high = open_section(REPO / "params" / "a7_resolution.yaml", "smoke")
    low = open_compared(high)  # a7 sets itself against the 32 px study on purpose: no check
    assert low.splits.fingerprint != high.splits.fingerprint
    with pytest.raises(ValueError) as raised:
        open_compared(high, same_data=True)
    message = str(raised.value)
    assert "\n" not in message
    for part in ("a7_resolution.yaml", high.splits.fingerprint,
                 "a1_baseline.yaml", low.splits.fingerprint):
        assert part in message
