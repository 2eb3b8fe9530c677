"""Is a first-screen number that moved between two hosts seed noise or precision? Retrains one
network of a profile with the seeds and precision asked, as the notebooks do (the run cache), and
prints its number, one JSON line per seed.

usage: python scripts/seed_precision_check.py sweep|vit [--profile quick] [--seeds 0,1,2]
                                              [--precision auto|bf16|fp32]

- ``sweep``: the mask sweep's network (a5's baseline): its whole-image MSE on the sweep's test
  images at 1 and at the most masks (network only: the classical fills are deterministic), and
  its test MSE on its own masks.
- ``vit``: the seven-phase ViT (b8's chain): its hole MAE against biharmonic on the held-out pets
  at the first occlusion level, in % of biharmonic's (the first screen's "study's own ViT").

Point INPAINT_RESULTS_DIR at a scratch folder: the runs are the profile's own configurations with
another seed or precision (`cpu_precision`, part of a run's key), so they never replace the
report's. A ViT without the VGG-16 weights needs the override the check offers
(INPAINT_OVERRIDES='vit: {train: {loss: {perceptual_weights: random}}}'); the seed and precision
given here are added to it.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import yaml


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["sweep", "vit"])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    args = ap.parse_args()
    part = "cae" if args.what == "sweep" else "vit"
    base = yaml.safe_load(os.environ.get("INPAINT_OVERRIDES") or "{}") or {}
    for seed in (int(s) for s in args.seeds.split(",")):
        train = {**base.get(part, {}).get("train", {}), "seed": seed, "cpu_precision": args.precision}
        overrides = {**base, part: {**base.get(part, {}), "train": train}}
        os.environ["INPAINT_OVERRIDES"] = yaml.safe_dump(overrides, default_flow_style=True)
        t0 = time.time()
        row = sweep(args.profile) if args.what == "sweep" else vit(args.profile)
        print(json.dumps({"seed": seed, **row, "wall_s": round(time.time() - t0)}), flush=True)


def sweep(profile: str) -> dict:
    from inpaint_lib import scoring
    from inpaint_lib.section import open_section

    study = open_section("params/a5_mask_sweep.yaml", profile)
    run = study.runs()[study.baseline_name()][0]  # the overridden seed is the run's only one
    net = study.method(run)
    images, data_id = scoring.sweep_images(study)
    most = study.params.evaluation.sweep_max_masks
    mse = {n: study.score(net, scoring.sweep_setting(study, run, n), images, data_id)["mse"].mean().item()
           for n in (1, most)}
    return {"precision": run.info.get("precision"), "train_s": round(run.info.get("train_seconds", 0), 1),
            "mse 1 mask": mse[1], f"mse {most} masks": mse[most], "ratio": mse[most] / mse[1],
            "test MSE": study.score(net, run.config.mask)["mse"].mean().item()}


def vit(profile: str) -> dict:
    from inpaint_lib import scoring
    from inpaint_lib.section import open_section

    study = open_section("params/b8_evaluation.yaml", profile)
    chain = study.phase_chain()
    run = chain[-1][1]
    cfg = study.level_masks()[0]
    per = scoring.per_image(study, {"ViT": [run]}, cfg, "hole_mae", study.splits.test,
                            study.splits.fingerprint)
    means = per.groupby("method")["value"].mean()
    best = means.drop("ViT").idxmin()
    return {"precision": run.info.get("precision"), "chain_train_s": round(scoring.chain_seconds(chain), 1),
            "ViT hole MAE": means["ViT"], best: means[best], "level": cfg.label,
            "relative %": 100 * (means["ViT"] - means[best]) / means[best]}


if __name__ == "__main__":
    main()
