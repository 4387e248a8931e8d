"""The per-frame time map on disk: CSV and JSON, written atomically, read back strictly.

Both formats hold one row per query frame with ``query_frame``, ``query_time``,
``match_frame`` (the match file's own frame numbering) and ``match_time`` (seconds from
each video stream's start). JSON is ``{"frames": [row, ...]}`` plus optional
descriptive keys (``query``, ``match``) that readers may ignore.

A map may also record the fingerprints of the two files it was made for (a hash of
the whole content, :func:`avr_gui.core.library.scan.fingerprint`, the library
catalog's): JSON keys ``query_fingerprint`` / ``match_fingerprint``; in CSV two more
columns of those names, filled on the first row only (a ``#`` comment line would be
taken for the header by plain CSV readers). :func:`check_map_sources` refuses such a map
for other files; a map without them loads but cannot be verified.

:func:`load_map` also accepts the output of ``avr align --json`` (its ``time_map`` on
sampled frames), which it returns as a :class:`TimeMap` to be sampled per frame by
:func:`~avr_gui.core.export.framemap.frame_map`, with the end and frame rules the export
and the player share.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avr_gui.core.atomic import remove_stale_temps, write_text
from avr_gui.core.export.errors import TimeMapFileError
from avr_gui.core.export.framemap import FrameMap, TimeMap

COLUMNS = ("query_frame", "query_time", "match_frame", "match_time")
#: Optional columns (CSV, first row) and keys (JSON): the files the map was made for.
FINGERPRINT_KEYS = ("query_fingerprint", "match_fingerprint")
SUFFIXES = (".json", ".csv")

Source = str | os.PathLike[str]


@dataclass(frozen=True)
class StoredMap:
    """A time map read from disk, with the fingerprints of the files it was made for.

    Attributes
    ----------
    map : FrameMap or TimeMap
        What :func:`load_map` returns.
    query_fingerprint, match_fingerprint : str or None
        :func:`file_fingerprint` of the query and match files at the time the map was
        written; None in maps written without them (older versions, ``avr align``).
    """

    map: FrameMap | TimeMap
    query_fingerprint: str | None = None
    match_fingerprint: str | None = None


def file_fingerprint(path: Source) -> str:
    """The content fingerprint of a video file, as the library catalog computes it.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    str
        ``"b3:<size>-<hash>"``-style whole-content fingerprint
        (:func:`avr_gui.core.library.scan.fingerprint`).

    Raises
    ------
    TimeMapFileError
        The file cannot be read.
    """
    from avr_gui.core.library.scan import fingerprint

    try:
        return fingerprint(path)
    except OSError as exc:
        raise TimeMapFileError(
            f"{path}: cannot read it to fingerprint ({exc.strerror or exc})"
        ) from None


def _current_fingerprint(path: Source, recorded: str) -> str:
    """The file's fingerprint in the form ``recorded`` was made in.

    Maps saved before whole-content fingerprints recorded the older partial form (size
    plus the ends); they are checked in that form rather than refused as "another file".
    """
    if recorded.startswith("b3:"):
        return file_fingerprint(path)
    from avr_gui.core.library.scan import legacy_fingerprint

    try:
        return legacy_fingerprint(path)
    except OSError as exc:
        raise TimeMapFileError(
            f"{path}: cannot read it to fingerprint ({exc.strerror or exc})"
        ) from None


def _fingerprints(sources: tuple[Source, Source] | None) -> dict[str, str]:
    if sources is None:
        return {}
    return {k: file_fingerprint(p) for k, p in zip(FINGERPRINT_KEYS, sources, strict=True)}


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
    """The JSON text of a frame map: ``{"frames": [...], **meta}``.

    Parameters
    ----------
    fmap : FrameMap
    meta : dict, optional
        Extra top-level keys (e.g. ``query``, ``match``, the fingerprint keys).

    Returns
    -------
    str
    """
    doc: dict[str, Any] = {"frames": _rows(fmap)}
    doc.update(meta or {})
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def map_to_csv(fmap: FrameMap, fingerprints: dict[str, str] | None = None) -> str:
    """The CSV text of a frame map: a header line, then one line per query frame.

    Parameters
    ----------
    fmap : FrameMap
    fingerprints : dict, optional
        ``{"query_fingerprint": ..., "match_fingerprint": ...}``: written as two more
        columns, filled on the first row only.

    Returns
    -------
    str
    """
    prints = {k: v for k, v in (fingerprints or {}).items() if k in FINGERPRINT_KEYS}
    extra = [k for k in FINGERPRINT_KEYS if k in prints]
    rows: list[dict[str, Any]] = list(_rows(fmap))
    if prints and rows:
        rows[0] = {**rows[0], **prints}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=(*COLUMNS, *extra), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TimeMapFileError(f"{path}: a time map file must end in .json or .csv")
    return suffix


def save_map(
    path: Source,
    fmap: FrameMap,
    meta: dict[str, Any] | None = None,
    *,
    sources: tuple[Source, Source] | None = None,
) -> None:
    """Write a frame map atomically as JSON or CSV (chosen by the suffix).

    Parameters
    ----------
    path : path-like
        ``*.json`` or ``*.csv``.
    fmap : FrameMap
    meta : dict, optional
        Extra JSON keys (ignored for CSV), e.g. the source file names.
    sources : (path-like, path-like), optional
        The query and match files the map was made for: their fingerprints are stored
        (JSON keys / CSV columns ``query_fingerprint``, ``match_fingerprint``) so that
        :func:`check_map_sources` can refuse the map for other files later.

    Raises
    ------
    TimeMapFileError
        Wrong suffix, or a source file that cannot be read.
    """
    p = Path(path)
    suffix = _check_suffix(p)
    prints = _fingerprints(sources)
    if suffix == ".json":
        text = map_to_json(fmap, {**(meta or {}), **prints})
    else:
        text = map_to_csv(fmap, prints)
    # A killed earlier save of this map left its temporary file: remove it first.
    remove_stale_temps(p.parent if str(p.parent) else ".", p.name)
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


def _curve_from_align_json(rows: list[Any], source: str) -> TimeMap:
    try:
        x = np.asarray([float(r["query_time"]) for r in rows], np.float64)
        y = np.asarray([float(r["match_time"]) for r in rows], np.float64)
        return TimeMap(x, y)
    except (KeyError, TypeError, ValueError) as exc:
        raise TimeMapFileError(f"{source}: not a usable `avr align` time map ({exc})") from None


def load_map(path: Source) -> FrameMap | TimeMap:
    """Read a stored time map.

    Parameters
    ----------
    path : path-like
        A ``.csv`` or ``.json`` written by :func:`save_map`, or the JSON printed by
        ``avr align --json`` (query kept unwarped).

    Returns
    -------
    FrameMap or TimeMap
        A :class:`FrameMap` for a per-frame map; a :class:`TimeMap` (seconds to
        seconds, on sampled frames) for ``avr align`` output.

    Raises
    ------
    TimeMapFileError
        Missing, unreadable or malformed file.

    See Also
    --------
    read_map : the same, with the fingerprints of the files the map was made for.
    """
    return read_map(path).map


def _fingerprint_value(value: object, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TimeMapFileError(f"{where}: {value!r} is not a file fingerprint")
    return value


def read_map(path: Source) -> StoredMap:
    """Read a stored time map and the fingerprints of the files it was made for.

    Parameters
    ----------
    path : path-like
        As for :func:`load_map`.

    Returns
    -------
    StoredMap

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
        rows = list(reader)
        first = rows[0] if rows else {}
        q, m = (_fingerprint_value(first.get(k), f"{source}: {k}") for k in FINGERPRINT_KEYS)
        return StoredMap(_from_rows(rows, source), q, m)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TimeMapFileError(f"{source}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if isinstance(doc, dict) and isinstance(doc.get("frames"), list):
        q, m = (_fingerprint_value(doc.get(k), f"{source}: {k}") for k in FINGERPRINT_KEYS)
        return StoredMap(_from_rows(doc["frames"], source), q, m)
    if isinstance(doc, dict) and isinstance(doc.get("time_map"), list) and doc["time_map"]:
        return StoredMap(_curve_from_align_json(doc["time_map"], source))
    raise TimeMapFileError(f'{source}: expected {{"frames": [...]}} (or `avr align --json` output)')


def check_map_sources(stored: StoredMap, query: Source, match: Source, *, name: str = "") -> bool:
    """Check that a stored map was made for these query and match files.

    Parameters
    ----------
    stored : StoredMap
        From :func:`read_map`.
    query, match : path-like
        The files the map is about to be used with.
    name : str, optional
        How to call the map in a message (e.g. its file name).

    Returns
    -------
    bool
        True when both recorded fingerprints match the files; False when the map
        records none (or only one that matches): it cannot be verified.

    Raises
    ------
    TimeMapFileError
        A recorded fingerprint differs from its file's: the message names the file(s).
    """
    differs = []
    complete = True
    for role, recorded, path in (
        ("query", stored.query_fingerprint, query),
        ("match", stored.match_fingerprint, match),
    ):
        if recorded is None:
            complete = False
        elif _current_fingerprint(path, recorded) != recorded:
            differs.append((role, Path(path).name))
    if differs:
        where = f"{name}: " if name else ""
        if len(differs) == 1:
            ((role, fname),) = differs
            what = f"another {role} file: {fname} is not the file"
        else:
            (_, qname), (_, mname) = differs
            what = f"other query and match files: {qname} and {mname} are not the files"
        raise TimeMapFileError(
            f"{where}this time map was made for {what} it was made for (size or content "
            "differs); align these clips again or use the ones it was made for"
        )
    return complete
