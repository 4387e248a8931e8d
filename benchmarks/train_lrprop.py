"""Train the shipped LRProp pose model on E2's library part of Penn Action.

Run (from the repository root; resumable: run the same command again after a kill)::

    python benchmarks/train_lrprop.py [--data ../shared/data] [--steps 4000] [--threads 1]
        [--out out/lrprop] [--write]

Data: E2's *library* (every Penn Action training sequence that is not every 5th; E2's
queries are never seen), at 10 fps, as the product's per-frame pose-motion features
(:func:`~avr_gui.core.features.pose.motion.motion_features`, ``[T, 50]``). Each
sequence gets ``--views`` augmented copies (``penn_library.augment``, the augmentation
the product's pose statistics were fitted with: repeated, cut, re-timed, idle
stretches, jitter, dropped joints, half mirrored) and each copy is described both as
seen and mirrored, so pairs are drawn across camera sides both ways. Weak label: the
action. The loss is LRProp's (DTW-propagated Gaussian prior, KL to the softmax
similarity, soft-DTW divergence) with two additions that the clip retrieval the product
does needs: frames of a clip of another action join each frame's softmax as negatives,
and a supervised contrastive term on the clips' motion-weighted descriptors (pilot runs
on E2, recall@1: plain LRProp 0.64 after 1,500 steps; with negatives 0.83, with both 0.944
after 1,000 steps; raw pose 0.937). ``--write`` puts the model in
``resources/lrprop_pose.{npz,json}`` and the training curves in
``docs/plots/lrprop_training.png``.

The figures for the model card: the wall time of this command and the load average
beside it (other jobs share the machine), printed at the end and stored in the model's
JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from penn_library import DEFAULT_DATA, PENN, augment, load_library

from avr_gui.core.atomic import write_text
from avr_gui.core.eval.plots import plot_training
from avr_gui.core.features.pose import motion
from avr_gui.core.learn.apply import describe, fit_standardizer
from avr_gui.core.learn.model import EncoderConfig, TemporalEncoder
from avr_gui.core.learn.store import LearnedModel, save_model
from avr_gui.core.learn.train import LabelledClip, TrainConfig, train_lrprop

ROOT = Path(__file__).resolve().parents[1]
SEED = 0


def single_threaded(threads: int) -> None:
    """One thread for torch and for numba (tslearn's soft-DTW).

    Their pools otherwise start one thread per core each and, on a shared 2-core
    machine, spin against each other: measured 10x slower per step under a load of 3.
    """
    import numba
    import torch

    from avr_gui.core.library.learned import numba_without_spinning

    # Before numba's first parallel kernel: its OpenMP pool busy-waits between kernels.
    numba_without_spinning()
    torch.set_num_threads(threads)
    numba.set_num_threads(1)


def build_pool(data: Path, views: int, seed: int) -> list[LabelledClip]:
    """E2's library as labelled clips, ``2 * views`` feature views each."""
    lib, actions = load_library(data)
    rng = np.random.default_rng(seed)
    clips = []
    for j, a in zip(lib, actions, strict=True):
        vs = []
        for _ in range(views):
            aj = augment(j, rng)
            for mirror in (False, True):
                vs.append(motion.motion_features(aj, mirror=mirror))
        clips.append(LabelledClip(str(a), tuple(vs)))
    return clips


def loo_top1(encoder: TemporalEncoder, clips: list[LabelledClip], every: int) -> float:
    """Leave-one-out top-1 by learned clip descriptors on a subset of the training pool.

    A training-set figure (it watches the representation, it is not E2): every
    ``every``-th clip's first view, descriptors standardised over that subset.
    """
    sub = clips[::every]
    d = np.stack([describe(encoder, *c.views[0]) for c in sub]).astype(np.float64)
    d = (d - d.mean(0)) / (d.std(0) + 1e-6)
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    s = d @ d.T
    np.fill_diagonal(s, -np.inf)
    labels = np.array([c.label for c in sub])
    return float(np.mean(labels[np.argmax(s, 1)] == labels))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--pairs", type=int, default=8, help="pairs per step")
    ap.add_argument("--views", type=int, default=4, help="augmented copies per sequence")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest here)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--device", default=None, help="cpu or cuda (default: CUDA when present)")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "lrprop")
    ap.add_argument("--write", action="store_true", help="write resources/ and docs/plots/")
    args = ap.parse_args(argv)
    if not (args.data / PENN).exists():
        print(f"{args.data / PENN} missing", file=sys.stderr)
        return 2
    single_threaded(args.threads)
    load_before = os.getloadavg()
    started = time.perf_counter()
    clips = build_pool(args.data, args.views, args.seed)
    config = TrainConfig(
        steps=args.steps,
        pairs_per_step=args.pairs,
        seed=args.seed,
        checkpoint_every=250,
        encoder=EncoderConfig(input_dim=motion.MOTION_DIM),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    last = [0.0]

    def progress(done: int, total: int, msg: str) -> None:
        now = time.perf_counter()
        if now - last[0] > 30 or done == total:
            last[0] = now
            print(f"[{now - started:6.0f} s] {msg}", flush=True)

    result = train_lrprop(
        clips,
        config,
        checkpoint=args.out / "checkpoint.npz",
        device=args.device,
        monitor=lambda step, enc: {"train_loo_top1": loo_top1(enc, clips, 4)},
        progress=progress,
    )
    std = fit_standardizer(result.encoder, [v for c in clips for v in c.views])
    wall = time.perf_counter() - started
    load_after = os.getloadavg()
    losses = [h["loss"] for h in result.history if "loss" in h]
    meta = {
        "input": "motion_features (avr_gui.core.features.pose.motion), [T, 50], 10 fps",
        "trained_on": (
            "Penn Action training joints, E2 library part (sequences whose index is not a "
            f"multiple of 5): {len(clips)} sequences, {args.views} augmented copies each, "
            "as seen and mirrored; weak label = action"
        ),
        "licence": "Penn Action is for research use only; so is this model",
        "views": args.views,
        "train_config": config.to_dict(),
        "prior_sigma2_frames": config.prior_sigma2,
        "command": "python benchmarks/train_lrprop.py " + " ".join(argv or sys.argv[1:]),
        "device": result.device,
        "torch_threads": args.threads,
        "wall_seconds_this_run": round(wall, 1),
        "resumed_from_step": result.resumed_from,
        "load_average_before_after": [round(x, 2) for x in (*load_before, *load_after)],
        "final_loss_mean_last_100": round(float(np.mean(losses[-100:])), 4) if losses else None,
    }
    model = LearnedModel(result.encoder, std, meta)
    save_model(args.out / "lrprop_pose", model)
    write_text(args.out / "history.json", json.dumps(result.history))
    plot_training(
        result.history,
        args.out / "lrprop_training.png",
        title="LRProp on Penn Action (E2 library), pose-motion input",
    )
    if args.write:
        save_model(ROOT / "resources" / "lrprop_pose", model)
        plot_training(
            result.history,
            ROOT / "docs" / "plots" / "lrprop_training.png",
            title="LRProp on Penn Action (E2 library), pose-motion input",
        )
        print("wrote resources/lrprop_pose.{npz,json} and docs/plots/lrprop_training.png")
    print(
        f"trained {config.steps} steps (resumed from {result.resumed_from}) on "
        f"{result.device}, {args.threads} torch thread(s): wall {wall:.0f} s; "
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
