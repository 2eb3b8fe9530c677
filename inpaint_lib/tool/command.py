"""Inpaint your own images: ``python -m inpaint_lib inpaint IMAGE_OR_DIR... --out PATH``.

Where the holes are (one of):
- ``--mask MASK``: a mask image, nonzero (white) = missing (a pixel of a transparent layer is
  not), the size of the image; for a
  folder of images, ``--mask`` may be a folder of masks matched by relative path and name
  (``photos/a/cat.jpg`` -> ``masks/a/cat.png``, any image suffix);
- ``--mask-from-alpha``: every pixel of the image that is not fully opaque is missing;
- ``--squares COUNT:SIZE [--seed N]``: COUNT random SIZExSIZE squares, drawn by the
  evaluation's own mask generator; they depend only on the seed and the image's size;
- ``--strokes COUNT:WIDTH [--seed N]``: COUNT free-form brush strokes WIDTH px wide, from the
  generator the crossover section evaluates with (`masks.random_strokes`).

Methods are the evaluation's own `Method` objects (`methods.classical_methods`,
`methods.network_method`): ``mean``, ``telea``, ``ns``, ``biharmonic``, ``fsr-fast``,
``fsr-best``, ``patchmatch`` (`baselines.REGISTRY`), ``photo-network``
(shipped with the package, `shipped`: no training needed) and the trained networks of a
profile's run cache (``cae``, ``cae-<run>``, ``vit``; see `trained_networks`; ``cae-photo``,
the crossover section's photo network). The photo networks run at the image's own resolution.

The default, per hole (`crossover.PER_HOLE_RULE`): every connected hole of the mask is
matched by its width and kind (stroke or compact) to the photo network's crossover table; its
classical method is the best there among those the default runs at the photo's size, checked on
copies of the holes on the photo's known pixels, and the network fills it where the 95%
interval of its margin over that method, the table's and the copies' evidence weighed together
(`crossover.weigh`), is above zero; one line per image says which filled how many holes, and
why. The photo network is the shipped one, or the report's own
where that measures at least as good (`ranking.photo_default`). With neither,
`ranking.default_method`: the best method by the report's own evaluation, a trained network
where one beats the classical methods, else ``biharmonic``, and such a network only for
images of its own size (`default_methods`).

Images are read with PIL (EXIF orientation applied, converted to 8-bit RGB) and written
as RGB PNG at the input's resolution, atomically. The known pixels of the output are
byte-identical to that RGB decoding of the input; only the holes change.

Full-resolution rule for the networks, which work at one square size (the CAE at 32x32,
the ViT at its training size; see `at_full_resolution`):
1. downscale the image, holes black, to the network's size with a box filter (area
   average); a small pixel is missing if any pixel of its box is missing, so no hidden
   pixel leaks in and no known small pixel is darkened by a hole;
2. predict at the network's size;
3. upsample the prediction bicubically to the input's size;
4. composite: the input where known, the upsampled prediction in the holes.
A non-square image is squashed to the square and back, as the study squashes its pets.
Classical methods run at the input's resolution, with the same composite.

Bad input (unreadable image, mask of another size, empty or all-missing mask, unknown
method, no trained run yet) is a `ToolError`: one line naming the file or the option,
exit 2. Every input is read and checked before the first output is written.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from ..baselines import CLASSICAL_METHODS, COMMAND_NAMES, METHOD_SUMMARIES
from ..crossover import PER_HOLE_RULE, plan_holes
from ..device import default_device
from ..evaluate import predictions
from ..image_trees import IMAGE_SUFFIXES
from ..io import atomic_write_bytes
from ..methods import Method, classical_methods
from ..metrics import hole_psnr
from ..runs import results_root
from ..shipped import NAME as SHIPPED_NAME
from ..shipped import load as load_shipped
from .networks import Network, at_full_resolution, slug, trained_networks
from .photos import (
    Picture,
    ToolError,
    alpha_mask,
    check_mask,
    encode_png,
    parse_squares,
    parse_strokes,
    read_image,
    read_mask,
    squares_mask,
    strokes_mask,
)
from .ranking import (
    FALLBACK,
    PhotoDefault,
    default_method,
    default_methods,
    network_size,
    photo_default,
    pick,
    read_ranking,
)

__all__ = [
    "CLASSICAL",
    "FALLBACK",
    "HOLE_COLOUR",
    "Network",
    "Picture",
    "ToolError",
    "alpha_mask",
    "at_full_resolution",
    "check_mask",
    "encode_png",
    "inpaint",
    "parse_squares",
    "parse_strokes",
    "read_image",
    "read_mask",
    "resolve_methods",
    "run",
    "slug",
    "squares_mask",
    "strokes_mask",
    "trained_networks",
]

# command-line name -> the evaluation's name of each classical method (`baselines`)
CLASSICAL = {COMMAND_NAMES[name]: name for name in CLASSICAL_METHODS}
HOLE_COLOUR = (255, 0, 255)  # how --compare shows the holes of the input
PANEL_TILE = 512  # --compare: tiles larger than this (long side) are shown downscaled
PANEL_COLUMNS = 5



def resolve_methods(names: list[str], profile: str, device: torch.device) -> list[tuple[str, Method]]:
    """Command-line method names -> (name, Method); unknown or untrained names are a ToolError."""
    nets = {n.name: n for n in trained_networks(profile)}
    out = []
    for name in names:
        if name in CLASSICAL:
            out.append((name, classical_methods([CLASSICAL[name]])[0]))
        elif name == SHIPPED_NAME:
            shipped = load_shipped()
            if shipped is None:
                raise ToolError(f"--method {name}: no shipped photo network in this install "
                                "(`make photo-network` trains it)")
            out.append((name, shipped.method(device)))
        elif name in nets:
            out.append((name, nets[name].method(device)))
        elif name in ("cae", "vit") or name.startswith(("cae-", "vit-")):
            trained = ", ".join(nets) or "none"
            raise ToolError(
                f"--method {name}: no trained run of that name in {results_root(profile)}/runs "
                f"(trained: {trained}); train the networks with `make report PROFILE={profile}`, "
                f"or pick a classical method: {', '.join(CLASSICAL)}")
        else:
            raise ToolError(f"--method {name}: unknown method; available for profile {profile}: "
                            f"{', '.join([*CLASSICAL, *nets])} (see --list-methods)")
    return out


def list_methods(profile: str) -> str:
    ranking = read_ranking(profile).get("networks", {})
    lines = [f"methods for profile {profile} (run cache {results_root(profile)}/runs):"]
    nets = trained_networks(profile)
    width = max(len(name) for name in [*CLASSICAL, *(n.name for n in nets), SHIPPED_NAME])
    for name in CLASSICAL:
        lines.append(f"  {name:<{width}} classical  {METHOD_SUMMARIES[CLASSICAL[name]]}")
    for net in nets:
        score = ranking.get(net.name)
        note = ""
        if score and score.get("run_dir") == net.run.dir.name:
            note = (f"; test hole PSNR {score['hole_psnr']:.2f} dB vs {score['best_classical']} "
                    f"{score['best_classical_hole_psnr']:.2f} dB ({score['margin_db']:+.2f} dB)")
        lines.append(f"  {net.name:<{width}} network    {net.describe()}{note}")
    if not nets:
        lines.append(f"  (no trained network: `make report PROFILE={profile}` trains them)")
    shipped = load_shipped()
    if shipped is not None:
        lines.append(f"  {SHIPPED_NAME:<{width}} network    {shipped.describe()}")
    found = photo_default(profile)
    if found is not None:
        from ..baselines import SMALL_PHOTO, tool_candidates
        from ..crossover import table_classical, table_evidence, weigh

        lines.append(f"default: {PER_HOLE_RULE}.")
        lines.append(f"photo network: {found.why}; its table (a photo over "
                     f"{SMALL_PHOTO:,} px; on smaller ones FSR fast and PatchMatch are candidates too):")
        large = tool_candidates(SMALL_PHOTO + 1)
        for r in sorted(found.crossover["rows"], key=lambda r: (r["shape"] == "strokes",
                                                                 r.get("hole_width", r["width"]))):
            classical = table_classical(r, large)
            t = table_evidence(r, classical)
            chosen = found.name if weigh(t)["network"] else classical
            best = ("" if classical == r["best_classical"] else
                    f"; the best of all there: {r['best_classical']}, not run by the default")
            lines.append(f"  {r['shape']} {r['setting']} (holes {r.get('hole_width', r['width']):.0f} px "
                         f"wide): {chosen} (margin {t['margin']:+.2f} dB [{t['low']:+.2f}, "
                         f"{t['high']:+.2f}] over {classical}{best})")
        return "\n".join(lines)
    name, why = default_method(profile)
    if name != FALLBACK:
        size = network_size(name, profile)
        name = f"{name} for {size}x{size} px images (the size its margin was measured at), {FALLBACK} for any other size"
    lines.append(f"default: {name} ({why})")
    return "\n".join(lines)


# --------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class Job:
    image: Path
    rel: Path  # path relative to the input folder (or the file name)
    out: Path
    mask_file: Path | None  # --mask file or the matched file of a --mask folder


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _match_mask(folder: Path, rel: Path, image: Path) -> Path:
    stem = rel.with_suffix("")
    for suffix in (".png", *sorted(IMAGE_SUFFIXES - {".png"})):
        for candidate in (folder / f"{stem}{suffix}", folder / f"{stem}{suffix.upper()}"):
            if candidate.is_file():
                return candidate
    raise ToolError(f"{image}: no mask for it in --mask {folder} (looked for {folder / stem}.png "
                    "or another image suffix: masks are matched by relative path and name)")


def plan(inputs: list[str], out: str, mask: str | None) -> list[Job]:
    """Inputs and --out -> one job per image; every path problem is found here, before any work."""
    if not inputs:
        raise ToolError("give at least one IMAGE_OR_DIR (or --list-methods)")
    out_path = Path(out).expanduser()
    mask_path = Path(mask).expanduser() if mask else None
    if mask_path is not None and not mask_path.exists():
        raise ToolError(f"--mask {mask}: no such file or folder")
    # a mask or output folder inside an input folder holds no inputs
    skip = [p.resolve() for p in (mask_path, out_path) if p is not None and p.is_dir()]
    found: list[tuple[Path, Path]] = []  # (image, relative name)
    several = len(inputs) > 1
    for text in inputs:
        path = Path(text).expanduser()
        if path.is_dir():
            images = [p for p in _images_in(path)
                      if not any(p.resolve().is_relative_to(s) for s in skip)]
            if not images:
                raise ToolError(f"{path}: no images in this folder ({', '.join(sorted(IMAGE_SUFFIXES))})")
            found += [(p, p.relative_to(path)) for p in images]
            several = True
        elif path.exists():
            found.append((path, Path(path.name)))
        else:
            raise ToolError(f"{path}: no such file or folder")
    to_dir = several or out_path.is_dir() or out.endswith(("/", "\\"))
    if not to_dir and out_path.suffix.lower() != ".png":
        raise ToolError(f"--out {out}: outputs are PNG files; name it {out_path.with_suffix('.png').name} "
                        "or give a folder")
    if to_dir and out_path.exists() and not out_path.is_dir():
        raise ToolError(f"--out {out}: is a file; several images need an output folder")
    jobs, targets = [], {}
    inputs_resolved = {p.resolve() for p, _ in found}
    for image, rel in found:
        target = out_path / rel.with_suffix(".png") if to_dir else out_path
        if target.resolve() in inputs_resolved:
            raise ToolError(f"--out {out}: would overwrite the input {image}; choose another output")
        if target in targets:
            raise ToolError(f"{image} and {targets[target]} would both be written to {target}; "
                            "rename one or run them separately")
        targets[target] = image
        mask_file = None
        if mask_path is not None:
            mask_file = _match_mask(mask_path, rel, image) if mask_path.is_dir() else mask_path
        jobs.append(Job(image, rel, target, mask_file))
    return jobs


@dataclass(frozen=True)
class HoleSpec:
    mask: str | None = None
    from_alpha: bool = False
    squares: tuple[int, int] | None = None
    seed: int = 0
    strokes: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        given = sum([self.mask is not None, self.from_alpha, self.squares is not None,
                     self.strokes is not None])
        if given != 1:
            raise ToolError("say where the holes are with exactly one of --mask MASK_PNG, "
                            "--mask-from-alpha, --squares COUNT:SIZE, --strokes COUNT:WIDTH")

    @property
    def has_truth(self) -> bool:
        """The pixels under the holes are in the input file (not under transparency)."""
        return not self.from_alpha


def load_job(job: Job, holes: HoleSpec) -> tuple[Picture, Tensor]:
    """Read and check one job's image and mask: (picture, (1, H, W) bool mask)."""
    picture = read_image(job.image)
    if holes.from_alpha:
        mask = alpha_mask(picture, job.image)
    elif holes.squares is not None:
        mask = squares_mask(picture.size, *holes.squares, holes.seed, job.image)
    elif holes.strokes is not None:
        mask = strokes_mask(picture.size, *holes.strokes, holes.seed, job.image)
    else:
        assert job.mask_file is not None
        mask = read_mask(job.mask_file, picture.size, job.image)
    where = f"{job.image}" if holes.mask is None else f"--mask {job.mask_file} (for {job.image})"
    check_mask(mask, where)
    return picture, mask


