"""Loading ``.tflite`` models with ai-edge-litert, with errors a user can act on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from avr_gui.core.features.base import WeightsError


def default_threads() -> int:
    """Interpreter threads: the machine's cores, at most 4 (more rarely pays off)."""
    return max(1, min(4, os.cpu_count() or 1))


class TfliteModel:
    """One ``.tflite`` model with a single image input.

    Parameters
    ----------
    path : path-like
    num_threads : int, optional
        Default: :func:`default_threads`.

    Attributes
    ----------
    input_shape : tuple of int
        ``(1, H, W, 3)`` usually.
    input_dtype : numpy.dtype
    """

    def __init__(self, path: str | os.PathLike[str], num_threads: int | None = None) -> None:
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
        try:
            self._it: Any = Interpreter(model_path=str(p), num_threads=self.threads)
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
        self.outputs = self._it.get_output_details()

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Run on one input tensor; return every output (copies), in the model's order."""
        self._it.set_tensor(self._input, x)
        self._it.invoke()
        return [np.array(self._it.get_tensor(o["index"])) for o in self.outputs]
