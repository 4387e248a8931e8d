"""Learned models and training checkpoints on disk, without pickle.

A model is two files side by side: ``NAME.npz`` (the weights, loaded with
``allow_pickle=False``) and ``NAME.json`` (the encoder's shape, the descriptor
statistics, what it was trained on, and the SHA-256 of the ``.npz`` so a half-updated
pair is refused instead of loaded). A checkpoint is one ``.npz`` (weights, Adam's
moments, and a JSON record of the step, settings and loss history stored as bytes), so
it is replaced in one atomic rename and a ``kill -9`` leaves the previous one whole.

safetensors is not installed in the project's environment; numpy's ``.npz`` without
pickle is just as safe to load and needs nothing new.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from avr_gui.core.atomic import atomic_path, write_text
from avr_gui.core.errors import InputError
from avr_gui.core.features.pose.motion import DescriptorStandardizer
from avr_gui.core.learn.infer import FORMAT, VERSION, model_paths, read_model_files
from avr_gui.core.learn.model import EncoderConfig, TemporalEncoder

# The files' format and their checked reading live with the torch-free reader.
__all__ = ["FORMAT", "VERSION", "LearnedModel", "load_model", "model_paths", "save_model"]


@dataclass
class LearnedModel:
    """A trained encoder and what the product needs to use it.

    Attributes
    ----------
    encoder : TemporalEncoder
        In eval mode, on the CPU.
    standardizer : DescriptorStandardizer or None
        Statistics of the clip descriptors of the embeddings
        (:func:`~avr_gui.core.learn.apply.clip_descriptor`) over the training clips and
        their mirror images.
    meta : dict
        Everything else recorded at training time (data, settings, seconds, figures).
    """

    encoder: TemporalEncoder
    standardizer: DescriptorStandardizer | None = None
    meta: dict = field(default_factory=dict)

    @property
    def config(self) -> EncoderConfig:
        """The encoder's shape."""
        return self.encoder.config


def _arrays_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> str:
    data = _arrays_bytes(arrays)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not a readable model file: {exc}") from exc


def save_model(path: str | os.PathLike[str], model: LearnedModel) -> tuple[Path, Path]:
    """Write a model as ``NAME.npz`` + ``NAME.json``, each atomically (weights first).

    Parameters
    ----------
    path : path-like
        ``NAME``, ``NAME.npz`` or ``NAME.json``; the folder must exist.
    model : LearnedModel

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        The weights and the description.
    """
    npz, js = model_paths(path)
    weights = {k: v.detach().cpu().numpy() for k, v in model.encoder.state_dict().items()}
    digest = _write_npz(npz, weights)
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "encoder": model.config.to_dict(),
        "weights": npz.name,
        "sha256": digest,
        "meta": model.meta,
    }
    if model.standardizer is not None:
        doc["descriptor_mean"] = np.round(model.standardizer.mean, 7).tolist()
        doc["descriptor_std"] = np.round(model.standardizer.std, 7).tolist()
    write_text(js, json.dumps(doc, indent=1) + "\n")
    return npz, js


def load_model(path: str | os.PathLike[str]) -> LearnedModel:
    """Read a model written by :func:`save_model`.

    Parameters
    ----------
    path : path-like
        ``NAME``, ``NAME.npz`` or ``NAME.json``.

    Returns
    -------
    LearnedModel

    Raises
    ------
    InputError
        A file is missing, unreadable, of another format, or the weights do not match
        the description (one line each).
    """
    files = read_model_files(path)
    encoder = TemporalEncoder(files.config)
    try:
        encoder.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in files.arrays.items()})
    except RuntimeError as exc:
        raise InputError(
            f"{model_paths(path)[0]} does not fit its encoder settings: {exc}"
        ) from exc
    encoder.eval()
    return LearnedModel(encoder, files.standardizer, files.meta)


def save_checkpoint(
    path: str | os.PathLike[str],
    encoder: TemporalEncoder,
    optimizer: torch.optim.Optimizer,
    record: dict,
) -> None:
    """Write weights, Adam's state and a JSON record to one ``.npz``, atomically.

    Parameters
    ----------
    path : path-like
    encoder : TemporalEncoder
    optimizer : torch.optim.Optimizer
    record : dict
        JSON-ready (step, settings, fingerprint, history).
    """
    arrays: dict[str, np.ndarray] = {
        f"model.{k}": v.detach().cpu().numpy() for k, v in encoder.state_dict().items()
    }
    state = optimizer.state_dict()
    for idx, slots in state["state"].items():
        for name, value in slots.items():
            arrays[f"opt.{idx}.{name}"] = torch.as_tensor(value).detach().cpu().numpy()
    rec = dict(record, param_groups=state["param_groups"])
    arrays["record"] = np.frombuffer(json.dumps(rec).encode("utf-8"), np.uint8)
    _write_npz(Path(path), arrays)


def load_checkpoint(
    path: str | os.PathLike[str],
    encoder: TemporalEncoder,
    optimizer: torch.optim.Optimizer,
) -> dict:
    """Restore a checkpoint into ``encoder`` and ``optimizer``; return its record.

    Raises
    ------
    InputError
        Unreadable, or not a checkpoint of this encoder.
    """
    arrays = _read_npz(Path(path))
    if "record" not in arrays:
        raise InputError(f"{path} is not a training checkpoint")
    rec = json.loads(arrays["record"].tobytes().decode("utf-8"))
    device = next(encoder.parameters()).device
    model_state = {k[6:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("model.")}
    try:
        encoder.load_state_dict(model_state)
    except RuntimeError as exc:
        raise InputError(f"{path} does not fit this encoder: {exc}") from exc
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in arrays.items():
        if k.startswith("opt."):
            _, idx, name = k.split(".", 2)
            t = torch.from_numpy(np.array(v))
            opt_state.setdefault(int(idx), {})[name] = t if name == "step" else t.to(device)
    optimizer.load_state_dict({"state": opt_state, "param_groups": rec.pop("param_groups")})
    return rec