def inpaint(image: Tensor, mask: Tensor, method: Method) -> Tensor:
    """image: (3, H, W) uint8; mask: (1, H, W) bool -> (3, H, W) uint8: the input where known
    (byte-identical), the method's prediction, rounded to 8 bits, in the holes."""
    pred = predictions(method, image[None], mask[None])[0]  # (3, H, W) in [0, 1]
    filled = (pred * 255).round().clamp(0, 255).to(torch.uint8)
    return torch.where(mask, filled, image)


def per_hole_fills(default: PhotoDefault, device: torch.device) -> dict[str, Method]:
    """{name a crossover row or the check uses: Method}: the photo network under its rows'
    name, and every classical method (`baselines.REGISTRY`): what `inpaint_per_hole` needs,
    built once for a folder of photos (the benchmarks call it too)."""
    rows = default.crossover["rows"]
    fills = {rows[0]["method"]: default.make_method(device)}
    for method in classical_methods():
        fills[method.name] = method
    return fills


def copy_window(ys: Tensor, xs: Tensor, shape: tuple[int, int], width: float) -> tuple[slice, slice]:
    """The window a copy of a hole `width` px wide is filled in: its bounding box grown by that
    width (at least COPY_CONTEXT px) on every side, moved inside the photo where it would cross
    an edge (so copies of one size get windows of one size, filled as one batch); the same for
    every method."""
    grow = max(math.ceil(width), COPY_CONTEXT)
    out = []
    for lo, hi, size in ((int(ys.min()), int(ys.max()), shape[0]), (int(xs.min()), int(xs.max()), shape[1])):
        length = min(hi - lo + 1 + 2 * grow, size)
        start = min(max(lo - grow, 0), size - length)
        out.append(slice(start, start + length))
    return out[0], out[1]


