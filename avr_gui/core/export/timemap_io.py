"""The per-frame time map on disk: CSV and JSON, written atomically, read back strictly.

Both formats hold one row per query frame with ``query_frame``, ``query_time``,
``match_frame`` (the match file's own frame numbering) and ``match_time`` (seconds from
each video stream's start). JSON is ``{"frames": [row, ...]}`` plus optional
descriptive keys (``query``, ``match``) that readers may ignore.

:func:`load_map` also accepts the output of ``avr align --json`` (its ``time_map`` on
sampled frames), which it returns as a :class:`WarpCurve` to be sampled per frame.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.export.errors import TimeMapFileError
from avr_gui.core.export.framemap import FrameMap, WarpCurve

COLUMNS = ("query_frame", "query_time", "match_frame", "match_time")
SUFFIXES = (".json", ".csv")


def _rows(fmap: FrameMap) -> list[dict[str, int | float]]:
    return [
        {
            "query_frame": int(qf),
            "query_time": round(float(qt), 6),
            "match_frame": int(mf),
            "match_time": round(float(mt), 6),
        }
        for qf, qt, mf, mt in zip(
            fmap.query_frame, fmap.query_time, fmap.match_frame, fmap.match_time, strict=True
        )
    ]


def map_to_json(fmap: FrameMap, meta: dict[str, Any] | None = None) -> str:
    """The JSON text of a frame map: ``{"frames": [...], **meta}``."""
    doc: dict[str, Any] = {"frames": _rows(fmap)}
    doc.update(meta or {})
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def map_to_csv(fmap: FrameMap) -> str:
    """The CSV text of a frame map: a header line, then one line per query frame."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_rows(fmap))
    return buf.getvalue()


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TimeMapFileError(f"{path}: a time map file must end in .json or .csv")
    return suffix


def save_map(
    path: str | os.PathLike[str], fmap: FrameMap, meta: dict[str, Any] | None = None
) -> None:
    """Write a frame map atomically as JSON or CSV (chosen by the suffix).

    Parameters
    ----------
    path : path-like
        ``*.json`` or ``*.csv``.
    fmap : FrameMap
    meta : dict, optional
        Extra JSON keys (ignored for CSV), e.g. the source file names.
    """
    p = Path(path)
    text = map_to_json(fmap, meta) if _check_suffix(p) == ".json" else map_to_csv(fmap)
    write_text(p, text)


def _number(value: object, where: str, kind: type) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TimeMapFileError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(x) or (kind is int and x != round(x)):
        raise TimeMapFileError(f"{where}: {value!r} is not a valid {kind.__name__}")
    return x


def _from_rows(rows: list[Any], source: str) -> FrameMap:
    if not rows:
        raise TimeMapFileError(f"{source}: the time map has no rows")
    cols: dict[str, list[float]] = {c: [] for c in COLUMNS}
    for k, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TimeMapFileError(f"{source}: row {k} is not a record of {', '.join(COLUMNS)}")
        for c in COLUMNS:
            if c not in row:
                raise TimeMapFileError(f"{source}: row {k} lacks {c!r}")
            cols[c].append(
                _number(row[c], f"{source}: row {k} {c}", int if "frame" in c else float)
            )
    qf = np.asarray(cols["query_frame"], np.int64)
    mf = np.asarray(cols["match_frame"], np.int64)
    qt = np.asarray(cols["query_time"], np.float64)
    mt = np.asarray(cols["match_time"], np.float64)
    if not np.array_equal(qf, np.arange(len(qf))):
        raise TimeMapFileError(f"{source}: query_frame must run 0, 1, 2, ... (one row per frame)")
    if (np.diff(mf) < 0).any() or (np.diff(mt) < 0).any() or (np.diff(qt) <= 0).any():
        raise TimeMapFileError(
            f"{source}: query times must increase and match frames/times never go back"
        )
    if mf.min() < 0:
        raise TimeMapFileError(f"{source}: negative match frame")
    return FrameMap(qf, qt, mf, mt)


def _curve_from_align_json(rows: list[Any], source: str) -> WarpCurve:
    try:
        x = np.asarray([float(r["query_time"]) for r in rows], np.float64)
        y = np.asarray([float(r["match_time"]) for r in rows], np.float64)
        return WarpCurve(x, y)
    except (KeyError, TypeError, ValueError) as exc:
        raise TimeMapFileError(f"{source}: not a usable `avr align` time map ({exc})") from None


def load_map(path: str | os.PathLike[str]) -> FrameMap | WarpCurve:
    """Read a stored time map.

    Parameters
    ----------
    path : path-like
        A ``.csv`` or ``.json`` written by :func:`save_map`, or the JSON printed by
        ``avr align --json`` (query kept unwarped).

    Returns
    -------
    FrameMap or WarpCurve
        A :class:`FrameMap` for a per-frame map; a :class:`WarpCurve` (seconds to
        seconds, on sampled frames) for ``avr align`` output.

    Raises
    ------
    TimeMapFileError
        Missing, unreadable or malformed file.
    """
    p = Path(path)
    suffix = _check_suffix(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TimeMapFileError(f"{p}: no such time map file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TimeMapFileError(f"{p}: cannot read the time map ({exc})") from None
    source = p.name
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise TimeMapFileError(f"{source}: CSV header lacks {', '.join(missing)}")
        return _from_rows(list(reader), source)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TimeMapFileError(f"{source}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if isinstance(doc, dict) and isinstance(doc.get("frames"), list):
        return _from_rows(doc["frames"], source)
    if isinstance(doc, dict) and isinstance(doc.get("time_map"), list) and doc["time_map"]:
        return _curve_from_align_json(doc["time_map"], source)
    raise TimeMapFileError(f'{source}: expected {{"frames": [...]}} (or `avr align --json` output)')
