"""Loading ``.tflite`` models with ai-edge-litert, with errors a user can act on.

A model can be loaded with only some of its outputs (:class:`TfliteModel` ``keep``): the
graph is then cut down, in memory, to the operators those outputs depend on
(:func:`prune_outputs`). A quarter of the BlazePose landmark model's operators compute
a segmentation mask and a heatmap that the pose features never read; dropping them
takes 30-45 % off its time and leaves the kept outputs bit-identical (the same
operators on the same weights).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

from avr_gui.core.features.base import WeightsError

log = logging.getLogger(__name__)

#: The flatbuffer file identifier of TensorFlow Lite models.
_TFLITE_ID = b"TFL3"


def default_threads() -> int:
    """Interpreter threads: the machine's cores, at most 4 (more rarely pays off)."""
    return max(1, min(4, os.cpu_count() or 1))


def _ints(values: Any) -> list[int]:
    """A flatbuffer object field (None, a list or a numpy array) as a list of ints."""
    return [] if values is None else [int(v) for v in values]


def prune_outputs(model: bytes, keep: Collection[int]) -> bytes | None:
    """The model cut down to the outputs whose number of values is in ``keep``.

    Parameters
    ----------
    model : bytes
        A ``.tflite`` flatbuffer.
    keep : collection of int
        Element counts of the outputs to keep (e.g. ``{195, 1}``); outputs are matched
        by size because that is how the callers already identify them.

    Returns
    -------
    bytes or None
        The serialised model whose only outputs are those kept and whose operators are
        those they depend on (in their original order, so still topologically sorted).
        None when nothing would be removed, when no output matches, or when the model
        is not a single plain graph (control flow refers to other subgraphs, and an
        operator list cannot then be pruned by following tensors alone).
    """
    try:
        import flatbuffers  # a dependency of ai-edge-litert
        from ai_edge_litert import schema_py_generated as schema
    except ImportError as exc:  # an older or trimmed runtime: run the whole graph
        log.debug("not pruning: %s", exc)
        return None
    try:
        m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    except Exception as exc:  # a model that does not parse is run whole, never pruned
        log.debug("not pruning: the model does not parse (%s)", exc)
        return None
    if m.subgraphs is None or len(m.subgraphs) != 1:
        return None
    g = m.subgraphs[0]
    ops = list(g.operators if g.operators is not None else [])
    outputs = _ints(g.outputs)

    def size(t: int) -> int:
        shape = g.tensors[t].shape
        return int(np.prod(shape)) if shape is not None else -1

    kept = [t for t in outputs if size(t) in keep]
    if not kept or len(kept) == len(outputs):
        return None
    producer = {t: i for i, op in enumerate(ops) for t in _ints(op.outputs)}
    needed: set[int] = set()
    todo = list(kept)
    while todo:
        i = producer.get(todo.pop())
        if i is None or i in needed:
            continue
        needed.add(i)
        todo.extend(t for t in _ints(ops[i].inputs) if t >= 0)  # -1: an absent input
    g.operators = [op for i, op in enumerate(ops) if i in needed]
    g.outputs = kept
    # A signature naming a dropped output would point at a tensor nothing computes.
    for sig in m.signatureDefs or []:
        sig.outputs = [o for o in sig.outputs or [] if o.tensorIndex in kept]
    builder = flatbuffers.Builder(len(model) + (1 << 16))
    builder.Finish(m.Pack(builder), file_identifier=_TFLITE_ID)
    return bytes(builder.Output())


class TfliteModel:
    """One ``.tflite`` model with a single image input.

    Parameters
    ----------
    path : path-like
    num_threads : int, optional
        Default: :func:`default_threads`.
    keep : collection of int, optional
        Element counts of the outputs to compute and return (see :func:`prune_outputs`);
        default: all of them. When the graph cannot be pruned the whole model runs, and
        :meth:`run` still returns only these outputs.

    Attributes
    ----------
    input_shape : tuple of int
        ``(1, H, W, 3)`` usually.
    input_dtype : numpy.dtype
    outputs : list of dict
        Details (``index``, ``shape``, ...) of the outputs :meth:`run` returns.
    pruned : bool
        Whether the graph was cut down to the kept outputs.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        num_threads: int | None = None,
        *,
        keep: Collection[int] | None = None,
    ) -> None:
        p = Path(path)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise WeightsError(
                "ai-edge-litert is not installed (pip install ai-edge-litert)"
            ) from exc
        if not p.is_file():
            raise WeightsError(f"{p}: no such model file")
        self.threads = num_threads or default_threads()
        content: bytes | None = None
        if keep is not None:
            try:
                content = prune_outputs(p.read_bytes(), set(keep))
            except OSError as exc:
                raise WeightsError(f"{p}: cannot read the model ({exc})") from exc
        self.pruned = content is not None
        try:
            if content is not None:
                self._it: Any = Interpreter(model_content=content, num_threads=self.threads)
            else:
                self._it = Interpreter(model_path=str(p), num_threads=self.threads)
            self._it.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise WeightsError(f"{p}: not a loadable TensorFlow Lite model ({exc})") from exc
        inputs = self._it.get_input_details()
        if len(inputs) != 1:
            raise WeightsError(f"{p}: expected one input tensor, found {len(inputs)}")
        self.path = p
        self._input = inputs[0]["index"]
        self.input_shape = tuple(int(s) for s in inputs[0]["shape"])
        self.input_dtype = np.dtype(inputs[0]["dtype"])
        outputs = self._it.get_output_details()
        if keep is not None:
            # Unpruned fallback: still copy only what the caller reads.
            outputs = [o for o in outputs if int(np.prod(o["shape"])) in set(keep)]
        self.outputs = outputs

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Run on one input tensor; return the kept outputs (copies), in the model's order."""
        self._it.set_tensor(self._input, x)
        self._it.invoke()
        return [np.array(self._it.get_tensor(o["index"])) for o in self.outputs]