COPY_CONTEXT = 16  # px of known context a copy gets at least on each side of its window


def fill_copies(image: Tensor, mask: Tensor, decoys: Tensor, method: Method,
                widths: list[float]) -> Tensor:
    """Each copy of a hole (`crossover.place_decoys`; copy i of hole i, `widths[i - 1]` px wide)
    filled by `method` on its own, in its window (`copy_window`), with the real holes there
    missing too: (3, H, W) uint8, the input with every copy filled. The real holes are never
    filled here, and no copy is in the mask of another: the copies are scored in this pass
    only. Windows of one size are one batch."""
    from scipy.ndimage import find_objects

    out = image.clone()
    batches: dict[tuple[int, int], list[tuple[int, slice, slice]]] = {}
    for i, box in enumerate(find_objects(decoys.numpy()), start=1):
        if box is None:
            continue
        ys, xs = torch.nonzero(decoys[box] == i, as_tuple=True)
        wy, wx = copy_window(ys + box[0].start, xs + box[1].start, tuple(decoys.shape),
                             widths[i - 1])
        batches.setdefault((wy.stop - wy.start, wx.stop - wx.start), []).append((i, wy, wx))
    for windows in batches.values():
        crops = torch.stack([image[:, wy, wx] for _, wy, wx in windows])
        holes = torch.stack([(mask[0, wy, wx] | (decoys[wy, wx] == i))[None] for i, wy, wx in windows])
        pred = (predictions(method, crops, holes) * 255).round().clamp(0, 255).to(torch.uint8)
        for (i, wy, wx), filled in zip(windows, pred):
            copy = decoys[wy, wx] == i
            out[:, wy, wx] = torch.where(copy, filled, out[:, wy, wx])
    return out


