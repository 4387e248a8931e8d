"""EfficientNet-Lite0 on ONNX Runtime: the CPU path of the ``effnet-lite0`` encoder.

The network of :mod:`~avr_gui.core.features.efficientnet` is written out as an ONNX graph
straight from its state dict (no tracing exporter): batch norms folded into the
convolutions, ReLU6 as ``Clip``, global pooling at the end. The graph takes the frames
as the encoder has them, resized BGR ``uint8 [B, S, S, 3]``, and does the rest of the
preprocessing itself (``x / 255 * 2 - 1``, NCHW); the BGR-to-RGB swap is folded into the
stem's weights by reversing their input channels, which is exact. Any ``S`` works: the
convolutions and the global pooling do not fix it.

The graph is built once per weights file and kept in the per-user cache folder
(``$XDG_CACHE_HOME/avr-studio/onnx``, else ``~/.cache/avr-studio/onnx``), written
atomically, its name carrying the weights' digest, the pooling, :data:`GRAPH_VERSION`
and the first digits of its own SHA-256, so a damaged file is recognised, removed and
built again. Later runs load it without importing torch. Where the folder cannot be
written the graph is kept in memory for the process.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from avr_gui.core.atomic import remove_stale_temps, write_bytes
from avr_gui.core.features.base import WeightsError

log = logging.getLogger(__name__)

#: Bumped whenever :func:`lite0_graph` would write a different graph for the same weights,
#: so files built by older code are not reused.
GRAPH_VERSION = 1
#: The ONNX opset the graph uses; every op in it is unchanged since well before it.
OPSET = 17
# IR version 8 is read by every onnxruntime from 1.14 on, so a cached file stays usable.
_IR_VERSION = 8
INPUT_NAME = "bgr"
OUTPUT_NAME = "features"


def cache_dir() -> Path:
    """Folder of the built ONNX graphs (``$XDG_CACHE_HOME/avr-studio/onnx``).

    Returns
    -------
    pathlib.Path
        Not created here.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "avr-studio" / "onnx"


def default_threads() -> int:
    """Intra-op threads: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------ graph building


def _fold_bn(
    state: Mapping[str, np.ndarray], conv: str, bn: str, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and bias of ``conv`` followed by the batch norm ``bn`` (inference mode)."""
    w = np.asarray(state[f"{conv}.weight"], np.float64)
    gamma = np.asarray(state[f"{bn}.weight"], np.float64)
    beta = np.asarray(state[f"{bn}.bias"], np.float64)
    mean = np.asarray(state[f"{bn}.running_mean"], np.float64)
    var = np.asarray(state[f"{bn}.running_var"], np.float64)
    scale = gamma / np.sqrt(var + eps)
    # Folded in float64 and rounded once, so the fold adds less error than float32 BN.
    return (w * scale[:, None, None, None]).astype(np.float32), (beta - mean * scale).astype(
        np.float32
    )


