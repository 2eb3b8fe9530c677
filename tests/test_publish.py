"""The committed report: smaller figures, no images of sets that may not be redistributed, credits."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from inpaint_lib.report.publish import PublishError, UsedSet, publish_html

CIFAR = UsedSet("CIFAR-10 (JPEG copy)", main=True)
PETS = UsedSet("Oxford-IIIT Pet (2,890-image subset)", main=True)
BOATS = UsedSet("boat photos (1,089, web-scraped)", main=False)


def _png(seed: int) -> str:
    rng = np.random.default_rng(seed)
    arr = np.kron(rng.integers(0, 256, (12, 16, 3)), np.ones((20, 20, 1))).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _figure(seed: int, caption: str) -> str:
    return (f'<div><img alt="" src="data:image/png;base64,{_png(seed)}"/></div>\n'
            f'<div><p class="caption"><em>{caption}</em></p></div>\n')


def _report(*figures: str) -> str:
    return "<html><body><main>\n" + "".join(figures) + "<p>boat photos (1,089, web-scraped): MSE 0.1</p></main></body></html>"


def test_boat_panels_removed_with_a_reason_others_reencoded_credits_added() -> None:
    html = _report(_figure(0, "Figure 25. Held-out pets: input and ViT reconstruction"),
                   _figure(1, "Figure 26. boat photos (1,089, web-scraped): input and ViT reconstruction"),
                   _figure(2, "Figure 4. Baseline: input, prediction, ground truth"))
    page, stats = publish_html(html, [CIFAR, PETS, BOATS])
    assert stats == {"reencoded": 2, "removed": 1}
    assert page.count("<img") == 2 and _png(1) not in page
    assert "Figure removed from this published copy: it shows images of boat photos (1,089, web-scraped)" in page
    assert "third-party copyright" in page and "MSE 0.1" in page  # metrics kept
    assert "Data credits and licences" in page and "CC BY-SA 4.0" in page
    assert "https://www.cs.toronto.edu/~kriz/cifar.html" in page
    assert len(page) < len(html)


def test_collapsed_and_single_quoted_captions_are_found() -> None:
    """As report/show.py writes them: a collapsed figure's title is its block's summary, before the
    image; a shown figure's caption is a paragraph with single-quoted class after it."""
    collapsed = (f"<details><summary><em>Figure 26. boat photos (1,089, web-scraped): input and "
                 f"ViT reconstruction</em></summary><img src=\"data:image/png;base64,{_png(1)}\"></details>\n")
    shown = (f'<img src="data:image/png;base64,{_png(3)}">\n'
             "<p class='caption'><em>Figure 26b. boat photos (1,089, web-scraped): methods</em></p>\n")
    page, stats = publish_html(_report(collapsed, shown, _figure(2, "Figure 4. Baseline")),
                               [CIFAR, PETS, BOATS])
    assert stats == {"reencoded": 1, "removed": 2}
    assert _png(1) not in page and _png(3) not in page


def test_a_hidden_set_no_caption_names_is_refused() -> None:
    with pytest.raises(PublishError, match="no figure caption names it"):
        publish_html(_report(_figure(0, "Figure 26. some ships")), [PETS, BOATS])


def test_a_hidden_set_as_training_data_is_refused() -> None:
    with pytest.raises(PublishError, match="licence is unknown"):
        publish_html(_report(), [UsedSet("my holiday photos", main=True)])


def test_a_parts_opening_heading_comes_before_its_first_notebook() -> None:
    from nbformat.v4 import new_code_cell, new_markdown_cell

    from inpaint_lib.report.build import _part_opener_first

    phase1 = [new_markdown_cell("## Phase 1"), new_code_cell("1")]
    phase2 = [new_markdown_cell("## Phase 2")]
    evaluation = [new_markdown_cell("# Part B\nthe model"), new_markdown_cell("## 4. Model")]
    cells = _part_opener_first([phase1, phase2, evaluation])
    assert [c.source.split("\n")[0] for c in cells] == ["# Part B", "## Phase 1", "1", "## Phase 2", "## 4. Model"]
    # the opener's cells tagged part-opening (the model, the schedule) come with its heading
    tagged = [new_markdown_cell("# Part B"), new_markdown_cell("## 4. Model"),
              new_markdown_cell("## 6.1 Progress")]
    tagged[1].metadata["tags"] = ["part-opening"]
    cells = _part_opener_first([phase1, tagged])
    assert [c.source for c in cells] == ["# Part B", "## 4. Model", "## Phase 1", "1", "## 6.1 Progress"]
    first = [evaluation, phase1]  # already first: unchanged
    assert [c.source for c in _part_opener_first(first)] == [c.source for nb in first for c in nb]
