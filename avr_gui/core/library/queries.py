"""Querying a library: clip retrieval, the performer index and the whole method.

:class:`LibraryQueries` is a base of :class:`~avr_gui.core.library.library.Library`,
kept apart so the library module owns opening, indexing and reading, and this one owns
search and ranking. It works on the library's state (catalog, feature store, caches),
which :class:`~avr_gui.core.library.library.Library` sets up.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from avr_gui.core.align import AlignmentOptions
from avr_gui.core.align.footage import CANDIDATES as FOOTAGE_CANDIDATES
from avr_gui.core.align.footage import same_footage, same_footage_rule
from avr_gui.core.align.verdict import alignable_probability, pose_calibrated_for
from avr_gui.core.errors import DimensionMismatchError, InputError
from avr_gui.core.features.encoders import APPEARANCE_BACKEND, Encoder
from avr_gui.core.features.layout import alignment_columns, alignment_view
from avr_gui.core.features.pose.encoder import PoseTrack, encode_pose_video
from avr_gui.core.features.pose.motion import compared_parts
from avr_gui.core.features.sequence import FeatureSequence, encode_video
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.library.catalog import Catalog, Row
from avr_gui.core.library.descriptor import clip_descriptor
from avr_gui.core.library.entries import DEFAULT_FPS
from avr_gui.core.library.errors import EmptyLibraryError, LibraryCorruptError
from avr_gui.core.library.indexer import is_pose_encoder
from avr_gui.core.library.learned import (
    LearnedInfo,
    compared_by,
    default_model_name,
    default_pose_model,
    load_learned,
    pointer_stamp,
    shipped_learned_weight,
)
from avr_gui.core.library.pose_search import (
    DEFAULT_MODEL,
    PoseDescriptor,
    PoseIndex,
    describe_track,
)
from avr_gui.core.library.projection import FILE_NAME as PROJECTION_FILE
from avr_gui.core.library.projection import Projection, load_projection
from avr_gui.core.library.query import (
    QueryResult,
    Scorer,
    check_trim,
    rerank,
    retrieval_features,
    similarity_score,
    trim_sequence,
)
from avr_gui.core.library.scan import fingerprint
from avr_gui.core.library.search import SearchIndex
from avr_gui.core.library.store import FeatureStore

if TYPE_CHECKING:
    from avr_gui.core.learn import InferenceModel

log = logging.getLogger(__name__)


#: What a query of a library with nothing indexed says.
EMPTY_LIBRARY = "the library has no indexed videos yet: index it first"


class LibraryQueries:
    """Search and the whole query method, on the state a :class:`Library` holds."""

    root: Path
    readonly: bool
    _catalog: Catalog
    _store: FeatureStore
    _search: SearchIndex | None
    _pose_index: PoseIndex | None
    _pose_cache: dict[str, PoseDescriptor]
    _learned: tuple[object, LearnedInfo | None, InferenceModel | None] | None
    _lock: threading.RLock
    _projection: tuple[tuple[int, int], Projection | None] | None
    #: Re-rank on the compact copies when they exist (False: the full features, for
    #: comparisons such as ``benchmarks/eval_compact.py``).
    use_compact: bool = True

    if TYPE_CHECKING:
        # Provided by Library (reading rows and the encoder is its business).
        @property
        def encoder_name(self) -> str | None: ...
        @property
        def encoder_version(self) -> str | None: ...
        @property
        def is_pose(self) -> bool: ...
        def _get_encoder(self) -> Encoder: ...
        def _indexed_row(self, path: str | os.PathLike[str]) -> Row | None: ...
        def _read(self, row: Row) -> FeatureSequence: ...
        def _read_track(self, row: Row, source: str | None = None) -> PoseTrack | None: ...

    def search_index(self) -> SearchIndex:
        """The retrieval index of the current catalog (rebuilt when it changed)."""
        with self._lock:
            if self._search is None or self._search.generation != self._catalog.generation:
                self._search = SearchIndex.build(self._catalog, self.root, save=not self.readonly)
            return self._search

    def search(
        self, query: FeatureSequence, k: int = 50, *, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        """Clip retrieval only: the ``k`` clips most similar to ``query``, best first.

        Returns
        -------
        list of (path, cosine similarity)
        """
        feats = retrieval_features(query.features, self.encoder_name)
        return self.search_index().search(clip_descriptor(feats), k, exclude)

    def learned_model(self) -> LearnedInfo | None:
        """The learned pose model performer clips are compared by (``avr learn``), or None.

        Read again whenever ``learned/current.json`` changed (another process taught or
        reverted the library); a damaged model counts as none (logged).
        """
        return self._pose_model()[0]

    def _pose_model(self) -> tuple[LearnedInfo | None, InferenceModel | None]:
        with self._lock:
            stamp = pointer_stamp(self.root)
            if self._learned is None or self._learned[0] != stamp:
                loaded = None
                if stamp is not None:
                    try:
                        loaded = load_learned(self.root)
                    except InputError as exc:
                        log.warning("learned model not used: %s", exc)
                info, model = loaded if loaded is not None else (None, None)
                if model is None:
                    # No model of the library's own: the shipped one (trained on Penn
                    # Action's E2 library; it beat the hand-made descriptor on E2 and E3,
                    # docs/RESULTS.md), else the hand-made descriptor.
                    model = default_pose_model()
                self._learned = (stamp, info, model)
            return self._learned[1], self._learned[2]

    def performer_index(self) -> PoseIndex:
        """Pose descriptors of the performer clips (``auto`` libraries).

        Kept per catalog generation and model: a new clip, a new learned model or a
        revert rebuilds it (from cached descriptors where they are still valid).
        """
        with self._lock:
            gen = self._catalog.generation
            info, model = self._pose_model()
            name = info.name if info is not None else default_model_name(model)
            idx = self._pose_index
            if idx is None or idx.generation != gen or idx.model != name:
                rows = {
                    r.path: r for r in self._catalog.rows("status = 'indexed' AND has_person = 1")
                }
                self._pose_index = PoseIndex.build(
                    gen,
                    sorted(rows),
                    lambda p: self._describe(rows[p], name, model),
                    standardizer=model.standardizer if model is not None else None,
                    model=name,
                    learned_weight=self._learned_weight(info, model),
                )
            return self._pose_index

    @staticmethod
    def _learned_weight(info: LearnedInfo | None, model: InferenceModel | None) -> float:
        """The shipped model is blended with the hand-made descriptor; a library's own
        model (taught on its own actions) ranks alone."""
        return shipped_learned_weight() if info is None and model is not None else 1.0

    def _describe(
        self, row: Row, name: str = DEFAULT_MODEL, model: InferenceModel | None = None
    ) -> PoseDescriptor | None:
        """A clip's pose descriptor, from memory when its content was described before.

        Keyed by the model and the feature key (content and encoder), so a catalog
        change (a new clip, a rename) describes only what is new instead of reading
        every track again, and another model never meets stale descriptors.
        """
        key = f"{name}\0{row.feature_key or ''}"
        if key not in self._pose_cache:
            track = self._read_track(row)
            if track is None:
                return None
            self._pose_cache[key] = describe_track(track, model=model)
        return self._pose_cache[key]

    def _query_features(
        self,
        query: str | os.PathLike[str] | FeatureSequence,
        progress: ProgressCallback,
        cancel: CancelToken | None,
    ) -> tuple[FeatureSequence, str | None, PoseTrack | None]:
        if isinstance(query, FeatureSequence):
            return query, None, None
        row = self._indexed_row(query)
        pose = self.is_pose
        if row is None and os.path.isfile(query):
            # A copy of an indexed video: use its stored features, don't decode.
            fp = fingerprint(query)
            enc_version = self.encoder_version
            same = self._catalog.rows(
                "fingerprint = ? AND status = 'indexed' AND encoder_version = ?",
                (fp, enc_version),
                limit=1,
            )
            if same and (not pose or self._store.has_track(same[0].feature_key or "")):
                seq = self._read(same[0])
                track = self._read_track(same[0], os.fspath(query)) if pose else None
                return replace(seq, source=os.fspath(query)), str(Path(query).resolve()), track
        if row is not None:
            return self._read(row), row.path, self._read_track(row) if pose else None
        enc = self._get_encoder()
        if is_pose_encoder(enc):
            # One decoding pass gives the features and the query's landmarks.
            seq, track = encode_pose_video(
                query,
                enc,  # type: ignore[arg-type]
                fps=DEFAULT_FPS,
                progress=progress,
                cancel=cancel,
            )
            return seq, str(Path(query).resolve()), track
        seq = encode_video(query, enc, fps=DEFAULT_FPS, progress=progress, cancel=cancel)
        return seq, str(Path(query).resolve()), None

    def _same_footage(
        self, seq: FeatureSequence, own: str | None, near: list[str] | None = None
    ) -> str | None:
        """The library clip the query is cut from, if its frames say so (else None).

        Only ``auto`` and appearance libraries: the cue reads appearance features. The
        candidates are the query's nearest clips by appearance
        (:mod:`avr_gui.core.align.footage`): ``near`` when the query was just retrieved
        by appearance, else searched here.
        """
        if self.encoder_name not in ("auto", APPEARANCE_BACKEND):
            return None
        if same_footage_rule() is None:
            return None
        if near is None:
            try:
                near = [p for p, _ in self.search(seq, FOOTAGE_CANDIDATES, exclude=own)]
            except DimensionMismatchError:
                # A library without appearance features to search (e.g. joints only):
                # an optional cue never fails a query.
                return None
        near = near[:FOOTAGE_CANDIDATES]
        feats = []
        for p in near:
            row = self._catalog.get(p)
            if row is None or not row.feature_key:
                return None
            feats.append(self._read(row).features)
        cols = alignment_columns(self.encoder_name)
        found = same_footage(
            alignment_view(seq.features, cols), [alignment_view(f, cols) for f in feats]
        )
        return None if found is None else near[found[0]]

    def projection(self) -> Projection | None:
        """The basis of the library's compact copies, or None (see
        :mod:`~avr_gui.core.library.projection`); re-read when its file changes."""
        path = self._store.root / PROJECTION_FILE
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._projection is None or self._projection[0] != stamp:
                self._projection = (stamp, load_projection(path))
            return self._projection[1]

    def _compact(
        self, seq: FeatureSequence, keys: dict[str, str]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
        """The query and candidates projected (:mod:`~avr_gui.core.library.projection`),
        or None to re-rank on the full features (no basis, or a candidate without its
        compact copy: all are compared in one space or none is; or :attr:`use_compact`
        is False)."""
        if not self.use_compact:
            return None
        proj = self.projection()
        if proj is None or seq.features.shape[1] != proj.width:
            return None
        arrays = {}
        for p, key in keys.items():
            try:
                arrays[p] = self._store.read_projected(key, proj.ident)
            except (OSError, ValueError, LibraryCorruptError):
                log.info("%s has no compact copy yet: re-ranking on the full features", p)
                return None
        return proj.apply(seq.features), arrays

    def query(
        self,
        query: str | os.PathLike[str] | FeatureSequence,
        *,
        trim: tuple[float, float] | None = None,
        top: int = 10,
        candidates: int = 50,
        scorer: Scorer | None = None,
        options: AlignmentOptions | None = None,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> QueryResult:
        """The whole method: features, top-K by clip similarity, re-rank by alignment.

        Parameters
        ----------
        query : path-like or FeatureSequence
            A video (in the library: its stored features are used; elsewhere: encoded
            with the library's encoder) or features ``[n, d]``.
        trim : (float, float), optional
            In and out points in seconds.
        top : int
            Results returned.
        candidates : int
            K: clips retrieved by similarity and re-ranked.
        scorer : Scorer, optional
            Ranking score (lower = better). Default: in an ``auto`` library, a query that
            shows a performer is ranked by pose similarity among the performer clips;
            otherwise the shipped score (``resources/ranking.json``: DTW cost per step).
        options : AlignmentOptions, optional
        progress, cancel
            See :mod:`avr_gui.core.jobs`.

        Returns
        -------
        QueryResult
            The query's own file is never among the results. A library clip the query
            is cut from (:mod:`avr_gui.core.align.footage`) comes first whatever the
            score, aligned with the whole query inside it (``Match.same_footage``).
            With a pose encoder, ``query_pose`` holds the query's landmarks (stored, or
            found while encoding a file from elsewhere) and each match's
            ``has_person`` is set.
        """
        if candidates < 1:
            raise InputError(f"candidates must be at least 1, got {candidates}")
        # Said before the query is encoded: a video from elsewhere took 6 s (pose and
        # appearance) to end in this error.
        if self._catalog.any_indexed_key() is None:
            raise EmptyLibraryError(EMPTY_LIBRARY)
        check_trim(trim)  # likewise: in and out the wrong way round need no encoding
        seq, own, query_pose = self._query_features(query, progress, cancel)
        seq = trim_sequence(seq, trim)
        check(cancel)
        auto = self.encoder_name == "auto"
        qdesc = None
        learned = model = None
        if auto and query_pose is not None:
            learned, model = self._pose_model()
            qdesc = describe_track(query_pose, trim, model)
        by_pose = qdesc is not None and qdesc.performer
        if by_pose:
            assert qdesc is not None
            # A performer query meets the performer clips, ranked by how the body moves;
            # DTW aligns what is shown but does not re-order (module pose_search).
            hits = self.performer_index().search(qdesc, candidates, exclude=own)
            if scorer is None:
                scorer = similarity_score
                hits = hits[:top]
        else:
            hits = self.search(seq, candidates, exclude=own)
        if not hits and not self.search_index().paths:
            raise EmptyLibraryError(EMPTY_LIBRARY)
        # An appearance query was just retrieved by appearance: its nearest clips are
        # the cue's candidates, no second search.
        retrieved = None if by_pose else [p for p, _ in hits]
        source = self._same_footage(seq, own, retrieved)
        if by_pose and source not in self.performer_index().paths:
            source = None  # a performer query is compared with performer clips only
        if source is not None and source not in dict(hits):
            # Found by its frames, not by the ranking's cue: it joins the candidates.
            # (The others keep their places: the rest are ranked for ``top - 1`` below.)
            hits = [(source, min((h[1] for h in hits), default=0.0)), *hits]
        cands = []
        keys: dict[str, str] = {}
        person: dict[str, bool | None] = {}
        pose = self.is_pose
        for path, sim in hits:
            row = self._catalog.get(path)
            if row is not None and row.feature_key:
                cands.append((path, sim, self._read(row)))
                keys[path] = row.feature_key
                person[path] = row.has_person if pose else None
        compact = self._compact(seq, keys)
        # Pose-fused features rank by pose and appearance; the alignment a user sees and
        # exports uses the appearance block, which places frames more precisely (E1).
        lead = [c for c in cands if c[0] == source]
        rest = [c for c in cands if c[0] != source]
        # The query is cut from ``source``: it leads whatever the score says, so it is
        # ranked on its own and the others fill the remaining places.
        matches = [
            m
            for group, n in ((lead, 1), (rest, top - len(lead)))
            if group and n > 0
            for m in rerank(
                seq,
                group,
                top=n,
                scorer=scorer,
                options=options,
                align_columns=alignment_columns(self.encoder_name),
                progress=progress,
                cancel=cancel,
                query_inside=group is lead,
                compact=None
                if compact is None
                else (compact[0], [compact[1][c[0]] for c in group]),
            )
        ]
        matches = [replace(m, rank=k) for k, m in enumerate(matches, start=1)]
        compared = ("pose" if by_pose else "appearance") if auto else None
        kind = compared or ("appearance" if self.encoder_name == APPEARANCE_BACKEND else None)
        in_use = "motion" if model is None else "learned"
        if in_use == "learned" and self._learned_weight(learned, model) < 1.0:
            in_use = "blend"
        if by_pose and (learned is not None or pose_calibrated_for() != in_use):
            # The pose verdict is calibrated on one descriptor's similarity (the shipped
            # model's); a library's own model or the hand-made descriptor has another
            # scale: no verdict rather than a wrong one.
            kind = None
        pindex = self.performer_index() if by_pose else None

        def parts(path: str) -> str | None:
            # What the comparison used: the limbs both clips show.
            seen = None if pindex is None else pindex.seen_of(path)
            if seen is None or qdesc is None:
                return None
            return compared_parts(qdesc.seen_masks()[0], seen)

        matches = [
            replace(
                m,
                has_person=person[m.path],
                compared_on=compared,
                compared_parts=parts(m.path),
                alignable=alignable_probability(
                    kind, m.similarity if kind == "pose" else m.normalized_cost
                ),
                same_footage=m.path == source,
            )
            for m in matches
        ]
        return QueryResult(
            own,
            seq,
            matches,
            query_pose,
            query_performer=by_pose if auto else None,
            pose_model=compared_by(learned, model) if by_pose else None,
        )
