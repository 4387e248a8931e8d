"""A learned encoder's files read, and its embeddings computed, with NumPy alone.

Queries embed every performer clip with the pose model (the shipped one, or a
library's own from ``avr learn``). Loading that model through torch cost a command-line
query 1.7 s of its 3.5 s, for a forward pass of a few milliseconds. So the product reads
the model's ``.npz`` + ``.json`` here and runs :class:`~avr_gui.core.learn.model.
TemporalEncoder`'s forward pass in NumPy; torch stays for training
(:mod:`~avr_gui.core.learn.train`) and for :func:`~avr_gui.core.learn.store.load_model`,
which builds the torch module from the same checked files. The two forward passes agree
to float32 rounding (``tests/unit/test_learn_infer.py``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avr_gui.core.errors import InputError, ShapeError
from avr_gui.core.features.pose.motion import DescriptorStandardizer
from avr_gui.core.learn.config import EncoderConfig

FORMAT = "avr-lrprop"
VERSION = 1
#: torch's LayerNorm default, which the encoder was trained with.
_LN_EPS = 1e-5


def model_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The ``.npz`` and ``.json`` of a model named by either (or by its stem)."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".npz", ".json") else p
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


@dataclass(frozen=True)
class ModelFiles:
    """A model's files, read and checked.

    Attributes
    ----------
    config : EncoderConfig
    arrays : dict of str to numpy.ndarray
        The encoder's weights by torch ``state_dict`` name.
    standardizer : DescriptorStandardizer or None
    meta : dict
    """

    config: EncoderConfig
    arrays: dict[str, np.ndarray]
    standardizer: DescriptorStandardizer | None
    meta: dict


def read_model_files(path: str | os.PathLike[str]) -> ModelFiles:
    """Read a model written by :func:`~avr_gui.core.learn.store.save_model`.

    Parameters
    ----------
    path : path-like
        ``NAME``, ``NAME.npz`` or ``NAME.json``.

    Returns
    -------
    ModelFiles

    Raises
    ------
    InputError
        A file is missing, unreadable, of another format, or the weights do not match
        the description (one line each).
    """
    npz, js = model_paths(path)
    for p in (npz, js):
        if not p.is_file():
            raise InputError(f"learned model file missing: {p}")
    try:
        doc = json.loads(js.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{js} is not a readable model description: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f"{js} is not an AVR learned model")
    if int(doc.get("version", 0)) > VERSION:
        raise InputError(f"{js} was written by a newer AVR Studio (version {doc['version']})")
    try:
        data = npz.read_bytes()
    except OSError as exc:
        raise InputError(f"{npz} is not a readable model file: {exc}") from exc
    if hashlib.sha256(data).hexdigest() != doc.get("sha256"):
        raise InputError(f"{npz} does not match {js.name} (a half-written or swapped model)")
    config = EncoderConfig.from_dict(doc["encoder"])
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"{npz} is not a readable model file: {exc}") from exc
    std = None
    if "descriptor_mean" in doc:
        std = DescriptorStandardizer.from_stats(doc["descriptor_mean"], doc["descriptor_std"])
    return ModelFiles(config, arrays, std, dict(doc.get("meta", {})))


def _expected_shapes(c: EncoderConfig) -> dict[str, tuple[int, ...]]:
    """Every weight of a :class:`~avr_gui.core.learn.model.TemporalEncoder` and its shape."""
    shapes: dict[str, tuple[int, ...]] = {
        "inp.weight": (c.hidden, c.input_dim + 1, 1),
        "inp.bias": (c.hidden,),
        "norm.weight": (c.hidden,),
        "norm.bias": (c.hidden,),
        "out.weight": (c.output_dim, c.hidden),
        "out.bias": (c.output_dim,),
    }
    for b in range(len(c.dilations)):
        shapes[f"blocks.{b}.norm.weight"] = (c.hidden,)
        shapes[f"blocks.{b}.norm.bias"] = (c.hidden,)
        shapes[f"blocks.{b}.conv.weight"] = (c.hidden, c.hidden, c.kernel)
        shapes[f"blocks.{b}.conv.bias"] = (c.hidden,)
        shapes[f"blocks.{b}.mix.weight"] = (c.hidden, c.hidden, 1)
        shapes[f"blocks.{b}.mix.bias"] = (c.hidden,)
    return shapes


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + np.float32(_LN_EPS)) * gain + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # The exact (erf) GELU, torch's default.
    from scipy.special import erf

    return np.float32(0.5) * x * (np.float32(1.0) + erf(x * np.float32(1.0 / np.sqrt(2.0))))


class NumpyEncoder:
    """:class:`~avr_gui.core.learn.model.TemporalEncoder`'s forward pass in NumPy.

    Parameters
    ----------
    config : EncoderConfig
    arrays : dict of str to numpy.ndarray
        The encoder's weights by ``state_dict`` name (float32).

    Raises
    ------
    InputError
        A weight is missing, extra, or of the wrong shape for ``config``.
    """

    def __init__(self, config: EncoderConfig, arrays: dict[str, np.ndarray]) -> None:
        expected = _expected_shapes(config)
        if set(arrays) != set(expected):
            missing = sorted(set(expected) - set(arrays))
            extra = sorted(set(arrays) - set(expected))
            raise InputError(
                f"the weights do not fit the encoder settings (missing {missing[:3]}, "
                f"unexpected {extra[:3]})"
            )
        for name, shape in expected.items():
            if arrays[name].shape != shape:
                raise InputError(
                    f"weight {name} has shape {arrays[name].shape}, the settings need {shape}"
                )
        self.config = config
        w = {k: np.ascontiguousarray(v, np.float32) for k, v in arrays.items()}
        self._w = w
        # Per block, the dilated kernel's taps as [in, out] matrices (one product each).
        self._taps = [
            [
                np.ascontiguousarray(w[f"blocks.{b}.conv.weight"][:, :, s].T)
                for s in range(config.kernel)
            ]
            for b in range(len(config.dilations))
        ]

    def __call__(self, features: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Embed one clip.

        Parameters
        ----------
        features : numpy.ndarray, shape (T, input_dim)
        valid : numpy.ndarray, shape (T,), bool

        Returns
        -------
        numpy.ndarray, shape (T, output_dim), float32
            L2-normalised per frame (zero rows where the output is all zero).
        """
        c, w = self.config, self._w
        f = np.asarray(features, np.float32)
        v = np.asarray(valid, bool)
        if f.ndim != 2 or f.shape[1] != c.input_dim or v.shape != (f.shape[0],):
            raise ShapeError(
                f"features [T, {c.input_dim}] and valid [T] expected, got {f.shape} and {v.shape}"
            )
        t = f.shape[0]
        vf = v.astype(np.float32)[:, None]
        x = np.concatenate([f * vf, vf], axis=1)
        h = x @ w["inp.weight"][:, :, 0].T + w["inp.bias"]
        half = c.kernel // 2
        for b, d in enumerate(c.dilations):
            n = _layer_norm(h, w[f"blocks.{b}.norm.weight"], w[f"blocks.{b}.norm.bias"])
            # Replicate padding, as the torch module's: clip ends look held, not zero.
            padded = np.pad(n, ((d * half, d * half), (0, 0)), mode="edge")
            conv = np.empty_like(h)
            conv[:] = w[f"blocks.{b}.conv.bias"]
            for s, tap in enumerate(self._taps[b]):
                conv += padded[s * d : s * d + t] @ tap
            h = h + _gelu(conv) @ w[f"blocks.{b}.mix.weight"][:, :, 0].T + w[f"blocks.{b}.mix.bias"]
        e = _layer_norm(h, w["norm.weight"], w["norm.bias"]) @ w["out.weight"].T + w["out.bias"]
        norms = np.maximum(np.linalg.norm(e, axis=1, keepdims=True), np.float32(1e-8))
        return (e / norms).astype(np.float32)


