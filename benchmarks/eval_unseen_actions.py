"""Pose similarity on actions the model never saw: Penn Action, actions held out by fold.

Run (from the repository root; training is resumable, models are kept in ``--out``)::

    python benchmarks/eval_unseen_actions.py [--data ../shared/data] [--steps 1000]
        [--variants default,noclip] [--jobs 2] [--json out/eval_unseen.json]

Why: the product is judged on real clips of exercises and sports that are not in Penn
Action (E3b's lunges and lateral raises are not), yet E2 puts every action in both the
library and the queries, so it rewards a model that learned Penn's 15 classes. Here the
15 actions are split into 3 folds of 5 (sorted names, every 3rd); for each fold an
LRProp model (``benchmarks/train_lrprop.py``'s data and loss) is trained on E2's
*library* part of the 10 other actions only, and every library clip of the 5 held-out
actions searches the rest of the library (leave-one-out; all 15 actions: the held-out
actions' clips were never trained on, the others are distractors the model knows).
Pooled over the folds every library clip is asked exactly once, by a model that never
saw its action. E2's queries are never used, so E2 stays an evaluation.

Representations compared (descriptors standardised, mirror-invariant cosine):

- ``input``: the hand-made pose-motion descriptor (its statistics come from the augmented
  library of all 15 actions, no labels: the only contact with held-out actions);
- ``learned`` per variant, and its ``untrained`` control (same architecture and seed,
  statistics fitted the same way);
- ``blend a``: ``a * learned + (1 - a) * input`` similarity, for a grid of ``a``.

Figures: recall@1 and @5, AUROC of the similarity for same vs other action among the
top 10. The hand-made descriptor is the shipped one (its spread weight included). This
protocol chose the product's blend weight until 2026-11-30; ``eval_small_libraries.py``
(small libraries of these held-out actions, with these fold models) chooses it now,
because a user's library is small. Nothing here touches E3 or E3b.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from penn_library import DEFAULT_DATA, PENN, e2_split, load_penn
from train_lrprop import build_pool, single_threaded

from avr_gui.core.atomic import write_text
from avr_gui.core.eval.metrics import auroc
from avr_gui.core.features.pose import motion
from avr_gui.core.learn.apply import describe, fit_standardizer
from avr_gui.core.learn.model import EncoderConfig, TemporalEncoder, build_encoder
from avr_gui.core.learn.store import LearnedModel, load_model, save_model
from avr_gui.core.learn.train import TrainConfig, train_lrprop

ROOT = Path(__file__).resolve().parents[1]
FOLDS = 3
#: name -> TrainConfig overrides
VARIANTS: dict[str, dict] = {
    "default": {},
    "noclip": {"clip_weight": 0.0},
    "clip03": {"clip_weight": 0.3},
    "noneg": {"clip_weight": 0.0, "negatives": False},
}
BLENDS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.75, 1.0)


def fold_actions(actions: np.ndarray, fold: int) -> set[str]:
    """The actions held out in ``fold`` (sorted names, every ``FOLDS``-th)."""
    names = sorted({str(a) for a in actions})
    return set(names[fold::FOLDS])


def train_fold(args: tuple[Path, Path, int, str, int, int]) -> str:
    """Train (or resume, or reuse) one fold's model; returns its path."""
    data, out, fold, variant, steps, views = args
    single_threaded(1)
    path = out / f"fold{fold}_{variant}_{steps}"
    if Path(str(path) + ".json").is_file():
        return str(path)
    held = fold_actions(load_penn(data)[1], fold)
    pool = [c for c in build_pool(data, views, 0) if c.label not in held]
    config = TrainConfig(
        steps=steps,
        pairs_per_step=8,
        seed=0,
        checkpoint_every=250,
        encoder=EncoderConfig(input_dim=motion.MOTION_DIM),
        **VARIANTS[variant],
    )
    started = time.perf_counter()

    def snapshot(step: int, encoder: TemporalEncoder) -> dict:
        # The curve over steps on unseen actions (statistics are fitted at evaluation).
        save_model(f"{path}_at{step}", LearnedModel(copy.deepcopy(encoder).eval()))
        return {}

    result = train_lrprop(
        pool, config, checkpoint=str(path) + ".ckpt.npz", device="cpu", monitor=snapshot
    )
    std = fit_standardizer(result.encoder, [v for c in pool for v in c.views])
    meta = {"held_out": sorted(held), "variant": variant, "train_config": config.to_dict()}
    save_model(path, LearnedModel(result.encoder, std, meta))
    print(f"fold {fold} {variant}: trained in {time.perf_counter() - started:.0f} s", flush=True)
    return str(path)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def similarities(desc: np.ndarray, mdesc: np.ndarray, qs: np.ndarray, lib: np.ndarray) -> tuple:
    """Cosine of each query (as seen, mirrored) to each library clip: two ``[Q, L]``.

    A query's own clip (it is one of the library's: leave-one-out) gets -inf.
    """
    d, m = _unit(desc), _unit(mdesc)
    own = qs[:, None] == lib[None, :]
    a, b = d[qs] @ d[lib].T, m[qs] @ d[lib].T
    a[own] = -np.inf
    b[own] = -np.inf
    return a, b


