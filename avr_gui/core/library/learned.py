"""A library's own learned pose model: teach it from labelled clips, use it, revert it.

``learn`` trains an LRProp encoder (:mod:`avr_gui.core.learn`) on the pose tracks the
library already stores (never decoding video): per performer clip, the pose-motion
features of its landmarks as filmed and mirrored. Labels are the clips' folder names,
or a CSV of ``path,label``. From then on performer queries compare clips on the learned
descriptor (:mod:`~avr_gui.core.library.pose_search`); ``revert`` goes back to the
hand-made pose descriptor.

Index folder layout::

    learned/current.json            which model is in use (replaced atomically)
    learned/model-<id>.npz, .json   the model and its descriptor statistics
    learned/checkpoint-<key>.npz    an unfinished training (resumed by the next run of
                                    the same settings and data; removed when it ends)
    learned/.lock                   held while a training runs

Every check (labels, CSV, the training set, a writable index) is made before anything
is written, so a refused ``learn`` leaves the index folder as it was. The model pair is
written first and the pointer last, so a killed run leaves the previous model in use.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import functools
import hashlib
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.errors import InputError
from avr_gui.core.features.pose.motion import is_performer, track_motion_features
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.library.errors import LibraryBusyError, LibraryError
from avr_gui.core.library.filelock import exclusive_lock, is_locked

if TYPE_CHECKING:
    from avr_gui.core.learn import InferenceModel, LabelledClip
    from avr_gui.core.library.library import Library


#: Folder of the learned model inside the index folder.
LEARNED_DIR = "learned"
#: The pointer naming the model in use.
POINTER = "current.json"
#: Training steps of ``avr learn`` by default. A 100-clip Penn Action library (15
#: actions) learns in 141 s end to end on a 2-core CPU under a load of 5, inside the
#: issue's 5 minutes; its E2 queries' recall@1 went 0.84 -> 0.88 (300 steps: 0.84, no
#: gain). ``benchmarks/bench_learn_library.py``.
DEFAULT_STEPS = 1000
#: Frames per second of the stored features (the library samples at this rate).
FEATURE_FPS = 10.0


@dataclass(frozen=True)
class LearnedInfo:
    """What the app and the CLI say about a library's learned model.

    Attributes
    ----------
    name : str
        The model's file stem in ``learned/`` (also the cache key of its descriptors).
    created : str
        ISO 8601 time of training (UTC).
    labels : dict of str to int
        Training clips per label.
    clips : int
        Clips trained on.
    skipped : int
        Labelled clips left out (no usable pose).
    steps, seed : int
    started_from : str
        ``"scratch"`` or ``"shipped <sha12>"`` (fine-tuned from the shipped pose model).
    """

    name: str
    created: str
    labels: dict[str, int]
    clips: int
    skipped: int = 0
    steps: int = 0
    seed: int = 0
    started_from: str = "scratch"

    def describe(self) -> str:
        """E.g. ``"learned pose (model of 2026-11-30, 4 labels, 87 clips)"``."""
        return (
            f"learned pose (model of {self.created[:10]}, {len(self.labels)} labels, "
            f"{self.clips} clips)"
        )


#: What performer clips are compared by without a model of the library's own: the
#: shipped learned pose model, or (when it is missing) the hand-made pose descriptor.
SHIPPED_COMPARISON = (
    "body pose (shipped learned model, trained on Penn Action, with the hand-made descriptor)"
)
#: The same, when ``resources/pose_blend.json`` is missing: the model alone.
SHIPPED_ALONE_COMPARISON = "learned pose (shipped model, trained on Penn Action)"
DEFAULT_COMPARISON = "pose (default features)"
#: :attr:`~avr_gui.core.library.pose_search.PoseIndex.model` of the shipped model.
SHIPPED_MODEL = "shipped"


@functools.lru_cache(maxsize=1)
def default_pose_model() -> InferenceModel | None:
    """The model performer clips are compared by when the library has none of its own.

    The shipped LRProp pose model (``resources/lrprop_pose``): on E2 (Penn Action
    queries it never saw) and E3 (real clips) it ranks better than the hand-made pose
    descriptor, which it was trained on top of (docs/RESULTS.md). None when it is
    missing or unreadable (logged), or when the setting ``features.pose_model`` is
    ``none``: the hand-made descriptor is used then. Read once per process.

    Returns
    -------
    InferenceModel or None
        Read for embedding with NumPy: no torch (which cost a query 1.7 s to import).
    """
    from avr_gui.core.learn import shipped_inference_model

    log = logging.getLogger(__name__)
    if _pose_model_setting() == "none":
        return None
    model = shipped_inference_model()
    if model is None or model.standardizer is None:
        log.warning(
            "the shipped pose model is missing or unreadable: the hand-made pose descriptor is used"
        )
        return None
    return model


@functools.lru_cache(maxsize=1)
def shipped_learned_weight() -> float:
    """How much the shipped model's similarity counts beside the hand-made descriptor's.

    ``resources/pose_blend.json`` (``benchmarks/eval_small_libraries.py``): the weight
    ``w`` of ``w * learned + (1 - w) * hand-made``, chosen on small libraries of Penn
    Action actions held out of the model's training, because alone the model ranks
    clips of actions it never saw worse than the hand-made descriptor
    (``benchmarks/eval_unseen_actions.py``, docs/RESULTS.md). 1.0
    (the model alone) when the file is missing or unreadable (logged).

    Returns
    -------
    float
        In [0, 1].
    """
    from importlib import resources

    try:
        raw = json.loads(
            resources.files("avr_gui").joinpath("resources", "pose_blend.json").read_text("utf-8")
        )
        w = float(raw["learned_weight"])
        if not 0.0 <= w <= 1.0:
            raise ValueError(f"learned_weight {w} is not in [0, 1]")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logging.getLogger(__name__).warning("pose_blend.json not used (%s): the model alone", exc)
        return 1.0
    return w


def default_model_name(model: InferenceModel | None) -> str:
    """The cache key of the default comparison (:data:`SHIPPED_MODEL` or the hand-made)."""
    from avr_gui.core.library.pose_search import DEFAULT_MODEL

    return SHIPPED_MODEL if model is not None else DEFAULT_MODEL


def _pose_model_setting() -> str:
    from avr_gui.core.config import ConfigError, load_config, report_unreadable

    try:
        return load_config().get_str("features.pose_model")
    except ConfigError as exc:
        report_unreadable(logging.getLogger(__name__), exc, "using the shipped pose model")
        return "shipped"


def shipped_model_chosen() -> bool:
    """Whether the shipped model is the default comparison here, without loading it.

    The setting says ``shipped`` and its weights are installed; reading them (torch)
    is left to the first query (:func:`default_pose_model`).
    """
    if _pose_model_setting() == "none":
        return False
    from importlib import resources

    return resources.files("avr_gui").joinpath("resources", "lrprop_pose.npz").is_file()


#: :func:`compared_by` without a query's model: ask whether the shipped one is chosen.
ASK = object()


def compared_by(info: LearnedInfo | None, model: Any = ASK) -> str:
    """One phrase for "compared by: ...": the library's model, or the default.

    Parameters
    ----------
    info : LearnedInfo or None
        The library's own model.
    model : InferenceModel or None, optional
        The default model a query actually used (None: the hand-made descriptor). Not
        given: whether the shipped model is chosen and installed
        (:func:`shipped_model_chosen`), which does not load torch.
    """
    if info is not None:
        return info.describe()
    shipped = shipped_model_chosen() if model is ASK else model is not None
    if not shipped:
        return DEFAULT_COMPARISON
    return SHIPPED_COMPARISON if shipped_learned_weight() < 1.0 else SHIPPED_ALONE_COMPARISON


@dataclass(frozen=True)
class TrainingSet:
    """The labelled clips of a library that can train, and those that cannot.

    Attributes
    ----------
    paths : list of str
        Clips used, in catalog order.
    labels : list of str
    clips : list of LabelledClip
        Pose-motion features ``[T, 50]`` as filmed and mirrored.
    skipped : list of (str, str)
        Labelled clips left out and why.
    unlabelled : int
        Indexed clips the labels do not name (a CSV's choice).
    """

    paths: list[str]
    labels: list[str]
    clips: list[LabelledClip]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unlabelled: int = 0


@dataclass(frozen=True)
class LearnSummary:
    """What :func:`learn` did.

    Attributes
    ----------
    info : LearnedInfo
    resumed_from : int
        The step training started from (0: a fresh run).
    seconds : float
    device : str
    skipped : list of (str, str)
    final_loss : float or None
    """

    info: LearnedInfo
    resumed_from: int
    seconds: float
    device: str
    skipped: list[tuple[str, str]]
    final_loss: float | None


# -- labels ------------------------------------------------------------------------------


def folder_labels(paths: Sequence[str]) -> dict[str, str]:
    """Each clip's label by folder: the name of the folder it is in.

    Parameters
    ----------
    paths : sequence of str
        Catalog paths (files, or names like ``squat/clip 3`` of added arrays).

    Returns
    -------
    dict of str to str
        Clips without a parent folder name are left out.
    """
    out = {}
    for p in paths:
        name = Path(p).parent.name
        if name:
            out[p] = name
    return out


def read_labels_csv(
    csv_path: str | os.PathLike[str], library_paths: Sequence[str]
) -> dict[str, str]:
    """Labels from a CSV of ``path,label`` rows (a ``path,label`` header is allowed).

    A path is a catalog path, or a file path absolute or relative to the CSV's folder.

    Parameters
    ----------
    csv_path : path-like
    library_paths : sequence of str
        The library's indexed clips.

    Returns
    -------
    dict of str to str
        Catalog path -> label.

    Raises
    ------
    InputError
        Unreadable, malformed (not two fields, an empty label, a clip given two
        labels), or naming a file that is not an indexed clip of the library; the
        first problem, in one line with its line number.
    """
    src = Path(csv_path)
    try:
        text = src.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{src}: cannot read the labels ({exc})") from exc
    known = set(library_paths)
    out: dict[str, str] = {}
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if n == 1 and [c.strip().lower() for c in row] == ["path", "label"]:
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise InputError(f"{src} line {n}: expected 'path,label', got {','.join(row)!r}")
        given, label = row[0].strip(), row[1].strip()
        path = _catalog_path(given, src.parent, known)
        if path is None:
            raise InputError(f"{src} line {n}: {given!r} is not an indexed clip of this library")
        if out.get(path, label) != label:
            raise InputError(f"{src} line {n}: {given!r} has two labels ({out[path]!r}, {label!r})")
        out[path] = label
    if not out:
        raise InputError(f"{src}: no labels in it (one 'path,label' row per clip)")
    return out


def _catalog_path(given: str, base: Path, known: set[str]) -> str | None:
    if given in known:
        return given
    p = Path(given).expanduser()
    for cand in (p, base / p):
        with contextlib.suppress(OSError):
            r = str(cand.resolve())
            if r in known:
                return r
    return None


# -- the training set ----------------------------------------------------------------


def training_set(
    lib: Library,
    labels: Mapping[str, str] | None = None,
    *,
    cancel: CancelToken | None = None,
) -> TrainingSet:
    """The labelled performer clips of ``lib`` with their stored pose-motion features.

    Parameters
    ----------
    lib : Library
    labels : mapping of str to str, optional
        Catalog path -> label; default :func:`folder_labels` of every indexed clip.
    cancel : CancelToken, optional

    Returns
    -------
    TrainingSet

    Raises
    ------
    InputError
        The library does not store body pose (it was not indexed with ``auto``).
    """
    if lib.encoder_name != "auto":
        raise InputError(
            f"this library compares clips by {lib.encoder_name or 'no'} features; learning "
            "needs the body pose of the automatic features (re-index with --encoder auto)"
        )
    indexed = [e.path for e in lib.entries() if e.status == "indexed"]
    labels = folder_labels(indexed) if labels is None else dict(labels)
    paths, names, clips, skipped = [], [], [], []
    from avr_gui.core.learn import LabelledClip

    for path in indexed:
        if path not in labels:
            continue
        check(cancel)
        track = lib.pose_track(path)
        if track is None:
            skipped.append((path, "no stored pose (index the library again)"))
            continue
        f, v = track_motion_features(track)
        if not is_performer(v):
            skipped.append((path, "no performer (a usable pose in under half of its frames)"))
            continue
        fm, vm = track_motion_features(track, mirror=True)
        paths.append(path)
        names.append(labels[path])
        clips.append(LabelledClip(labels[path], ((f, v), (fm, vm))))
    return TrainingSet(paths, names, clips, skipped, len(indexed) - len(labels))


def _check_set(ts: TrainingSet, by_folder: bool) -> None:
    """Refuse labels LRProp cannot train on, in one line with what to do about it.

    The rules are :func:`~avr_gui.core.learn.check_training_set`'s; the message also
    says how many labelled clips were skipped and how to label.
    """
    from avr_gui.core.learn import check_training_set

    hint = (
        "put each action's clips in a folder of its own, or give a CSV of path,label"
        if by_folder
        else "each label needs at least two clips with a performer"
    )
    skipped = f" ({len(ts.skipped)} labelled clips skipped: no performer)" if ts.skipped else ""
    counts = Counter(ts.labels)
    if not counts:
        why = "no labelled clips to learn from"
    elif len(counts) < 2:
        why = f"only one label ({next(iter(counts))!r}): learning needs at least two"
    else:
        lonely = sorted(k for k, n in counts.items() if n < 2)
        shown = ", ".join(repr(k) for k in lonely[:3]) + (" ..." if len(lonely) > 3 else "")
        why = f"labels held by a single clip (need two each): {shown}" if lonely else ""
    if why:
        raise InputError(f"{why}{skipped}; {hint}")
    check_training_set(ts.labels)


# -- the stored model ----------------------------------------------------------------


def learned_dir(root: str | os.PathLike[str]) -> Path:
    """``<index>/learned``."""
    return Path(root) / LEARNED_DIR


def learned_info(root: str | os.PathLike[str]) -> LearnedInfo | None:
    """The learned model in use in the index folder ``root``, or None.

    A damaged pointer counts as no model (queries fall back to the default features);
    :func:`load_learned` says what is wrong.
    """
    try:
        return _read_pointer(learned_dir(root))
    except InputError:
        return None


def _read_pointer(folder: Path) -> LearnedInfo | None:
    p = folder / POINTER
    if not p.is_file():
        return None
    try:
        raw = json.loads(p.read_text("utf-8"))
        return LearnedInfo(
            name=str(raw["name"]),
            created=str(raw["created"]),
            labels={str(k): int(v) for k, v in raw["labels"].items()},
            clips=int(raw["clips"]),
            skipped=int(raw.get("skipped", 0)),
            steps=int(raw.get("steps", 0)),
            seed=int(raw.get("seed", 0)),
            started_from=str(raw.get("started_from", "scratch")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{p}: not a readable learned-model pointer ({exc})") from exc


def pointer_stamp(root: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """``(inode, mtime_ns, size)`` of the pointer, or None: a cheap check for a new model.

    The pointer is replaced by a rename, so a new model always has a new inode.
    """
    try:
        st = (learned_dir(root) / POINTER).stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def load_learned(root: str | os.PathLike[str]) -> tuple[LearnedInfo, InferenceModel] | None:
    """The learned model in use in the index folder ``root``, read for embedding (no
    torch); None without one.

    Raises
    ------
    InputError
        The pointer or the model files are damaged (one line).
    """
    from avr_gui.core.learn import load_inference_model

    folder = learned_dir(root)
    info = _read_pointer(folder)
    if info is None:
        return None
    model = load_inference_model(folder / info.name)
    if model.standardizer is None:
        raise InputError(f"{folder / info.name}.json has no descriptor statistics")
    return info, model


def _training_lock(folder: Path) -> contextlib.AbstractContextManager[None]:
    return exclusive_lock(
        folder / ".lock",
        f"{folder.parent}: another process is teaching this library; wait for it",
    )


def _busy(folder: Path) -> bool:
    return is_locked(folder / ".lock")


def checkpoint_step(path: str | os.PathLike[str]) -> int | None:
    """The step a training checkpoint was written at, or None if it is not readable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            rec = json.loads(z["record"].tobytes().decode("utf-8"))
        return int(rec["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def train_config(steps: int, seed: int) -> Any:
    """The :class:`~avr_gui.core.learn.TrainConfig` of ``avr learn``.

    A checkpoint every tenth of the run (at most every 50 steps), so Ctrl+C or a
    ``kill -9`` loses little.
    """
    from avr_gui.core.learn import TrainConfig

    if steps < 1:
        raise InputError(f"steps must be at least 1, got {steps}")
    return TrainConfig(
        steps=int(steps),
        seed=int(seed),
        fps=FEATURE_FPS,
        checkpoint_every=max(1, min(50, steps // 10)),
    )


def numba_without_spinning() -> None:
    """Run numba's parallel kernels (tslearn's soft-DTW) on its plain thread pool.

    Its default OpenMP pool busy-waits between kernels and starves torch on the same
    cores: 100 clips of Penn Action, 3 steps, 24 s with it and 0.3 s without on a
    2-core machine under a load of 5 (``benchmarks/bench_learn_library.py``). Only
    effective before numba's first parallel kernel in the process.
    """
    import numba

    numba.config.THREADING_LAYER = "workqueue"


def _run_key(config: Any, clips: Sequence[LabelledClip], start: str) -> str:
    from avr_gui.core.learn.train import config_json, data_fingerprint

    h = hashlib.sha256(config_json(config).encode("utf-8"))
    h.update(data_fingerprint(clips).encode("ascii"))
    h.update(start.encode("utf-8"))
    return h.hexdigest()[:16]


def starting_model(config: Any) -> tuple[str, Any]:
    """What a library's training starts from: the shipped pose model, or a seeded start.

    Fine-tuning the shipped model (trained on Penn Action) needs far fewer steps than
    learning from scratch; without it (not installed, or of another shape) training
    starts from the seed.

    Returns
    -------
    (str, TemporalEncoder or None)
        A name for reports and checkpoints (``"shipped <sha12>"`` or ``"scratch"``) and
        the encoder to start from.
    """
    from avr_gui.core.learn import shipped_pose_model, shipped_pose_model_path

    shipped = shipped_pose_model()
    if shipped is None or shipped.config != config.encoder:
        return "scratch", None
    npz = Path(f"{shipped_pose_model_path()}.npz")
    digest = hashlib.sha256(npz.read_bytes()).hexdigest()[:12]
    return f"shipped {digest}", shipped.encoder


def learn(
    lib: Library,
    labels: Mapping[str, str] | None = None,
    *,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    device: str | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> LearnSummary:
    """Teach ``lib`` a pose model from its labelled performer clips; use it from now on.

    Parameters
    ----------
    lib : Library
        Opened for writing; an ``auto`` library.
    labels : mapping of str to str, optional
        Catalog path -> label (e.g. :func:`read_labels_csv`); default: folder names.
    steps, seed : int
    device : str, optional
        ``"cpu"``, ``"cuda"``; default CUDA when present.
    progress : callable
        ``progress(step, steps, message)``.
    cancel : CancelToken, optional
        On cancel the checkpoint is kept (the next call with the same settings resumes
        from it) and :class:`~avr_gui.core.jobs.Cancelled` is raised.

    Returns
    -------
    LearnSummary

    Raises
    ------
    InputError
        Unusable labels or library, a read-only index (one line; nothing written).
    LibraryBusyError
        Another training of this library is running.
    Cancelled
    """
    from avr_gui.core.learn import LearnedModel, fit_standardizer, save_model, train_lrprop

    if lib.readonly:
        raise LibraryError(f"{lib.root}: opened read-only; cannot learn")
    config = train_config(steps, seed)
    progress(0, steps, "reading the stored poses")
    ts = training_set(lib, labels, cancel=cancel)
    _check_set(ts, by_folder=labels is None)
    if not os.access(lib.root, os.W_OK):
        raise LibraryError(f"{lib.root}: the index folder is not writable")
    folder = learned_dir(lib.root)
    folder.mkdir(exist_ok=True)
    started = time.perf_counter()
    with _training_lock(folder):
        start, init = starting_model(config)
        key = _run_key(config, ts.clips, start)
        ckpt = folder / f"checkpoint-{key}.npz"
        for old in folder.glob("checkpoint-*.npz"):
            if old != ckpt:  # another run's settings or data: never resumable now
                old.unlink(missing_ok=True)
        at = checkpoint_step(ckpt) if ckpt.is_file() else None
        if ckpt.is_file() and at is None:
            ckpt.unlink()  # unreadable (it cannot be: written atomically); start afresh
        first = f"resuming at step {at}" if at else "learning"
        progress(at or 0, steps, first)
        numba_without_spinning()
        # ``init`` only when there is a model to start from (older train_lrprop lacks it).
        extra = {"init": init} if init is not None else {}
        result = train_lrprop(
            ts.clips,
            config,
            checkpoint=ckpt,
            device=device,
            progress=progress,
            cancel=cancel,
            **extra,
        )
        progress(steps, steps, "fitting the descriptor statistics")
        # Statistics over every performer clip of the library, both orientations, so a
        # similarity means the same for labelled and unlabelled clips.
        every = training_set(lib, {p: "" for p in _indexed(lib)}, cancel=cancel)
        views = [v for c in every.clips for v in c.views]
        std = fit_standardizer(result.encoder, views)
        created = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
        counts = dict(sorted(Counter(ts.labels).items()))
        info = LearnedInfo(
            name=f"model-{time.time_ns():x}",
            created=created,
            labels=counts,
            clips=len(ts.clips),
            skipped=len(ts.skipped),
            steps=steps,
            seed=seed,
            started_from=start,
        )
        losses = [h["loss"] for h in result.history if "loss" in h]
        meta = {
            "kind": "library",
            "created": created,
            "labels": counts,
            "clips": ts.paths,
            "skipped": [list(s) for s in ts.skipped],
            "train_config": config.to_dict(),
            "started_from": start,
            "seconds": round(time.perf_counter() - started, 3),
            "device": result.device,
            "resumed_from": result.resumed_from,
            "final_loss": losses[-1] if losses else None,
        }
        save_model(folder / info.name, LearnedModel(result.encoder, std, meta))
        previous = _read_pointer_quiet(folder)
        write_text(folder / POINTER, json.dumps(_pointer_doc(info), indent=1) + "\n")
        if previous is not None and previous.name != info.name:
            _remove_model(folder, previous.name)
        ckpt.unlink(missing_ok=True)
    return LearnSummary(
        info,
        result.resumed_from,
        time.perf_counter() - started,
        result.device,
        ts.skipped,
        losses[-1] if losses else None,
    )


def _indexed(lib: Library) -> list[str]:
    return [e.path for e in lib.entries() if e.status == "indexed"]


def _pointer_doc(info: LearnedInfo) -> dict:
    return asdict(info)


def _read_pointer_quiet(folder: Path) -> LearnedInfo | None:
    try:
        return _read_pointer(folder)
    except InputError:
        return None


def _remove_model(folder: Path, name: str) -> None:
    for suffix in (".npz", ".json"):
        (folder / f"{name}{suffix}").unlink(missing_ok=True)


def revert(lib: Library) -> bool:
    """Remove the library's learned model (and any unfinished training of it).

    Queries compare performer clips on the default pose features again.

    Parameters
    ----------
    lib : Library
        Opened for writing.

    Returns
    -------
    bool
        Whether there was anything to remove.

    Raises
    ------
    LibraryError
        Read-only, or a training of this library is running.
    """
    if lib.readonly:
        raise LibraryError(f"{lib.root}: opened read-only; cannot revert the learned model")
    folder = learned_dir(lib.root)
    if not folder.exists():
        return False
    if _busy(folder):
        raise LibraryBusyError(
            f"{lib.root}: a training of this library is running; cancel it first"
        )
    # The pointer goes first: from that moment queries use the default features, and
    # a revert killed half-way leaves only unused files behind (removed by the next).
    (folder / POINTER).unlink(missing_ok=True)
    shutil.rmtree(folder)
    return True
