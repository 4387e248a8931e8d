"""The headless demo: generate a small library, align a query with it, write the results.

Until the library index lands this aligns the query with every generated clip directly
(the re-ranking stage of a search) and ranks them by DRAQ.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avr_gui import __version__
from avr_gui.core.align import AlignmentOptions, align_many, time_map_table
from avr_gui.core.atomic import write_text
from avr_gui.core.features import get_encoder, load_sequence
from avr_gui.core.render import cost_matrix_image, write_png
from avr_gui.core.synth import ClipStyle, render_frames, speed_warp, write_video

FPS = 15.0
SIZE = (240, 180)


@dataclass(frozen=True)
class DemoClip:
    """One generated clip: what it shows and how fast."""

    name: str
    action: int
    n_frames: int
    speeds: tuple[float, ...]
    style: ClipStyle


CLIPS = (
    DemoClip("query_action_a.mp4", 0, 45, (1.0,), ClipStyle(seed=1)),
    DemoClip(
        "action_a_slow_then_fast.mp4",
        0,
        66,
        (0.5, 2.0, 1.0),
        ClipStyle((90, 240, 120), (60, 45, 70), zoom=0.9, shake=0.004, seed=2),
    ),
    DemoClip(
        "action_a_fast_then_slow.mp4",
        0,
        40,
        (1.8, 0.6),
        ClipStyle((230, 120, 60), (25, 50, 35), zoom=1.1, seed=3),
    ),
    DemoClip("action_b_figure_eight.mp4", 1, 50, (1.0, 1.3), ClipStyle((60, 80, 230), seed=4)),
    DemoClip("action_c_bounce.mp4", 2, 55, (0.8, 1.2), ClipStyle((200, 200, 200), seed=5)),
)


def _true_partner(query: DemoClip, match: DemoClip) -> np.ndarray:
    """For each query frame, the match frame (fractional) at the same action progress."""
    pq = speed_warp(query.n_frames, query.speeds)
    pm = speed_warp(match.n_frames, match.speeds)
    return np.interp(pq, pm, np.arange(match.n_frames, dtype=np.float64))


def run_demo(out: Path, *, quiet: bool = False) -> dict:
    """Generate the demo clips in ``out``, align the query with the others, write results.

    Parameters
    ----------
    out : pathlib.Path
        Output folder (created).
    quiet : bool
        Print nothing (for ``--json``).

    Returns
    -------
    dict
        The summary also written to ``out / "results.json"``.
    """
    say = (lambda *a: None) if quiet else print
    clips_dir = out / "library"
    clips_dir.mkdir(parents=True, exist_ok=True)
    say(f"AVR Studio {__version__} demo -> {out}")
    for clip in CLIPS:
        frames = render_frames(
            clip.action, speed_warp(clip.n_frames, clip.speeds), SIZE, clip.style
        )
        write_video(clips_dir / clip.name, frames, FPS)
        say(f"  generated {clip.name:32s} {clip.n_frames:3d} frames")
    # The generated clips are abstract shapes on texture, which the weight-free
    # thumbnail describes better than ImageNet features (those are for real video).
    encoder = get_encoder("thumb16")
    say(f"  features: {encoder.name}")
    seqs = [load_sequence(clips_dir / c.name, encoder=encoder, fps=FPS) for c in CLIPS]
    query, others = seqs[0], seqs[1:]
    results = align_many(
        query.features, [s.features for s in others], AlignmentOptions(), keep_cost=True
    )
    order = sorted(range(len(others)), key=lambda k: results[k].draq)
    best = order[0]
    best_clip = CLIPS[1 + best]
    table = time_map_table(results[best].path, query.timestamps, others[best].timestamps)

    truth = _true_partner(CLIPS[0], best_clip) if best_clip.action == CLIPS[0].action else None
    error = (
        float(np.mean(np.abs(table["match_index"] - truth[table["query_index"].astype(int)])))
        if truth is not None
        else None
    )
    ranked = [
        {
            "rank": r + 1,
            "path": str(clips_dir / CLIPS[1 + k].name),
            "same_action_as_query": CLIPS[1 + k].action == CLIPS[0].action,
            "draq": results[k].draq,
            "dtw_cost": results[k].dtw_cost,
            "normalized_cost": results[k].normalized_cost,
        }
        for r, k in enumerate(order)
    ]
    summary = {
        "version": __version__,
        "query": str(clips_dir / CLIPS[0].name),
        "results": ranked,
        "best_match": ranked[0]["path"],
        "best_match_warp_error_frames": error,
        "files": {
            "cost_matrix": str(out / "best_match_cost_matrix.png"),
            "time_map_csv": str(out / "best_match_time_map.csv"),
            "time_map_json": str(out / "best_match_time_map.json"),
        },
    }
    write_png(
        out / "best_match_cost_matrix.png",
        cost_matrix_image(results[best].cost, results[best].path),
    )
    rows = [
        {
            "query_frame": int(qi),
            "query_time": float(qt),
            "match_frame": float(mi),
            "match_time": float(mt),
        }
        for qi, qt, mi, mt in zip(
            table["query_index"],
            table["query_time"],
            table["match_index"],
            table["match_time"],
            strict=True,
        )
    ]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text(out / "best_match_time_map.csv", buf.getvalue())
    write_text(out / "best_match_time_map.json", json.dumps({"frames": rows}, indent=1))
    write_text(out / "results.json", json.dumps(summary, indent=2))

    say("\nquery: " + CLIPS[0].name)
    say(f"{'rank':>4}  {'DRAQ':>7}  {'DTW/step':>8}  same action  clip")
    for row in ranked:
        say(
            f"{row['rank']:>4}  {row['draq']:7.4f}  {row['normalized_cost']:8.4f}  "
            f"{'yes' if row['same_action_as_query'] else 'no ':>11}  {Path(row['path']).name}"
        )
    if error is not None:
        say(f"\nbest match re-timed to the query: mean error {error:.2f} frames vs the known warp")
    say(f"wrote {out / 'results.json'}, the time map (CSV, JSON) and the cost-matrix picture")
    return summary