def observed_similarities(
    z: np.ndarray, m: np.ndarray, zm: np.ndarray, mm: np.ndarray, qs: np.ndarray, lib: np.ndarray
) -> tuple:
    """:func:`similarities` of the product's hand-made descriptors (``z``, ``zm``
    standardised ``[N, 100]``), compared on the dimensions both clips show (``m``,
    ``mm`` bool ``[N, 100]``: ``motion.observed_descriptor``)."""

    own = qs[:, None] == lib[None, :]
    a = motion.masked_cosine_matrix(z[qs], m[qs], z[lib], m[lib])
    b = motion.masked_cosine_matrix(zm[qs], mm[qs], z[lib], m[lib])
    a[own] = -np.inf
    b[own] = -np.inf
    return a, b


def _mix(a: float, learned: np.ndarray, hand: np.ndarray) -> np.ndarray:
    """``a * learned + (1 - a) * hand``, keeping a query's own clip at -inf."""
    out = a * np.where(np.isfinite(learned), learned, 0) + (1 - a) * np.where(
        np.isfinite(hand), hand, 0
    )
    out[~np.isfinite(hand)] = -np.inf
    return out


def figures(sim: np.ndarray, same: np.ndarray) -> dict:
    """recall@1/5 and top-10 AUROC of a ``[Q, L]`` similarity with ``[Q, L]`` same-action."""
    order = np.argsort(-sim, axis=1, kind="stable")[:, :10]
    hit = np.take_along_axis(same, order, 1)
    top = np.take_along_axis(sim, order, 1)
    return {
        "recall@1": float(hit[:, 0].mean()),
        "recall@5": float(hit[:, :5].any(1).mean()),
        "auroc_top10": auroc(top.ravel(), hit.ravel(), lower_is_positive=False),
        "queries": len(sim),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--views", type=int, default=4)
    ap.add_argument("--variants", default="default", help=f"comma list of {sorted(VARIANTS)}")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "unseen")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    if not (args.data / PENN).exists():
        print(f"{args.data / PENN} missing", file=sys.stderr)
        return 2
    variants = [v for v in args.variants.split(",") if v]
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load0 = os.getloadavg()[0]
    jobs = [
        (args.data, args.out, k, v, args.steps, args.views) for v in variants for k in range(FOLDS)
    ]
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        paths = dict(zip([(j[2], j[3]) for j in jobs], ex.map(train_fold, jobs), strict=True))
    single_threaded(1)
    seqs, actions = load_penn(args.data)
    actions = np.asarray(actions).astype(str)
    lib, _ = e2_split(len(seqs))  # E2's queries are never used here
    feats = [motion.motion_features(j) for j in seqs]
    mirr = [motion.motion_features(j, mirror=True) for j in seqs]
    shipped = motion.shipped_standardizer()
    assert shipped is not None
    # The product's hand-made descriptor: over the frames where each limb is seen,
    # compared on the limbs both clips show.
    obs = [motion.observed_descriptor(*x) for x in feats]
    obs_m = [motion.observed_descriptor(*x) for x in mirr]
    inp = shipped.transform(np.stack([d for d, _ in obs]))
    inp_m = shipped.transform(np.stack([d for d, _ in obs_m]))
    seen, seen_m = np.stack([s for _, s in obs]), np.stack([s for _, s in obs_m])
    pool_all = build_pool(args.data, args.views, 0)

    def sims_of(model: LearnedModel, qs: np.ndarray) -> np.ndarray:
        std = model.standardizer
        d = std.transform(np.stack([describe(model, *x) for x in feats]))
        m = std.transform(np.stack([describe(model, *x) for x in mirr]))
        a, b = similarities(d, m, qs, lib)
        return np.maximum(a, b), a, b

    pooled: dict[str, list] = {}
    per_fold: dict[str, dict] = {}

    def add(name: str, sim: np.ndarray, same: np.ndarray, fold: int) -> None:
        pooled.setdefault(name, []).append((sim, same))
        per_fold.setdefault(name, {})[str(fold)] = figures(sim, same)

    for k in range(FOLDS):
        held = fold_actions(actions, k)
        qs = lib[np.isin(actions[lib], sorted(held))]
        same = actions[qs][:, None] == actions[lib][None, :]
        ia, ib = observed_similarities(inp, seen, inp_m, seen_m, qs, lib)
        add("input", np.maximum(ia, ib), same, k)
        for v in variants:
            model = load_model(paths[(k, v)])
            _, la, lb = sims_of(model, qs)
            add(f"learned:{v}", np.maximum(la, lb), same, k)
            for a in BLENDS:
                add(
                    f"blend:{v}:{a}",
                    np.maximum(_mix(a, la, ia), _mix(a, lb, ib)),
                    same,
                    k,
                )
            pool = [c for c in pool_all if c.label not in held]
            # Four points along the run (each costs the statistics of a model).
            for step in range(args.steps // 4, args.steps, max(250, args.steps // 4)):
                # Snapshots along the run (a resumed run lacks those it had passed).
                snap = Path(f"{paths[(k, v)]}_at{step}")
                if not Path(str(snap) + ".json").is_file():
                    continue
                sm = load_model(snap)
                sm.standardizer = fit_standardizer(sm, [x for c in pool for x in c.views])
                add(f"learned:{v}@{step}", sims_of(sm, qs)[0], same, k)
            if v == variants[0]:
                ctrl = LearnedModel(build_encoder(model.config, 0).eval())
                ctrl.standardizer = fit_standardizer(ctrl, [x for c in pool for x in c.views])
                add("untrained", sims_of(ctrl, qs)[0], same, k)
    out: dict = {"steps": args.steps, "views": args.views, "folds": FOLDS, "results": {}}
    for name, parts in pooled.items():
        if len(parts) < FOLDS:
            # Pooled figures only over all folds (a missing snapshot: per fold only).
            out["results"][name] = {"per_fold": per_fold[name]}
            print(f"{name:22s} per fold: {json.dumps(per_fold[name])}")
            continue
        sim = np.concatenate([s for s, _ in parts])
        same = np.concatenate([m for _, m in parts])
        out["results"][name] = {"pooled": figures(sim, same), "per_fold": per_fold[name]}
        f = out["results"][name]["pooled"]
        print(
            f"{name:22s} recall@1 {f['recall@1']:.3f}  @5 {f['recall@5']:.3f}  "
            f"AUROC {f['auroc_top10']:.3f}  ({f['queries']} queries)"
        )
    v0 = variants[0]
    best = max(
        BLENDS,
        key=lambda a: (
            out["results"][f"blend:{v0}:{a}"]["pooled"]["recall@1"],
            out["results"][f"blend:{v0}:{a}"]["pooled"]["auroc_top10"],
        ),
    )
    out["chosen_learned_weight"] = best
    print(f"chosen: learned weight {best} (pooled recall@1, then AUROC, on unseen actions)")
    out["seconds"] = round(time.perf_counter() - started, 1)
    out["load_average_start_end"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