def inpaint_per_hole(image: Tensor, mask: Tensor, default: PhotoDefault,
                     fills: dict[str, Method], check: bool = True) -> tuple[Tensor, str]:
    """The per-hole default on one image (`crossover.PER_HOLE_RULE`): each hole matched to the
    photo network's crossover table (`plan_holes`, among the classical methods the default runs
    on a photo of this size, `baselines.tool_candidates`); with `check`, copies of each group's
    holes placed on known pixels (`place_decoys`) are filled by the network and by each of those
    classical methods, each copy alone (`fill_copies`), and each group decided by the table and
    the copies together (`check_on_photo`). Then each method the plan uses fills the real holes
    with the real mask only (a method that reads only near a hole, `Classical.reach`, gets the
    holes it fills and those within its reach), and keeps the holes assigned to it; known pixels
    are the input's. image: (3, H, W) uint8; mask: (1, H, W) bool -> ((3, H, W) uint8, the
    one-line why)."""
    from ..baselines import CLASSICAL as REGISTERED
    from ..baselines import tool_candidates
    from ..crossover import check_on_photo, place_decoys

    candidates = [c for c in tool_candidates(image.shape[-2] * image.shape[-1]) if c in fills]
    plan = plan_holes(default.crossover, mask, candidates)
    network = default.crossover["rows"][0]["method"]
    if check:
        decoys = place_decoys(plan)
        if bool((decoys > 0).any()):
            widths = [h["width"] for h in plan.holes]
            copies = {name: fill_copies(image, mask, decoys, fills[name], widths)
                      for name in [network, *candidates]}
            plan = check_on_photo(plan, decoys, image, copies, network,
                                  int(default.crossover.get("images", 0)))
    out = image
    for name in plan.methods():
        mine = plan.mask_for(name)[None]
        reach = REGISTERED[name].reach if name in REGISTERED else None
        holes = mask
        if reach is not None:  # the holes it fills and every hole within its reach (+1 px)
            k = 2 * reach + 3
            near = torch.nn.functional.max_pool2d(mine.float()[None], k, stride=1, padding=k // 2)[0] > 0
            holes = torch.isin(plan.labels, plan.labels[near[0] & mask[0]].unique())[None] & mask
        out = torch.where(mine, inpaint(image, holes, fills[name]), out)
    why = plan.explain(default.name).replace(f"by {network} ", f"by {default.name} ")
    return out, why


# --------------------------------------------------------------------- compare panel
def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def panel(tiles: list[tuple[str, Tensor]]) -> bytes:
    """Labelled tiles side by side (at most PANEL_COLUMNS per row) -> PNG bytes.

    tiles: [(label, (3, H, W) uint8)], all the same size; tiles larger than PANEL_TILE
    on their long side are shown downscaled."""
    h, w = tiles[0][1].shape[1:]
    scale = min(1.0, PANEL_TILE / max(h, w))
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    label_h, pad = 34, 6
    cols = min(PANEL_COLUMNS, len(tiles))
    rows = -(-len(tiles) // cols)
    canvas = Image.new("RGB", (cols * (tw + pad) + pad, rows * (th + label_h + pad) + pad), "white")
    draw, font = ImageDraw.Draw(canvas), _font(12)
    for i, (label, tile) in enumerate(tiles):
        x = pad + (i % cols) * (tw + pad)
        y = pad + (i // cols) * (th + label_h + pad)
        im = Image.fromarray(tile.permute(1, 2, 0).numpy())
        if scale < 1:
            im = im.resize((tw, th), Image.LANCZOS)
        for k, text in enumerate(label.split("\n")[:2]):
            draw.text((x, y + k * 15), text, fill="black", font=font)
        canvas.paste(im, (x, y + label_h))
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return buf.getvalue()


def compare(picture: Picture, mask: Tensor, methods: list[tuple[str, Method]], truth: bool) -> bytes:
    """One panel: the input with its holes, then every method's output (time, hole PSNR)."""
    shown = torch.where(mask, torch.tensor(HOLE_COLOUR, dtype=torch.uint8).view(3, 1, 1), picture.rgb)
    tiles = [("input (missing = magenta)", shown)]
    for name, method in methods:
        t0 = time.perf_counter()
        out = inpaint(picture.rgb, mask, method)
        label = f"{name}  {time.perf_counter() - t0:.2f} s"
        if truth:
            psnr = hole_psnr(out[None].double() / 255, picture.rgb[None].double() / 255, mask[None])
            label += f"\nhole PSNR {float(psnr[0]):.2f} dB"  # on the [0, 1] scale
        tiles.append((label, out))
    return panel(tiles)


# --------------------------------------------------------------------- command
def run(args: argparse.Namespace) -> int:
    """``python -m inpaint_lib inpaint``: validate everything, then write (see module doc)."""
    from tqdm import tqdm

    if args.list_methods:
        print(list_methods(args.profile))
        return 0
    holes = HoleSpec(args.mask, args.mask_from_alpha,
                     parse_squares(args.squares) if args.squares else None, args.seed,
                     parse_strokes(args.strokes) if getattr(args, "strokes", None) else None)
    if not args.out:
        raise ToolError("--out PATH is required: a .png file for one image, else a folder")
    jobs = plan(args.inputs, args.out, args.mask)
    device = torch.device(args.device) if args.device else default_device()
    if args.compare and args.method:
        raise ToolError(f"--method {args.method} with --compare: the panel shows every method; "
                        "drop one of the two")
    own_size = None  # the default network's own image size, where it is the default
    per_hole = photo_default(args.profile) if not (args.compare or args.method) else None
    if per_hole is not None:  # the crossover table's evidence, checked on each photo: per hole
        names, label = [], f"the default per hole ({per_hole.name} or a classical method)"
    elif args.compare:
        names = [*CLASSICAL, *(n.name for n in trained_networks(args.profile))]
        names += [SHIPPED_NAME] if load_shipped() is not None else []
        label = "every method"
    elif args.method:
        names, label = [args.method], args.method
    else:
        names = default_methods(args.profile)
        label = names[0]
        if len(names) == 2:
            own_size = network_size(names[0], args.profile)
            label = f"the default ({names[0]} at {own_size} px, {names[1]} at any other size)"
    methods = resolve_methods(names, args.profile, device)
    fills = per_hole_fills(per_hole, device) if per_hole is not None else {}
    for job in jobs:  # read and check every input before the first write
        load_job(job, holes)
    if per_hole is not None:
        print(f"photo network: {per_hole.why}", file=sys.stderr)
    t0 = time.perf_counter()
    bar = tqdm(jobs, unit="image", file=sys.stderr, disable=True if len(jobs) < 2 else None)
    for job in bar:
        picture, mask = load_job(job, holes)
        if args.compare:
            data = compare(picture, mask, methods, holes.has_truth)
        elif per_hole is not None:
            filled, why = inpaint_per_hole(picture.rgb, mask, per_hole, fills,
                                           check=not getattr(args, "no_check", False))
            data = encode_png(filled)
            bar.write(f"{job.rel}: {why}", file=sys.stderr)
        else:
            data = encode_png(inpaint(picture.rgb, mask, pick(methods, picture, own_size)))
        atomic_write_bytes(job.out, data)
    took = time.perf_counter() - t0
    where = jobs[0].out if len(jobs) == 1 else Path(args.out)
    print(f"inpainted {len(jobs)} image{'s' if len(jobs) != 1 else ''} with {label} in {took:.1f} s "
          f"({took / len(jobs):.2f} s per image) -> {where}")
    return 0
