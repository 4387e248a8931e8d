"""Synthetic frame features for the search benchmarks (bench_query.py, bench_scale.py).

Smooth trajectories (random walks) like real frame features, not white noise, so that
clip descriptors and DTW costs behave as they do on real libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from avr_gui.core.features import FeatureSequence

#: Encoder name and version of the synthetic libraries.
ENC, VER = "synthetic", "synthetic-v1"


def random_walk(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """A random-walk feature sequence ``[n, d]`` float32 with a per-clip offset."""
    walk = np.cumsum(rng.standard_normal((n, d)).astype(np.float32), axis=0)
    walk /= np.sqrt(np.arange(1, n + 1, dtype=np.float32))[:, None]
    return walk + rng.standard_normal(d).astype(np.float32) * 3.0


def as_sequence(f: np.ndarray, name: str) -> FeatureSequence:
    """``f`` ``[n, d]`` as a library feature sequence sampled at 10 fps."""
    # Imported here: bench_scale's query process keeps its imports to what it measures.
    from avr_gui.core.features import FeatureSequence

    t = np.arange(len(f)) / 10.0
    return FeatureSequence(f, t, np.arange(len(f)), name, ENC, VER)
