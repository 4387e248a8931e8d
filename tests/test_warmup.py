"""The kernel warm-up loads what the library's index and query paths call."""

from __future__ import annotations

from avr_gui.core.align import _kernels as K
from avr_gui.core.align.warmup import warm_up


def test_warm_up_loads_the_kernels_the_library_uses():
    assert warm_up() >= 0.0
    # Banded DTW (partial alignment's windows) runs on the windowed kernel.
    kernels = (K.all_finite, K.contextualize_rows, K.dtw_full, K.backtrack, K.dtw_window)
    for kernel in (*kernels, K.backtrack_flat):
        assert kernel.signatures, kernel
    # Memory-mapped features are read-only: that signature must be loaded too.
    readonly = [s for s in K.all_finite.signatures if not s[0].mutable]
    assert readonly
    # A second call only runs the tiny inputs again.
    assert warm_up() < 0.5
