"""The report's page: heading ids that survive any punctuation, and contents built from them."""

from __future__ import annotations

import re

from inpaint_lib.report.build import TOC_MARK, anchor, link_headings, notebook_anchor


def test_anchor_survives_apostrophes_percent_and_unicode() -> None:
    assert anchor("Beyond the study: the CAE's fixes, one change at a time") == \
        "beyond-the-study-the-cae-s-fixes-one-change-at-a-time"
    assert anchor("Phase 6: Pushing to ~48% occlusion (epochs 271-350)") == \
        "phase-6-pushing-to-48-occlusion-epochs-271-350"
    assert anchor("Part B · Vision Transformer") == "part-b-vision-transformer"
    assert anchor("4.1 Higher resolution: the same CAE at 96×96") == \
        "4-1-higher-resolution-the-same-cae-at-96-96"
    assert notebook_anchor("a5_mask_sweep.yaml") == notebook_anchor("a5_mask_sweep") == \
        "notebook-a5-mask-sweep"


def test_link_headings_gives_unique_ids_and_contents_that_resolve() -> None:
    page = ("<body><h1 id=\"x\">Title<a class=\"anchor-link\" href=\"#x\">¶</a></h1>"
            f"<p>{TOC_MARK}</p>"
            "<h2 id=\"the-CAE's\">the CAE&#39;s fixes</h2><h2>~48% occlusion</h2>"
            "<h2>~48% occlusion</h2><h3>Detail</h3></body>")
    out = link_headings(page)
    ids = re.findall(r"\bid=\"([^\"]+)\"", out)
    assert ids == ["title", "the-cae-s-fixes", "48-occlusion", "48-occlusion-2", "detail"]
    links = re.findall(r"href=['\"]#([^'\"]+)['\"]", out)
    assert set(links) - {"contents"} <= set(ids)
    toc = out[out.index("<div class='toc'>"):out.index("</div>")]
    assert "#48-occlusion-2" in toc and "#detail" not in toc  # levels 1-2 only
    assert "#title" not in toc  # the page's own title
    assert TOC_MARK not in out and "class='totop'" in out


def test_a_table_cut_to_some_rows_and_columns_keeps_the_full_one_a_click_away(monkeypatch) -> None:
    import pandas as pd

    from inpaint_lib.report import prose, show

    shown: list = []
    monkeypatch.setattr(show, "display", shown.append)
    df = pd.DataFrame({"method": ["net", "mean fill", "biharmonic"],
                       "kind": ["network", "classical", "classical"],
                       **{f"m{i}": [0.1, 0.2, 0.3] for i in range(9)}})
    show.table(df, rows=df.kind == "network", name="t",
               note=prose.scale_note((-1.0, 1.0)) + "\n\n" + prose.classical_shown_in(
                   prose.link("2.1", "a1_baseline")))
    table, full, note = (getattr(o, "data", o) for o in shown)
    assert list(table.method) == ["net"] and len(table.columns) == show.SHOWN_COLUMNS
    assert "all 11 columns, all 3 rows" in full and "biharmonic" in full
    assert "download='t.csv'" in full
    assert "[-1, 1] pixel values" in note and "peak 2" in note
    assert "</p>\n<p class='caption'>" in note  # one line each
    assert "<a href='#notebook-a1-baseline'>2.1</a>" in note  # a link, not Markdown in HTML
    shown.clear()
    show.table(df[["method", "kind"]])  # narrow, every row: nothing cut, nothing collapsed
    assert len(shown) == 1 and len(shown[0].data) == 3


def test_scale_note_follows_the_value_range() -> None:
    from inpaint_lib.report import prose

    assert "[0, 1] pixel values" in prose.scale_note((0.0, 1.0))
    assert "peak 1;" in prose.scale_note((0.0, 1.0))
    assert len(prose.scale_note((-1.0, 1.0))) < 80  # under every table: never a repeated paragraph


def test_the_conclusions_record_their_closing_lines_for_the_report(tmp_path, monkeypatch) -> None:
    from inpaint_lib.io import read_json
    from inpaint_lib.report.build import record_summaries, summaries_path

    monkeypatch.setenv("INPAINT_RESULTS_DIR", str(tmp_path))
    record_summaries("smoke", {"a1_baseline": "**In short.** It holds."})
    assert read_json(summaries_path("smoke")) == {"a1_baseline": "**In short.** It holds."}
