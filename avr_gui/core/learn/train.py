"""LRProp training as a core job: progress, cancel, atomic checkpoints, resume, seeded.

Inputs are frozen per-frame features of labelled clips (no video is decoded). Each step
draws ``pairs_per_step`` pairs of clips that share a label, one stored *view* of each
(e.g. the clip as filmed and mirrored, or augmented copies), embeds both, and takes the
LRProp loss (:mod:`~avr_gui.core.learn.loss`) on their valid frames.

Determinism: every random choice of step ``k`` comes from ``numpy.random.default_rng
([seed, k])`` and the learning rate is a function of ``k``, so a run resumed from the
checkpoint of step ``k`` continues exactly as the uninterrupted run would have; the
encoder is initialised from its own seeded generator. Same seed, same data, same
machine: the same weights (tested).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from avr_gui.core.device import resolve_device
from avr_gui.core.errors import InputError
from avr_gui.core.features.pose.motion import motion_weights
from avr_gui.core.jobs import Cancelled, CancelToken, ProgressCallback, no_progress
from avr_gui.core.learn.loss import (
    SoftDTWDivergence,
    clip_contrastive_loss,
    propagation_loss,
    sigma2_at,
    weighted_descriptor,
)
from avr_gui.core.learn.model import EncoderConfig, TemporalEncoder, build_encoder
from avr_gui.core.learn.store import load_checkpoint, save_checkpoint

#: ``monitor(step, encoder) -> {name: value}``: extra figures for the training curves.
Monitor = Callable[[int, TemporalEncoder], dict[str, float]]


@dataclass(frozen=True)
class LabelledClip:
    """One training clip: its label and one or more views of its frames.

    Attributes
    ----------
    label : str
    views : tuple of (numpy.ndarray [T, d] float32, numpy.ndarray [T] bool)
        Alternative feature sequences of the same clip (as filmed, mirrored,
        augmented); each step uses one at random.
    """

    label: str
    views: tuple[tuple[np.ndarray, np.ndarray], ...]


@dataclass(frozen=True)
class TrainConfig:
    """LRProp settings.

    Attributes
    ----------
    steps : int
    pairs_per_step : int
    lr : float
        Adam's peak rate; cosine decay to 1 % of it over ``steps`` after a warm-up.
    warmup : int
        Steps of linear warm-up.
    tau : float
        Softmax temperature (the paper's 0.1).
    fps : float
        Frame rate of the features; sets the prior's variance in frames.
    sigma2 : float or None
        Prior variance in frames squared; None: the paper's 10 at 30 fps, scaled to ``fps``.
    sdtw_gamma, sdtw_weight : float
        Soft-DTW smoothing and the weight of its divergence beside the KL term.
    negatives : bool
        Draw a clip of another label per pair whose frames join the softmax as
        negatives (:func:`~avr_gui.core.learn.loss.propagation_loss`).
    clip_weight, clip_tau : float
        Weight and temperature of the supervised contrastive loss on the clips' motion-
        weighted descriptors (:func:`~avr_gui.core.learn.loss.clip_contrastive_loss`);
        0 turns it off.
    max_frames : int
        Longer views are cut to a random window this long (bounds a step's cost).
    seed : int
    checkpoint_every : int
        Steps between checkpoints (and ``monitor`` calls).
    encoder : EncoderConfig
    """

    steps: int = 2000
    pairs_per_step: int = 8
    lr: float = 1e-3
    warmup: int = 50
    tau: float = 0.1
    fps: float = 10.0
    sigma2: float | None = None
    sdtw_gamma: float = 0.1
    sdtw_weight: float = 1.0
    negatives: bool = True
    clip_weight: float = 1.0
    clip_tau: float = 0.1
    max_frames: int = 240
    seed: int = 0
    checkpoint_every: int = 100
    encoder: EncoderConfig = field(default_factory=EncoderConfig)

    def to_dict(self) -> dict:
        """JSON-ready settings."""
        d = asdict(self)
        d["encoder"] = self.encoder.to_dict()
        return d

    @property
    def prior_sigma2(self) -> float:
        """The prior variance in frames squared actually used."""
        return float(self.sigma2) if self.sigma2 is not None else sigma2_at(self.fps)


@dataclass
class TrainResult:
    """What a finished training returns.

    Attributes
    ----------
    encoder : TemporalEncoder
        On the CPU, in eval mode.
    history : list of dict
        Per step: ``step``, ``loss``, ``kl``, ``sdtw``, ``lr``; monitor figures at
        checkpoint steps.
    resumed_from : int
        The step the run started from (0 for a fresh run).
    seconds : float
        Wall time of this call.
    device : str
    """

    encoder: TemporalEncoder
    history: list[dict]
    resumed_from: int
    seconds: float
    device: str


def check_training_set(labels: Sequence[str]) -> None:
    """Refuse a set of labels LRProp cannot train on, with a one-line reason.

    Raises
    ------
    InputError
        No clips, fewer than two labels, or a label held by a single clip.
    """
    if not labels:
        raise InputError("no labelled clips to learn from")
    names, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
    if len(names) < 2:
        raise InputError(f"only one label ({names[0]!r}): learning needs at least two")
    lonely = names[counts < 2]
    if len(lonely):
        shown = ", ".join(repr(str(n)) for n in lonely[:3]) + (" ..." if len(lonely) > 3 else "")
        raise InputError(f"labels held by a single clip (need two each): {shown}")


def data_fingerprint(clips: Sequence[LabelledClip]) -> str:
    """A hash of the labels and every view's shape and bytes (a checkpoint's data)."""
    h = hashlib.sha256()
    for c in clips:
        h.update(c.label.encode("utf-8") + b"\0")
        for f, v in c.views:
            fa = np.ascontiguousarray(f, np.float32)
            h.update(str(fa.shape).encode())
            h.update(fa.tobytes())
            h.update(np.ascontiguousarray(v, bool).tobytes())
    return h.hexdigest()


def learning_rate(config: TrainConfig, step: int) -> float:
    """Warm-up then cosine decay to 1 % of ``config.lr`` (a function of the step only)."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    t = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.lr * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * min(t, 1.0))))


#: One view of a clip: features ``[T, d]`` and validity ``[T]``.
View = tuple[np.ndarray, np.ndarray]


def _window(view: View, max_frames: int, rng: np.random.Generator) -> View:
    f, v = view
    if len(f) <= max_frames:
        return f, v
    s = int(rng.integers(0, len(f) - max_frames + 1))
    return f[s : s + max_frames], v[s : s + max_frames]


def _draw_pairs(
    by_label: list[np.ndarray],
    clips: Sequence[LabelledClip],
    config: TrainConfig,
    rng: np.random.Generator,
) -> list[tuple[View, View, View | None, int, int]]:
    def view(k: int) -> View:
        views = clips[k].views
        return _window(views[int(rng.integers(len(views)))], config.max_frames, rng)

    pairs = []
    for _ in range(config.pairs_per_step):
        label = int(rng.integers(len(by_label)))
        a, b = rng.choice(by_label[label], 2, replace=False)
        other = int(rng.integers(len(by_label) - 1))
        other += other >= label  # any label but this one
        neg = view(int(rng.choice(by_label[other]))) if config.negatives else None
        pairs.append((view(int(a)), view(int(b)), neg, label, other))
    return pairs


def _embed_valid(
    encoder: TemporalEncoder, view: View, device: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings of a view's valid frames ``[n, D]`` and their motion weights ``[n]``."""
    f, v = view
    v = np.asarray(v, bool)
    ft = torch.as_tensor(np.asarray(f, np.float32), device=device)[None]
    vt = torch.as_tensor(v, device=device)[None]
    w = motion_weights(np.asarray(f)[v]) if v.any() else np.zeros(0)
    return encoder(ft, vt)[0][vt[0]], torch.as_tensor(w, dtype=torch.float32, device=device)


@contextlib.contextmanager
def _one_numba_thread() -> Iterator[None]:
    # tslearn's soft-DTW kernels are parallel over the batch, and a pair is a batch of
    # one: numba's pool only adds start-up and, on a busy machine, spinning (measured
    # 10x slower per step under a load of 3). The setting is per calling thread; the
    # backward pass runs in this thread too (CPU autograd), inside the block.
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _record(config: TrainConfig, fingerprint: str, step: int, history: list[dict]) -> dict:
    return {
        "step": step,
        "config": config.to_dict(),
        "fingerprint": fingerprint,
        "history": history,
    }


def _step(
    encoder: TemporalEncoder,
    opt: torch.optim.Optimizer,
    sdtw: SoftDTWDivergence,
    pairs: list,
    config: TrainConfig,
    dev: str,
) -> dict | None:
    """One optimisation step on drawn pairs; the loss terms, or None if none was usable."""
    kl_sum = sd_sum = 0.0
    terms = []
    descs: list[torch.Tensor] = []
    labels: list[int] = []
    for va, vb, vc, label, other in pairs:
        a, wa = _embed_valid(encoder, va, dev)
        b, wb = _embed_valid(encoder, vb, dev)
        if len(a) < 2 or len(b) < 2:
            continue
        c, wc = _embed_valid(encoder, vc, dev) if vc is not None else (None, None)
        neg = c if c is not None and len(c) > 0 else None
        kl, _ = propagation_loss(a, b, sigma2=config.prior_sigma2, tau=config.tau, negatives=neg)
        # Weight 0 skips the term (and its first-call compilation).
        sd = sdtw(a, b) if config.sdtw_weight > 0 else kl.new_zeros(())
        terms.append(kl + config.sdtw_weight * sd)
        kl_sum += float(kl.detach())
        sd_sum += float(sd.detach())
        descs += [weighted_descriptor(a, wa), weighted_descriptor(b, wb)]
        labels += [label, label]
        if c is not None and len(c) >= 2:
            descs.append(weighted_descriptor(c, wc))
            labels.append(other)
    if not terms:
        return None
    loss = torch.stack(terms).mean()
    clip = torch.zeros(())
    if config.clip_weight > 0:
        clip = clip_contrastive_loss(torch.stack(descs), np.array(labels), config.clip_tau)
        loss = loss + config.clip_weight * clip
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
    opt.step()
    k = len(terms)
    return {
        "loss": round(float(loss.detach()), 6),
        "kl": round(kl_sum / k, 6),
        "sdtw": round(sd_sum / k, 6),
        "clip": round(float(clip.detach()), 6),
    }


def train_lrprop(
    clips: Sequence[LabelledClip],
    config: TrainConfig = TrainConfig(),
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    device: str | None = None,
    init: TemporalEncoder | None = None,
    monitor: Monitor | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> TrainResult:
    """Train a temporal encoder with LRProp; resume from ``checkpoint`` if it exists.

    Parameters
    ----------
    clips : sequence of LabelledClip
        Every label held by at least two clips (:func:`check_training_set`).
    config : TrainConfig
    checkpoint : path-like, optional
        Written atomically every ``config.checkpoint_every`` steps, on cancel and at the
        end; an existing one of the same settings and data is resumed from.
    device : str, optional
        ``"cpu"``, ``"cuda"``; default: CUDA when present
        (:func:`~avr_gui.core.device.resolve_device`).
    init : TemporalEncoder, optional
        Start from these weights instead of a seeded initialisation (fine-tuning, e.g.
        the shipped model on a user's library); its shape must be ``config.encoder``.
        Not modified.
    monitor : callable, optional
        ``(step, encoder) -> dict`` called at each checkpoint step; stored in the history.
    progress : callable
        ``progress(step, steps, message)``.
    cancel : CancelToken, optional
        Checked every step; on cancel the checkpoint is written, then
        :class:`~avr_gui.core.jobs.Cancelled` is raised.

    Returns
    -------
    TrainResult

    Raises
    ------
    InputError
        Unusable labels, views of the wrong width, or a checkpoint of other settings or
        data (one line; the checkpoint is left alone).
    Cancelled
    """
    check_training_set([c.label for c in clips])
    d_in = config.encoder.input_dim
    for c in clips:
        if not c.views:
            raise InputError(f"a clip of label {c.label!r} has no frames")
        for f, v in c.views:
            if np.ndim(f) != 2 or np.shape(f)[1] != d_in or np.shape(v) != (np.shape(f)[0],):
                raise InputError(
                    f"a clip of label {c.label!r} has features {np.shape(f)}, expected [T, {d_in}]"
                )
    started = time.perf_counter()
    dev = resolve_device(device)
    labels = np.asarray([c.label for c in clips], dtype=str)
    by_label = [np.flatnonzero(labels == name) for name in np.unique(labels)]
    fingerprint = data_fingerprint(clips)
    encoder = build_encoder(config.encoder, config.seed)
    if init is not None:
        if init.config != config.encoder:
            raise InputError(
                f"the starting model's shape {init.config} differs from {config.encoder}"
            )
        encoder.load_state_dict(init.state_dict())
        # A checkpoint of a fine-tuning resumes only from the same starting weights.
        h = hashlib.sha256(fingerprint.encode())
        for v in init.state_dict().values():
            h.update(v.detach().cpu().numpy().tobytes())
        fingerprint = h.hexdigest()
    encoder = encoder.to(dev)
    encoder.train()
    opt = torch.optim.Adam(encoder.parameters(), lr=config.lr)
    sdtw = SoftDTWDivergence(config.sdtw_gamma)
    ckpt = Path(checkpoint) if checkpoint is not None else None
    history: list[dict] = []
    step = 0
    if ckpt is not None and ckpt.is_file():
        rec = load_checkpoint(ckpt, encoder, opt)
        if rec.get("config") != config.to_dict() or rec.get("fingerprint") != fingerprint:
            raise InputError(
                f"{ckpt} is a checkpoint of other settings or data; delete it to start afresh"
            )
        step, history = int(rec["step"]), list(rec["history"])
    resumed_from = step

    def save() -> None:
        if ckpt is not None:
            save_checkpoint(ckpt, encoder, opt, _record(config, fingerprint, step, history))

    while step < config.steps:
        if cancel is not None and cancel.cancelled:
            save()
            raise Cancelled("training cancelled by the user; resume from the checkpoint")
        rng = np.random.default_rng([config.seed, step])
        lr = learning_rate(config, step)
        for group in opt.param_groups:
            group["lr"] = lr
        with _one_numba_thread():
            row = _step(encoder, opt, sdtw, _draw_pairs(by_label, clips, config, rng), config, dev)
        if row is not None:
            history.append({"step": step, **row, "lr": lr})
        step += 1
        if step % config.checkpoint_every == 0 or step == config.steps:
            if monitor is not None:
                encoder.eval()
                figures = monitor(step, encoder)
                encoder.train()
                history.append({"step": step, **{k: float(v) for k, v in figures.items()}})
            save()
        last = next((h for h in reversed(history) if "loss" in h), None)
        msg = f"learning: step {step}/{config.steps}"
        if last is not None:
            msg += f", loss {last['loss']:.3f}"
        progress(step, config.steps, msg)
    encoder.eval()
    return TrainResult(encoder.cpu(), history, resumed_from, time.perf_counter() - started, dev)


def config_json(config: TrainConfig) -> str:
    """The settings as one line of JSON (for a model card or a log)."""
    return json.dumps(config.to_dict(), sort_keys=True)
