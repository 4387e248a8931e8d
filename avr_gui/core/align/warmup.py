"""Load the compiled alignment kernels once, before anything waits on them.

The first call of a numba kernel in a process initialises numba and loads the
kernel's machine code from its cache: ~0.6 s here, much of it holding the GIL (LLVM
and numba's own imports). In the desktop app that first call used to come from the
first indexing or query job, where it held the GUI thread off the GIL for ~100 ms at a
time (``benchmarks/bench_gui.py``). The app calls :func:`warm_up` before its window
opens instead.
"""

from __future__ import annotations

import time

import numpy as np

from avr_gui.core.align._validate import as_sequence
from avr_gui.core.align.context import contextualize
from avr_gui.core.align.pair import AlignmentOptions, align


def warm_up() -> float:
    """Run every kernel the index and query paths use, on tiny inputs.

    The same public functions the library calls, with the array kinds it passes
    (writable and read-only float32, as memory-mapped features are read-only), so
    numba loads exactly the signatures a real session needs.

    Returns
    -------
    float
        Seconds it took (mostly numba start-up on the first call in a process).
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((9, 6)).astype(np.float32)
    b = rng.standard_normal((11, 6)).astype(np.float32)
    frozen = b.copy()
    frozen.setflags(write=False)
    as_sequence(frozen, "warm-up")
    contextualize(a, unit=True)
    for opts in (
        AlignmentOptions(),
        AlignmentOptions(band=0.5),
        AlignmentOptions(subsequence=True, draq_method="sampled", draq_samples=4),
    ):
        align(a, b, opts)
    return time.perf_counter() - t0
