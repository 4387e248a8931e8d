"""The headless demo: generate a library, index it, query it, export the best match.

Everything goes through the product's own API: the generated library
(:mod:`avr_gui.core.demo.synth_library`: a drawn person doing three exercises in varied
rooms, plus walking distractors), the library index with the default encoder, the full
query (retrieval, re-ranking), and the export core (time map, retimed video,
side-by-side comparison). Because the generator knows every frame's action progress,
the demo also reports how far the retimed match is from the true warp.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from avr_gui import __version__
from avr_gui.core.align.verdict import verdict_label
from avr_gui.core.atomic import write_text
from avr_gui.core.demo.render import write_cost_matrix_png
from avr_gui.core.demo.synth_library import GeneratedClip, generate_library
from avr_gui.core.export import curve_from_path, export_video, frame_map, frame_times, save_map
from avr_gui.core.features import get_encoder
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.library import Library

FPS = 15.0
SIZE = (256, 192)
QUERY = "action0_v00.mp4"


def _true_match_frames(query: GeneratedClip, match: GeneratedClip) -> np.ndarray:
    """For each query frame, the match frame (fractional) at the same action progress."""
    return np.interp(query.progress, match.progress, np.arange(len(match.progress), dtype=float))


def run_demo(
    out: Path,
    *,
    backend: str | None = None,
    quiet: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> dict:
    """Generate, index and query the demo library in ``out``; export the best match.

    Parameters
    ----------
    out : pathlib.Path
        Output folder (created): ``library/`` (clips), ``index/`` (the library index),
        ``results.json``, the cost-matrix picture, the time map and the videos.
    backend : str
        Frame encoder (default: the product's default,
        :func:`~avr_gui.core.features.default_backend`).
    quiet : bool
        Print nothing (for ``--json``).

    Returns
    -------
    dict
        The summary also written to ``out / "results.json"``.
    """
    say = (lambda *a: None) if quiet else print
    out.mkdir(parents=True, exist_ok=True)
    say(f"AVR Studio {__version__} demo -> {out}")
    say("1/4 generating a library: 3 exercises x 4 variants + 3 distractors")
    clips = generate_library(
        out / "library",
        per_action=4,
        distractors=3,
        frames=(45, 80),
        fps=FPS,
        size=SIZE,
        seed=7,
        progress=progress,
        cancel=cancel,
    )
    truth = {Path(c.path).name: c for c in clips}
    encoder = get_encoder(backend)
    say(f"2/4 indexing with {encoder.name} on {encoder.device}")
    with Library.open(out / "index", encoder=encoder, reindex=True) as lib:
        lib.add_folder(out / "library")
        summary = lib.index(progress=progress, cancel=cancel)
        check(cancel)
        query_path = out / "library" / QUERY
        say(f"3/4 querying with {QUERY} (a squat)")
        result = lib.query(query_path, top=8, candidates=50, progress=progress, cancel=cancel)
    query = truth[QUERY]
    ranked = []
    for m in result.results:
        name = Path(m.path).name
        ranked.append(
            {
                "rank": m.rank,
                "path": m.path,
                "score": m.score,
                "draq": m.draq,
                "dtw_cost": m.dtw_cost,
                "normalized_cost": m.normalized_cost,
                "similarity": m.similarity,
                "alignable": m.alignable,
                "compared_on": m.compared_on,
                "compared_parts": m.compared_parts,
                "same_action_as_query": truth[name].action == query.action,
            }
        )
    best = result.results[0]
    say("4/4 exporting the best match re-timed to the query")
    curve = curve_from_path(best.alignment.path, result.query.timestamps, best.features.timestamps)
    fmap = frame_map(curve, frame_times(query_path), frame_times(best.path))
    files = {
        "cost_matrix": out / "best_match_cost_matrix.png",
        "time_map_csv": out / "best_match_time_map.csv",
        "time_map_json": out / "best_match_time_map.json",
        "retimed_video": out / "best_match_retimed.mp4",
        "side_by_side_video": out / "query_vs_best_match.mp4",
    }
    assert best.alignment.cost is not None  # the library keeps it for display
    write_cost_matrix_png(
        files["cost_matrix"],
        best.alignment.cost,
        best.alignment.path,
        result.query.timestamps,
        best.features.timestamps,
        title=f"{QUERY} vs {Path(best.path).name}",
        query_name=QUERY,
        match_name=Path(best.path).name,
    )
    meta = {"query": str(query_path), "match": best.path}
    save_map(files["time_map_csv"], fmap)
    save_map(files["time_map_json"], fmap, meta)
    export_video(query_path, best.path, files["retimed_video"], fmap, mode="retimed", audio="none",
                 progress=progress, cancel=cancel)  # fmt: skip
    export_video(query_path, best.path, files["side_by_side_video"], fmap, mode="side-by-side",
                 audio="none", burn_in=True, progress=progress, cancel=cancel)  # fmt: skip
    best_truth = truth[Path(best.path).name]
    error = None
    if best_truth.action == query.action:
        error = float(np.mean(np.abs(fmap.match_frame - _true_match_frames(query, best_truth))))
    result_json = {
        "version": __version__,
        "encoder": encoder.name,
        "indexed": summary.indexed,
        "query": str(query_path),
        "results": ranked,
        "best_match": best.path,
        "best_match_warp_error_frames": error,
        "files": {k: str(v) for k, v in files.items()},
    }
    write_text(out / "results.json", json.dumps(result_json, indent=2))

    if result.query_performer:
        ranked_by = "pose similarity, higher = better (a person performs in the query)"
    else:
        ranked_by = f"score, lower = better ({_score_name()})"
    say(f"\nquery: {QUERY}   ranked by {ranked_by}")
    say(f"{'rank':>4}  {'score':>7}  {'sim':>5}  {'verdict':>14}  {'DRAQ':>6}  same action  clip")
    for row in ranked:
        p = row["alignable"]
        verdict = "-" if p is None else f"{verdict_label(p)} {100 * p:3.0f}%"
        say(
            f"{row['rank']:>4}  {row['score']:7.4f}  {row['similarity']:5.2f}  {verdict:>14}  "
            f"{row['draq']:6.3f}  {'yes' if row['same_action_as_query'] else 'no ':>11}  "
            f"{Path(row['path']).name}"
        )
    if error is not None:
        say(f"\nbest match re-timed to the query: mean error {error:.2f} frames vs the true warp")
    say(f"wrote {out / 'results.json'}, the time map, the cost matrix and two videos:")
    say(f"  {files['retimed_video']}\n  {files['side_by_side_video']}")
    return result_json


def _score_name() -> str:
    from avr_gui.core.align.ranking import default_ranking

    return default_ranking().name
