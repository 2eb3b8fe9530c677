"""Screenshots of a rendered report as a reader sees it, for the developer to look at.

usage: python scripts/report_screenshots.py REPORT.html [--out DIR] [--widths 1024 1400]
                                            [--height 900] [--full]

Headless Chromium (`apt-get install chromium`) takes, per width, the first screen
(`first-<width>.png`) and, with --full, the whole page (`full-<width>.png`, very tall). The
browser runs with a fresh profile in a temporary folder and no network access of its own.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("report_screenshots: no chromium on PATH (apt-get install chromium)")


def page_height(browser: str, url: str, width: int, profile: str) -> int:
    """The page's scroll height at `width`, read from the DOM after load."""
    probe = ("<script>addEventListener('load',()=>document.body.setAttribute('data-h',"
             "document.documentElement.scrollHeight))</script>")
    with tempfile.TemporaryDirectory() as td:
        page = Path(td) / "page.html"
        page.write_text(Path(url).read_text(encoding="utf-8").replace("</body>", probe + "</body>"),
                        encoding="utf-8")
        dom = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}",
                              f"--window-size={width},900", "--virtual-time-budget=5000",
                              "--dump-dom", page.as_uri()], capture_output=True, text=True,
                             timeout=180, check=False).stdout


    m = re.search(r'data-h="(\d+)"', dom)
    return int(m.group(1)) if m else 0


def shoot(report: Path, out: Path, widths: list[int], height: int, full: bool) -> list[Path]:
    browser = chromium()
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    for width in widths:
        with tempfile.TemporaryDirectory() as profile:
            sizes = [("first", height)]
            if full:
                sizes.append(("full", page_height(browser, str(report), width, profile)))
            for name, h in sizes:
                png = out / f"{name}-{width}.png"
                subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}",
                                f"--window-size={width},{h}", "--virtual-time-budget=5000",
                                f"--screenshot={png}", report.resolve().as_uri()],
                               capture_output=True, timeout=300, check=True)
                print(f"{png} ({width}x{h})")
                shots.append(png)
    return shots


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("--out", type=Path, default=Path("results/screenshots"))
    ap.add_argument("--widths", type=int, nargs="+", default=[1024, 1400])
    ap.add_argument("--height", type=int, default=900, help="the first screen's height (px)")
    ap.add_argument("--full", action="store_true", help="also the whole page")
    args = ap.parse_args()
    if not args.report.is_file():
        sys.exit(f"report_screenshots: no such report: {args.report}")
    shoot(args.report, args.out, args.widths, args.height, args.full)


if __name__ == "__main__":
    main()
