"""Fit the "same footage" margin (resources/same_footage.json) on generated clips.

Run: ``python benchmarks/fit_same_footage.py [--write] [--json out/fit_same_footage.json]``
(a few minutes).

Generated libraries of drawn people (``avr_gui.core.demo.synth_library``, seeds 21-24,
not the E1, E4, demo or verdict seeds), indexed as the product indexes them
(EfficientNet-Lite0, the appearance columns every library stores). Every clip gives
one excerpt, 40-60 % of it, warped and restyled as E1 and ``eval_trimmed.py`` do (2-4
speed segments 0.5-2x, crop, brightness, contrast, blur, noise). As in the product
(:mod:`avr_gui.core.library.queries`), a query's candidates are its
:data:`~avr_gui.core.align.footage.CANDIDATES` nearest library clips by appearance, and
the cue is the best candidate's lead in
:func:`~avr_gui.core.align.footage.footage_overlap` over the runner-up.

- Positives: each excerpt against its library (is its source first, and by how much?).
- Negatives: each excerpt against its library without its source, and each library
  clip against the rest of its library (a clip as the query, no copy of it present).

The rule (:func:`~avr_gui.core.align.footage.same_footage`) has two parts:
``min_overlap`` is the lowest overlap of any excerpt with its source (what a re-timed,
re-graded copy still keeps); ``margin`` is the lowest lead above every negative's (a
false "same footage" puts a wrong clip first, so no negative may reach it). The real
clips are never used.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from eval_trimmed import excerpt_query

from avr_gui.core.align.footage import CANDIDATES, footage_overlap, overlap_margin
from avr_gui.core.atomic import write_text
from avr_gui.core.demo.synth_library import generate_library
from avr_gui.core.features import get_encoder
from avr_gui.core.features.layout import alignment_columns, alignment_view
from avr_gui.core.jobs import no_progress
from avr_gui.core.library import Library

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (21, 22, 23, 24)


def leads(lib: Library, seq: np.ndarray, own: str | None, drop: str | None) -> tuple:
    """(best candidate, its overlap, its lead) among the query's nearest clips, without
    ``drop``."""
    cols = alignment_columns(lib.encoder_name)
    hits = [p for p, _ in lib.search(seq, CANDIDATES + 1, exclude=own) if p != drop]
    hits = hits[:CANDIDATES]
    q = alignment_view(seq.features, cols)
    ov = [footage_overlap(q, alignment_view(lib.features(p).features, cols)) for p in hits]
    lead = overlap_margin(ov)
    assert lead is not None
    return hits[lead[0]], ov[lead[0]], lead[1]


def pairs(tmp: Path) -> dict[str, list]:
    """Per query: the best candidate's overlap and lead (and, for excerpts, whether it is
    the source), for the positives and the two kinds of negatives."""
    out: dict[str, list] = {"pos": [], "neg": []}
    for seed in SEEDS:
        folder = tmp / f"lib{seed}"
        generate_library(folder, per_action=5, distractors=3, seed=seed)
        with Library.open(tmp / f"idx{seed}", encoder=get_encoder("effnet-lite0")) as lib:
            lib.add_folder(folder)
            lib.index()
            clips = [e.path for e in lib.entries() if e.status == "indexed"]
            for i, clip in enumerate(clips):
                q = tmp / f"q{seed}_{i}.mp4"
                excerpt_query(Path(clip), q, seed * 1000 + i)
                seq, _, _ = lib._query_features(q, no_progress, None)
                best, overlap, lead = leads(lib, seq, None, None)
                src = lib.features(clip).features
                cols = alignment_columns(lib.encoder_name)
                own = footage_overlap(alignment_view(seq.features, cols), alignment_view(src, cols))
                out["pos"].append((best == clip, own, overlap, lead))
                out["neg"].append(leads(lib, seq, None, clip)[1:])
                out["neg"].append(leads(lib, lib.features(clip), clip, None)[1:])
        print(f"seed {seed}: {len(clips)} clips", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write resources/same_footage.json")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="avr-footage-") as tmp:
        p = pairs(Path(tmp))
    first = np.array([r[0] for r in p["pos"]])
    own = np.array([r[1] for r in p["pos"]])
    lead = np.array([r[3] for r in p["pos"]])
    neg = np.array(p["neg"])  # (overlap, lead)
    min_overlap = float(own.min())
    margin = float(np.nextafter(neg[:, 1].max(), 2.0))
    passed = (neg[:, 0] >= min_overlap) & (neg[:, 1] >= margin)
    found = float(np.mean(first & (lead >= margin) & (own >= min_overlap)))
    print(
        f"excerpts {len(own)}: source nearest {first.mean():.3f}, overlap with the source "
        f"min {min_overlap:.4f} median {np.median(own):.4f}; negatives {len(neg)}: overlap "
        f"max {neg[:, 0].max():.4f}, lead max {neg[:, 1].max():.4f} median "
        f"{np.median(neg[:, 1]):.4f}"
    )
    print(
        f"rule: overlap >= {min_overlap:.4f} and lead >= {margin:.4f}: excerpts flagged with "
        f"their source {found:.3f}, negatives passing {int(passed.sum())}"
    )
    figures = {
        "min_overlap": min_overlap,
        "margin": margin,
        "excerpts": len(own),
        "source_nearest": float(first.mean()),
        "flagged": found,
        "negatives": len(neg),
        "negatives_passing": int(passed.sum()),
        "negative_overlap_max": float(neg[:, 0].max()),
        "negative_lead_max": float(neg[:, 1].max()),
        "negative_lead_median": float(np.median(neg[:, 1])),
    }
    if args.write:
        doc = {
            "min_overlap": float(np.floor(min_overlap * 1e4) / 1e4),
            "margin": float(np.ceil(margin * 1e4) / 1e4),
            "meaning": "a query's best clip by overlap (median over query frames of the best "
            "frame cosine) among its nearest by appearance is its own footage when the "
            "overlap reaches min_overlap and leads the runner-up's by margin",
            "fitted_on": f"generated clips (seeds {', '.join(map(str, SEEDS))}) and warped, "
            "restyled 40-60 % excerpts of them (benchmarks/fit_same_footage.py); never the "
            "real clips",
            "figures": figures,
        }
        write_text(ROOT / "resources" / "same_footage.json", json.dumps(doc, indent=1) + "\n")
        print("wrote resources/same_footage.json")
    if args.json:
        write_text(args.json, json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
