"""Index a library on a Ray cluster: the local engine's library, decoded and encoded wide.

:func:`index_with_ray` is :meth:`~avr_gui.core.library.Library.index` with the
decoding and the encoder spread over a Ray cluster (a local one when no address is
given). Everything that touches the library stays on the driver and is the local
engine's own code (:mod:`avr_gui.core.library.indexer`):

1. Scan and verify (:func:`~avr_gui.core.library.indexer.plan_index`): the catalog's
   walk, whole-file hashes, moves, repairs; the pending rows come out in path order.
2. Copies: a pending file whose content is already indexed reuses those features
   (:func:`~avr_gui.core.library.indexer.copy_row`), on the driver. Of several pending
   files with the same content only the first goes to the cluster; the others copy its
   features once it is committed (or go in a next round if it failed).
3. The Ray Data pipeline over the remaining paths::

       from_items(paths)
         -> map_batches(decode_batch)        CPU tasks: probe, decode and sample; one
                                             row per encoder batch of frames
         -> map_batches(EncodeActor)         actor pool: the encoder (a GPU each when
                                             the cluster has GPUs), batch_size rows
         -> iter_batches() on the driver      rows of a file gathered until its last one

   Pose encoders track a person from frame to frame, so a file cannot be cut into
   independent batches: for them one actor stage
   (:class:`~avr_gui.core.scale._ray_stages.PoseActor`) decodes and encodes whole
   files (:func:`~avr_gui.core.features.pose.encoder.encode_pose_video`).
4. As each file's rows are all in, the driver writes its arrays atomically into the
   library's feature store and builds its row
   (:func:`~avr_gui.core.library.indexer.store_encoded`); the rows of a streamed batch
   are committed in one transaction (:func:`~avr_gui.core.library.indexer.commit_rows`),
   so a killed driver loses at most the batch in flight and the next run, local or
   Ray, picks up the rows still ``pending`` (and deletes orphaned feature files).
   A killed worker loses no file: Ray Data restarts a lost encoder actor and retries
   a lost decode task (without limit by default), and the driver keeps one copy of
   each part that a retried task sends again.
5. :func:`~avr_gui.core.library.indexer.finish_index`: garbage collection, summary.

The stages live in :mod:`avr_gui.core.scale._ray_stages` (light to import on every
worker). Frames travel between them as raw bytes with their shapes, features as raw
float32 bytes, probe results as JSON: no Python objects of ours are pickled. Each
encoder batch holds exactly the frames the local engine hands the encoder in one call
(the file's frames cut every ``encoder.batch_size``), so the features are the same:
bit-equal for ``thumb16``; for network encoders within float16 storage rounding
(thread counts and devices may differ).

A file that cannot be read becomes a ``failed`` row with the reason the local engine
would give (:func:`~avr_gui.core.library.indexer.failure_reason`); a failure of the
code rather than the file also has its traceback logged on the driver.

Importing Ray, connecting to a cluster and laying the work out on it:
:mod:`avr_gui.core.scale.ray_cluster`.

Cluster notes: every node must see the video files (and nothing else) under the same
paths, and have this package installed; the index folder is written by the driver
only. Progress is reported and ``cancel`` checked on the driver between streamed
batches.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from avr_gui.core.errors import InputError
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.library.catalog import Row
from avr_gui.core.library.indexer import (
    IndexSummary,
    commit_rows,
    copy_row,
    failure_reason,
    finish_index,
    is_pose_encoder,
    plan_index,
    store_encoded,
)
from avr_gui.core.scale._ray_stages import (
    COLUMNS,
    EncodeActor,
    PoseActor,
    decode_batch,
    record,
)
from avr_gui.core.scale.ray_cluster import (
    CLUSTER_HINT,
    DECODE_CPUS,
    RayEngineError,
    RayNotInstalledError,
    Shape,
    cluster_shape,
    import_ray,
    quiet,
    ray_available,
    session,
)

if TYPE_CHECKING:
    from avr_gui.core.library.catalog import Catalog
    from avr_gui.core.library.library import Library
    from avr_gui.core.library.store import FeatureStore

log = logging.getLogger(__name__)

#: Default rows (encoder batches of frames) per call of an encoder actor.
DEFAULT_BATCH_SIZE = 4

# Files per input block: enough blocks for every decoder to be busy, not so many that
# a million paths make a million blocks.
_MAX_BLOCKS = 4096


# -- the driver -------------------------------------------------------------------------


@dataclass
class _Job:
    """What the driver needs while results stream in."""

    catalog: Catalog
    store: FeatureStore
    name: str
    version: str
    pose: bool
    progress: ProgressCallback
    cancel: CancelToken | None
    total: int
    done: int = 0
    encoded: int = 0

    def commit(self, changes: list[tuple[Row, Row]], decoded: bool) -> None:
        """Commit finished files (one transaction) and report them."""
        commit_rows(self.catalog, changes)
        for _, new in changes:
            self.encoded += int(decoded and new.status == "indexed")
            self.done += 1
            self.progress(self.done, self.total, new.path)


def _result(job: _Job, row: Row, recs: list[dict[str, Any]]) -> Row:
    """The new row of a file whose rows have all arrived (features written first)."""
    from avr_gui.core.features.pose.encoder import PoseTrack
    from avr_gui.core.features.sequence import FeatureSequence
    from avr_gui.core.video.probe import VideoInfo

    recs = sorted(recs, key=lambda r: r["part"])
    failed = next((r for r in recs if r["error"]), None)
    if failed is None:
        try:
            # What encode_video does with its batches, including its error when a
            # file yields no frame at all.
            parts = [
                np.frombuffer(r["features"], np.float32).reshape(-1, int(r["dim"]))
                for r in recs
                if r["features"]
            ]
            feats = np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
        except ValueError as exc:
            reason, _ = failure_reason(exc, row.path)
            failed = record(row.path, 0, True, error=reason)
    if failed is not None:
        reason = str(failed["error"])
        if failed["trace"]:
            log.error(
                "internal error while indexing %s (on a worker):\n%s", row.path, failed["trace"]
            )
        else:
            log.warning("not indexed: %s: %s", row.path, reason)
        return Row(
            row.path, row.folder, "file", row.size, row.mtime_ns, row.fingerprint, "failed", reason
        )
    times = np.concatenate([np.frombuffer(r["times"], np.float64) for r in recs])
    indices = np.concatenate([np.frombuffer(r["indices"], np.int64) for r in recs])
    seq = FeatureSequence(feats, times.copy(), indices.copy(), row.path, job.name, job.version)
    track = None
    if job.pose:
        last = recs[-1]
        w, h = (int(v) for v in str(last["frame_size"]).split(","))
        track = PoseTrack(
            np.frombuffer(last["landmarks"], np.float32).reshape(-1, 33, 3).copy(),
            np.frombuffer(last["has_pose"], bool).copy(),
            seq.timestamps,
            seq.frame_indices,
            (w, h),
            job.name,
            row.path,
        )
    info = VideoInfo(**json.loads(str(recs[-1]["info"])))
    warnings = json.loads(str(recs[-1]["warnings"]))
    return store_encoded(row, job.store, seq, info, job.name, job.version, warnings, track)


def _dataset(
    ray: Any, paths: list[str], job: _Job, enc: Any, fps: float, batch_size: int, shape: Shape
) -> Any:
    """The pipeline over ``paths`` (see the module docstring)."""
    ds = ray.data.from_items(
        [{"path": p} for p in paths], override_num_blocks=min(len(paths), _MAX_BLOCKS)
    )
    # No more decoders or actors than files: Ray Data would warn that they idle.
    pool = ray.data.ActorPoolStrategy(size=min(shape.workers, len(paths)))
    gpu = {"num_gpus": shape.gpus_per_worker} if shape.gpus_per_worker else {}
    if job.pose:
        return ds.map_batches(
            PoseActor,
            fn_constructor_kwargs={"name": job.name, "version": job.version, "fps": fps},
            batch_size=1,  # whole files: a pose track runs from frame to frame
            batch_format="numpy",
            compute=pool,
            num_cpus=shape.cpus_per_worker,
            **gpu,
        )
    decoded = ds.map_batches(
        decode_batch,
        fn_kwargs={"fps": fps, "side": enc.decode_side, "chunk": int(enc.batch_size)},
        batch_size=1,  # one file per call; its frames leave in chunks
        batch_format="numpy",
        compute=ray.data.TaskPoolStrategy(size=min(shape.decoders, len(paths))),
        num_cpus=DECODE_CPUS,
    )
    return decoded.map_batches(
        EncodeActor,
        fn_constructor_kwargs={"name": job.name, "version": job.version},
        batch_size=batch_size,
        batch_format="numpy",
        compute=pool,
        num_cpus=shape.cpus_per_worker,
        **gpu,
    )


def _stream(
    ray: Any, job: _Job, rows: list[Row], enc: Any, fps: float, batch_size: int, shape: Shape
) -> None:
    """Run the pipeline over ``rows``; commit each file as soon as its rows are in."""
    by_path = {r.path: r for r in rows}
    parts: dict[str, dict[int, dict[str, Any]]] = {}  # path -> part -> row
    ends: dict[str, int] = {}
    ds = _dataset(ray, list(by_path), job, enc, fps, batch_size, shape)
    batches = iter(ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1))
    try:
        for batch in batches:
            changes: list[tuple[Row, Row]] = []
            for i in range(len(batch["path"])):
                rec = {k: batch[k][i] for k in COLUMNS}
                path = str(rec["path"])
                if path not in by_path:
                    continue  # a file already finished (the rows after its failure)
                got = parts.setdefault(path, {})
                part = int(rec["part"])
                # A retried task (a worker was lost) may send a part again: once each.
                if rec["error"] or part not in got:
                    got[part] = rec
                if rec["last"]:
                    ends[path] = min(ends.get(path, part), part)
                end = ends.get(path)
                if end is None or sum(k <= end for k in got) < end + 1:
                    continue
                row = by_path.pop(path)
                done = [r for k, r in parts.pop(path).items() if k <= end]
                ends.pop(path)
                changes.append((row, _result(job, row, done)))
            job.commit(changes, decoded=True)
            check(job.cancel)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # stops the pipeline when the loop ends early (cancel, error)


def _encode_all(
    ray: Any, job: _Job, pending: list[Row], enc: Any, fps: float, batch_size: int, shape: Shape
) -> None:
    """Copies on the driver, the rest on the cluster; rounds until nothing is left."""
    todo = pending
    while todo:
        check(job.cancel)
        copies: list[tuple[Row, Row]] = []
        leaders: list[Row] = []
        later: list[Row] = []
        contents: set[str] = set()
        for row in todo:
            copied = copy_row(row, job.catalog, job.store, job.version, job.pose)
            if copied is not None:
                copies.append((row, copied))
            elif row.fingerprint is not None and row.fingerprint in contents:
                later.append(row)  # same content as a file on its way: copy it after
            else:
                if row.fingerprint is not None:
                    contents.add(row.fingerprint)
                leaders.append(row)
        job.commit(copies, decoded=False)
        if leaders:
            _stream(ray, job, leaders, enc, fps, batch_size, shape)
        todo = later


def index_with_ray(
    library: Library,
    *,
    address: str | None = None,
    workers: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_cpus: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> IndexSummary:
    """Bring ``library`` up to date with its folders, decoding and encoding on Ray.

    The catalog and the feature files end as :meth:`Library.index
    <avr_gui.core.library.Library.index>` would leave them (see the module docstring).

    Parameters
    ----------
    library : Library
        Opened writable; its lock is held for the run (a second run is refused).
    address : str, optional
        A Ray cluster to connect to (``"HOST:6379"``, ``"auto"``, ``"ray://..."``),
        disconnected from afterwards. None: start a local cluster for this call and
        shut it down afterwards; it listens on the loopback address only when Ray is
        first imported by this call. Either way, a process already connected to Ray
        (``ray.init`` done by the caller) keeps and uses its connection.
    workers : int, optional
        Encoder actors. Default: one per GPU of the cluster, else half its CPUs (at
        least one).
    batch_size : int
        Rows per encoder actor call; a row is one encoder batch of one file's frames
        (``encoder.batch_size`` frames, fewer at the end of a file).
    num_cpus : int, optional
        CPUs of a local cluster started here (default: those of this process).
    progress : callable
        ``progress(done, total, message)``: scanning, then one report per finished
        file (the message is its path).
    cancel : CancelToken, optional
        Checked between streamed batches; finished files stay committed, the rest
        stay ``pending``.

    Returns
    -------
    IndexSummary

    Raises
    ------
    RayNotInstalledError
        Ray is not installed (the message says how to get it).
    RayEngineError
        The cluster could not be reached or failed.
    Cancelled
        ``cancel`` was set.
    InputError
        ``workers`` or ``batch_size`` below 1.
    """
    from avr_gui.core.library.library import DEFAULT_FPS

    if workers is not None and workers < 1:
        raise InputError(f"workers must be at least 1, not {workers}")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, not {batch_size}")
    if not ray_available():  # said before any work, without importing Ray (seconds)
        raise RayNotInstalledError(CLUSTER_HINT)
    library._writable("index")
    # The engine drives the library's own catalog, store and lock, as Library.index does.
    catalog, store = library._catalog, library._store
    with library._writer_lock():
        plan = plan_index(
            catalog,
            store,
            catalog.folders(),
            pose=library.is_pose,
            progress=progress,
            cancel=cancel,
        )
        encoded = 0
        if plan.pending:
            ray = import_ray(local=address is None)
            enc = library._get_encoder()
            job = _Job(
                catalog,
                store,
                enc.name,
                enc.version,
                is_pose_encoder(enc),
                progress,
                cancel,
                len(plan.pending),
            )
            with session(ray, address, num_cpus), quiet(ray):
                shape = cluster_shape(ray, workers)
                try:
                    _encode_all(ray, job, plan.pending, enc, DEFAULT_FPS, batch_size, shape)
                except (ray.exceptions.RayError, ray.exceptions.RaySystemError) as exc:
                    text = " ".join(str(exc).split())[:500]
                    raise RayEngineError(f"the Ray cluster failed: {text}") from exc
            encoded = job.encoded
            progress(job.total, job.total, "done")
        summary = finish_index(catalog, store, plan, encoded)
    library._search = None
    return summary


__all__ = [
    "CLUSTER_HINT",
    "DEFAULT_BATCH_SIZE",
    "RayEngineError",
    "RayNotInstalledError",
    "index_with_ray",
    "ray_available",
]