@dataclass(frozen=True)
class InferenceModel:
    """A learned model ready to embed clips without torch.

    Attributes
    ----------
    encoder : NumpyEncoder
    standardizer : DescriptorStandardizer or None
        Statistics of the clip descriptors (see :class:`~avr_gui.core.learn.store.
        LearnedModel`).
    meta : dict
    """

    encoder: NumpyEncoder
    standardizer: DescriptorStandardizer | None = None
    meta: dict = field(default_factory=dict)

    @property
    def config(self) -> EncoderConfig:
        """The encoder's shape."""
        return self.encoder.config


def load_inference_model(path: str | os.PathLike[str]) -> InferenceModel:
    """Read a model for embedding clips (no torch).

    Parameters
    ----------
    path : path-like
        ``NAME``, ``NAME.npz`` or ``NAME.json``.

    Returns
    -------
    InferenceModel

    Raises
    ------
    InputError
        As :func:`read_model_files`, or weights that do not fit the settings.
    """
    files = read_model_files(path)
    try:
        encoder = NumpyEncoder(files.config, files.arrays)
    except InputError as exc:
        raise InputError(
            f"{model_paths(path)[0]} does not fit its encoder settings: {exc}"
        ) from None
    return InferenceModel(encoder, files.standardizer, files.meta)
