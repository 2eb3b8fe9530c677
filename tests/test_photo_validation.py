"""The photo network's choices are made on validation photos, its card's and the tool's table
on test photos never used to choose anything (`make photo-network`, `--validate`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inpaint_lib import crossover, shipped
from inpaint_lib.resolve import PARAMS_DIR
from inpaint_lib.section import open_section
from inpaint_lib.tool.retrain import retrain


def test_choices_on_validation_photos_card_on_test_photos(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # two photos of each split: every classical method runs 10 settings on each
    monkeypatch.setenv("INPAINT_OVERRIDES", "{photo: {data: {subset: {val: 2, test: 2}}}}")
    study = open_section(PARAMS_DIR / "d1_crossover.yaml", "smoke")
    assert study.splits.sizes()["val"] == study.splits.sizes()["test"] == 2
    val, val_id = crossover.test_images(study, "val")
    test, test_id = crossover.test_images(study, "test")
    assert len(val) == len(study.splits.val) > 0 and val_id != test_id
    lines: list[str] = []
    assert retrain("smoke", tmp_path / "checked", log=lines.append, validate=True) is None
    assert not (tmp_path / "checked").exists()  # a choice is checked, nothing is written
    assert f"on {len(val)} validation photos" in lines[-1] and "nothing written" in lines[-1]
    written = retrain("smoke", tmp_path / "shipped", log=lines.append)
    card = written.card["crossover"]
    assert card["images"] == len(test) and card["split"] == "test"
    assert card["validation"]["images"] == len(val) and len(card["validation"]["rows"]) == len(card["rows"])
    assert card["validation"]["lowest_validation_loss_epoch"] >= 1
    assert written.card["provenance"]["validation_photos"] == len(study.splits.val)
    assert written.test_photos().startswith(f"{len(test)} test pet photos never used to choose it")
    # a card from before the validation split says what its photos were
    old = shipped.ShippedNetwork(tmp_path, {**written.card, "crossover": {
        k: v for k, v in card.items() if k != "validation"}})
    assert old.test_photos() == f"{len(test)} held-out pet photos, some of which chose its fill and stem"
