"""E3 and E3b through the product: what each ranking stage adds on real clips.

Run: ``python benchmarks/eval_real.py [--data ../shared/data] [--work out/eval_real]
[--json out/eval_real.json]`` (indexing the 33 clips with ``auto`` features takes a few
minutes the first time; the libraries in ``--work`` are reused afterwards).

Each set is indexed as its own library with the default (``auto``) features: E3 =
``real/`` (9 queries: push-ups and juggling), E3b = ``real2/`` (17 queries: five
exercises; ``other_*`` and the E3 distractors never query). Every labelled clip queries
its library; a hit is a same-action clip first (top-1) or within the first 3. Stages:

- ``appearance``: clip retrieval on appearance alone (bank-normalised cosine of the
  EfficientNet-Lite0 clip descriptors: the previous default's first stage);
- ``appearance+dtw``: its top 10 re-ranked by DTW cost per step on appearance
  (the previous default product);
- ``pose_positions``: control, clip similarity of the previous pose feature (joint
  positions, mean and std, not mirror-invariant), nothing fitted;
- ``pose``: clip similarity of the hand-made pose-motion descriptors (the product's
  ranking for a performer query until the shipped learned model replaced it), chosen on
  augmented Penn Action only;
- ``pose+dtw``: its top 10 re-ranked by DTW cost per step on the pose-motion frames
  (mirror-invariant): the re-rank the fit rejected, measured here as a check;
- ``product``: ``Library.query`` with its defaults, end to end;
- ``pose_learned``: clip similarity of the shipped LRProp model's descriptors (the
  model's embeddings of the pose-motion frames, motion-weighted mean and std,
  standardised with the model's statistics, mirror-invariant), trained on Penn
  Action's E2 library only; ``pose_untrained``: the same architecture with its initial
  weights (same seed), statistics fitted the same way: the control (``--learned``);
  ``pose_untrained_blend``: that control blended with the hand-made descriptor at the
  product's weight (``resources/pose_blend.json``), the control of the product's blend.

AUROC: same action vs other over every (query, other clip) pair of a set, for each
stage's score (clips a stage does not rank count as its lowest score). Nothing here is
fitted: the sets are checks only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from avr_gui.core.align import AlignmentOptions, align_many
from avr_gui.core.atomic import write_text
from avr_gui.core.eval.metrics import auroc
from avr_gui.core.features.layout import alignment_columns, alignment_view
from avr_gui.core.features.pose import motion
from avr_gui.core.features.pose.normalize import pose_features
from avr_gui.core.library import Library
from avr_gui.core.library.pose_search import PoseIndex, describe_track

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
STAGES = ("appearance", "appearance+dtw", "pose_positions", "pose", "pose+dtw", "product")
LEARNED_STAGES = ("pose_learned", "pose_untrained", "pose_untrained_blend")


def label(path: str) -> str:
    """Action of a real clip from its file name ('other' for distractors)."""
    stem = Path(path).stem.lower()
    for a in ("pushup", "juggling"):
        if stem.startswith(a):
            return a
    if "_" in stem and stem.rsplit("_", 1)[1].isdigit():
        a = stem.rsplit("_", 1)[0]
        return "other" if a == "other" else a
    return "other"


def _rows(f: np.ndarray, v: np.ndarray) -> np.ndarray:
    x = f[v]
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def _positions_similarity(lib: Library, paths: list[str]) -> np.ndarray:
    """Control: previous pose block (positions, mean and std), library-standardised."""
    desc, ok = [], []
    for p in paths:
        tr = lib.pose_track(p)
        f = pose_features(tr.landmarks, tr.has_pose)[:, :26] if tr is not None else None
        v = f is not None and motion.is_performer(tr.has_pose)  # type: ignore[union-attr]
        g = f[tr.has_pose] if v else np.zeros((1, 26))  # type: ignore[index,union-attr]
        desc.append(np.concatenate([g.mean(0), g.std(0)]))
        ok.append(v)
    d = np.stack(desc)
    okv = np.array(ok)
    std = motion.DescriptorStandardizer(d[okv])
    z = std.transform(d)
    z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    s = z @ z.T
    s[:, ~okv] = -np.inf
    s[~okv, :] = -np.inf
    return s


def _learned_similarity(
    lib: Library, paths: list[str], model: object, weight: float = 1.0
) -> np.ndarray:
    """Mirror-invariant cosine of a learned model's standardised clip descriptors; with
    ``weight`` below 1 blended with the hand-made descriptor's as the product does
    (:func:`~avr_gui.core.features.pose.motion.blended_similarity`).

    Non-performer clips get -inf (the product compares them on appearance).
    """
    from avr_gui.core.learn import describe

    std = model.standardizer  # type: ignore[attr-defined]
    desc, mdesc, hand, mhand, seen, mseen, ok = [], [], [], [], [], [], []
    for p in paths:
        tr = lib.pose_track(p)
        if tr is None:
            f, v = np.zeros((1, motion.MOTION_DIM), np.float32), np.zeros(1, bool)
            fm, vm = f, v
        else:
            f, v = motion.track_motion_features(tr)
            fm, vm = motion.track_motion_features(tr, mirror=True)
        desc.append(describe(model, f, v))  # type: ignore[arg-type]
        mdesc.append(describe(model, fm, vm))  # type: ignore[arg-type]
        (d, m), (dm, mm) = motion.observed_descriptor(f, v), motion.observed_descriptor(fm, vm)
        hand.append(d)
        mhand.append(dm)
        seen.append(m)
        mseen.append(mm)
        ok.append(motion.is_performer(v))
    z, zm = std.transform(np.stack(desc)), std.transform(np.stack(mdesc))
    hs = motion.shipped_standardizer()
    assert hs is not None
    h, hm = hs.transform(np.stack(hand)), hs.transform(np.stack(mhand))
    m, mm = np.stack(seen), np.stack(mseen)
    okv = np.array(ok)
    if weight >= 1.0:
        rows = [motion.mirror_invariant_similarity(z[i], zm[i], z) for i in range(len(paths))]
    else:
        rows = [
            motion.blended_similarity((z[i], zm[i], z), (h[i], hm[i], h), weight, (m[i], mm[i], m))
            for i in range(len(paths))
        ]
    s = np.stack(rows)
    s[:, ~okv] = -np.inf
    s[~okv, :] = -np.inf
    return s


def evaluate(lib: Library, top_k: int = 10, learned: dict | None = None) -> dict:
    """Every stage on one indexed set; see the module docstring.

    ``learned`` maps extra stage names to learned models (``pose_learned``,
    ``pose_untrained``); their scores are clip similarities of those models.
    """
    entries = [e for e in lib.entries() if e.status == "indexed"]
    paths = [e.path for e in entries]
    labels = [label(p) for p in paths]
    n = len(paths)
    pos_s = _positions_similarity(lib, paths)
    learned = learned or {}
    learned_s = {k: _learned_similarity(lib, paths, *m) for k, m in learned.items()}
    stages = STAGES + tuple(learned)
    # The hand-made pose-motion descriptor (the ``pose`` stage), whatever the library's
    # default comparison is now: the same performer clips, shipped statistics.
    performers = [e.path for e in entries if e.has_person]
    tracks = {p: lib.pose_track(p) for p in performers}
    pindex = PoseIndex.build(
        0, performers, lambda p: describe_track(tracks[p]) if tracks[p] is not None else None
    )
    cols = alignment_columns(lib.encoder_name)
    opts = AlignmentOptions(context=True)
    counts = {s: {"top1": 0, "top3": 0} for s in stages}
    pairs: dict[str, list[float]] = {s: [] for s in stages}
    same_all: list[bool] = []
    per_query: dict[str, dict[str, str]] = {}
    queries = 0
    for qi, q in enumerate(paths):
        if labels[qi] == "other":
            continue
        queries += 1
        others = [k for k in range(n) if k != qi]
        same = np.array([labels[k] == labels[qi] for k in others])
        same_all.extend(same.tolist())
        seq = lib.features(q)
        score: dict[str, np.ndarray] = {}
        app = dict(lib.search(seq, n, exclude=q))
        score["appearance"] = np.array([app.get(paths[k], -np.inf) for k in others])
        # Appearance top 10 re-ranked by DTW (lower cost = better: negate).
        order = np.argsort(-score["appearance"])[:top_k]
        res = align_many(
            alignment_view(seq.features, cols),
            [alignment_view(lib.features(paths[others[i]]).features, cols) for i in order],
            opts,
        )
        s = np.full(len(others), -np.inf)
        s[order] = -np.array([r.normalized_cost for r in res])
        score["appearance+dtw"] = s
        score["pose_positions"] = np.array([pos_s[qi, k] for k in others])
        track = lib.pose_track(q)
        qd = describe_track(track) if track is not None else None
        pose = dict(pindex.search(qd, n, exclude=q)) if qd is not None and qd.performer else {}
        score["pose"] = np.array([pose.get(paths[k], -np.inf) for k in others])
        order = [i for i in np.argsort(-score["pose"])[:top_k] if np.isfinite(score["pose"][i])]
        s = np.full(len(others), -np.inf)
        if order and track is not None:
            qf = motion.track_motion_features(track)
            qm = motion.track_motion_features(track, mirror=True)
            cands = []
            for i in order:
                t = lib.pose_track(paths[others[i]])
                assert t is not None
                cands.append(_rows(*motion.track_motion_features(t)))
            a = align_many(_rows(*qf), cands, opts)
            b = align_many(_rows(*qm), cands, opts)
            cost = np.minimum([r.normalized_cost for r in a], [r.normalized_cost for r in b])
            s[order] = -cost
        score["pose+dtw"] = s
        result = lib.query(q, top=n - 1, candidates=n)
        # The shipped score (lower = better), negated; ties broken as the product does.
        shipped = {m.path: -m.score + 1e-9 * (n - m.rank) for m in result.results}
        score["product"] = np.array([shipped.get(paths[k], -np.inf) for k in others], float)
        # The product's own order (a clip of the query's own footage leads whatever its
        # score): top-1 and top-3 follow the ranks, AUROC the score.
        ranks = {m.path: m.rank for m in result.results}
        product_order = np.argsort([ranks.get(paths[k], n + 1) for k in others], kind="stable")
        for name, sim in learned_s.items():
            score[name] = np.array([sim[qi, k] for k in others])
        per_query[Path(q).name] = {}
        for st in stages:
            order = product_order if st == "product" else np.argsort(-score[st], kind="stable")
            counts[st]["top1"] += bool(same[order[0]])
            counts[st]["top3"] += bool(same[order[:3]].any())
            per_query[Path(q).name][st] = Path(paths[others[order[0]]]).name
            fin = np.where(np.isfinite(score[st]), score[st], -1e9)
            pairs[st].extend(fin.tolist())
    out: dict = {"queries": queries, "clips": n, "per_query": per_query}
    for st in stages:
        out[st] = {
            "top1": counts[st]["top1"],
            "top3": counts[st]["top3"],
            "auroc": round(
                auroc(np.array(pairs[st]), np.array(same_all), lower_is_positive=False), 3
            ),
        }
    out["performers"] = int(sum(1 for e in entries if e.has_person))
    return out


def _learned_models(which: str, data: Path) -> dict:
    """The learned model and its untrained control (statistics fitted on the same
    augmented Penn Action library as the model's; the real clips never fit anything)."""
    from train_lrprop import build_pool

    from avr_gui.core.learn import (
        LearnedModel,
        build_encoder,
        fit_standardizer,
        load_model,
        shipped_pose_model_path,
    )

    model = load_model(shipped_pose_model_path() if which == "shipped" else which)
    seed = int(model.meta.get("train_config", {}).get("seed", 0))
    untrained = LearnedModel(build_encoder(model.config, seed).eval())
    pool = build_pool(data, int(model.meta.get("views", 4)), seed)
    untrained.standardizer = fit_standardizer(untrained, [v for c in pool for v in c.views])
    from avr_gui.core.library.learned import shipped_learned_weight

    w = shipped_learned_weight()
    stages = ((model, 1.0), (untrained, 1.0), (untrained, w))
    return dict(zip(LEARNED_STAGES, stages, strict=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--work", type=Path, default=Path("out/eval_real"))
    ap.add_argument("--sets", default="real,real2")
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument(
        "--learned",
        metavar="MODEL",
        help="add the stages of a learned pose model ('shipped' or a model path) and of "
        "its untrained control",
    )
    args = ap.parse_args(argv)
    learned = _learned_models(args.learned, args.data) if args.learned else {}
    results = {}
    for name in args.sets.split(","):
        folder = args.data / name
        if not folder.is_dir():
            print(f"no clips in {folder}", file=sys.stderr)
            return 2
        with Library.open(args.work / name) as lib:
            lib.add_folder(folder)
            summary = lib.index()
            print(f"{name}: {summary.indexed} indexed, {summary.encoded} encoded", flush=True)
            r = evaluate(lib, learned=learned)
        results["E3" if name == "real" else "E3b" if name == "real2" else name] = r
    print(f"{'stage':16s} " + "  ".join(f"{k:>22s}" for k in results))
    for st in STAGES + tuple(learned):
        cells = []
        for r in results.values():
            c = r[st]
            q = r["queries"]
            cells.append(f"{c['top1']:2d}/{q} {c['top3']:2d}/{q} {c['auroc']:.3f}")
        print(f"{st:16s} " + "  ".join(f"{c:>22s}" for c in cells))
    print("(top-1, top-3, AUROC same vs other action)")
    if args.json:
        write_text(args.json, json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