def lite0_graph(state: Mapping[str, np.ndarray], pooling: str = "avg") -> Any:
    """The ONNX model of EfficientNet-Lite0 features with the given weights.

    Parameters
    ----------
    state : mapping of str to numpy.ndarray
        The state dict of :class:`~avr_gui.core.features.efficientnet.EfficientNetLite0`
        (its parameter names), as arrays.
    pooling : {"avg", "avgmax"}

    Returns
    -------
    onnx.ModelProto
        Input ``bgr``: uint8 ``[B, S, S, 3]`` (any ``B`` and ``S``); output ``features``:
        float32 ``[B, 1280]`` (``avg``) or ``[B, 2560]`` (``avgmax``: average then max).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from avr_gui.core.features.efficientnet import BN_EPS, STAGES

    nodes: list[Any] = []
    inits: list[Any] = []
    names = iter(range(1 << 30))

    def const(value: np.ndarray) -> str:
        name = f"c{next(names)}"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], **attrs: object) -> str:
        out = f"t{next(names)}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    relu6 = (const(np.float32(0.0)), const(np.float32(6.0)))

    def conv_bn(
        x: str,
        conv: str,
        bn: str,
        *,
        stride: int = 1,
        groups: int = 1,
        act: bool = True,
        flip_input: bool = False,
    ) -> str:
        w, b = _fold_bn(state, conv, bn, BN_EPS)
        if flip_input:
            w = np.ascontiguousarray(w[:, ::-1])  # RGB weights applied to BGR input
        k = w.shape[-1]
        y = node(
            "Conv",
            [x, const(w), const(b)],
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[k // 2] * 4,
            group=groups,
        )
        return node("Clip", [y, *relu6]) if act else y

    x = node("Transpose", [INPUT_NAME], perm=[0, 3, 1, 2])
    x = node("Cast", [x], to=TensorProto.FLOAT)
    # The same three float32 steps as the torch path: / 255 (as * 1/255), * 2, - 1.
    x = node("Mul", [x, const(np.float32(1.0 / 255.0))])
    x = node("Mul", [x, const(np.float32(2.0))])
    x = node("Sub", [x, const(np.float32(1.0))])
    x = conv_bn(x, "_conv_stem", "_bn0", stride=2, flip_input=True)
    c, k = int(state["_conv_stem.weight"].shape[0]), 0
    for repeats, _kernel, stride, expand, c_out in STAGES:
        for r in range(repeats):
            p = f"_blocks.{k}"
            y = x
            if expand != 1:
                y = conv_bn(y, f"{p}._expand_conv", f"{p}._bn0")
            mid = c * expand
            y = conv_bn(
                y, f"{p}._depthwise_conv", f"{p}._bn1", stride=stride if r == 0 else 1, groups=mid
            )
            y = conv_bn(y, f"{p}._project_conv", f"{p}._bn2", act=False)
            x = node("Add", [y, x]) if (stride == 1 or r > 0) and c == c_out else y
            c, k = c_out, k + 1
    x = conv_bn(x, "_conv_head", "_bn1")
    pooled = node("GlobalAveragePool", [x])
    if pooling == "avgmax":
        pooled = node("Concat", [pooled, node("GlobalMaxPool", [x])], axis=1)
    nodes.append(helper.make_node("Flatten", [pooled], [OUTPUT_NAME], axis=1))
    graph = helper.make_graph(
        nodes,
        "efficientnet_lite0_features",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, ["B", "S", "S", 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["B", "D"])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="avr-studio",
        producer_version=str(GRAPH_VERSION),
    )
    model.ir_version = _IR_VERSION
    onnx.checker.check_model(model)
    return model


# ------------------------------------------------------------------ the cached file


def _content_tag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def cached_graph(
    weights_digest: str,
    pooling: str,
    build: Callable[[], bytes],
    *,
    folder: str | os.PathLike[str] | None = None,
) -> tuple[bytes, Path | None]:
    """The serialised graph for these weights, from the cache or built and cached now.

    Parameters
    ----------
    weights_digest : str
        :func:`~avr_gui.core.features.base.file_digest` of the weights file.
    pooling : str
    build : callable
        Returns the serialised graph; called only when no intact cached file exists.
    folder : path-like, optional
        Default :func:`cache_dir`.

    Returns
    -------
    data : bytes
    path : pathlib.Path or None
        The cached file, or None when it could not be written (the graph then lives in
        memory only).
    """
    root = Path(folder) if folder is not None else cache_dir()
    stem = f"effnet-lite0-{weights_digest}-{pooling}-g{GRAPH_VERSION}"
    for path in sorted(root.glob(f"{stem}.*.onnx")):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if path.name == f"{stem}.{_content_tag(data)}.onnx":
            return data, path
        # Truncated or altered since it was written: rebuilt below.
        log.warning("removing damaged cached model %s", path)
        with contextlib.suppress(OSError):
            path.unlink()
    data = build()
    path = root / f"{stem}.{_content_tag(data)}.onnx"
    try:
        root.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(root)  # left by a writer that was killed
        write_bytes(path, data)
    except OSError as exc:  # read-only home, full disk: run from memory instead
        log.warning("cannot cache the ONNX model in %s (%s)", root, exc)
        return data, None
    # Graphs of these weights built by other code versions are never read again.
    for old in root.glob(f"effnet-lite0-{weights_digest}-{pooling}-g*.onnx"):
        if not old.name.startswith(f"{stem}."):
            with contextlib.suppress(OSError):
                old.unlink()
    return data, path


class Lite0Session:
    """An ONNX Runtime session of :func:`lite0_graph` on the CPU.

    Parameters
    ----------
    model : bytes
        The serialised graph.
    threads : int, optional
        Intra-op threads; default :func:`default_threads`.

    Notes
    -----
    Worker threads do not spin while idle: the encoder shares the cores with the decoder
    thread and, in ``auto``, the pose model, and a spinning pool would take their time.
    """

    def __init__(self, model: bytes, threads: int | None = None) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads or default_threads()
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.log_severity_level = 3
        self.threads = so.intra_op_num_threads
        try:
            self._session = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own many kinds
            raise WeightsError(f"onnxruntime cannot load the EfficientNet graph ({exc})") from exc

    def run(self, bgr: np.ndarray) -> np.ndarray:
        """Features of resized frames.

        Parameters
        ----------
        bgr : numpy.ndarray, shape (B, S, S, 3), uint8

        Returns
        -------
        numpy.ndarray, shape (B, D), float32
        """
        out = self._session.run([OUTPUT_NAME], {INPUT_NAME: bgr})[0]
        return np.asarray(out, np.float32)
