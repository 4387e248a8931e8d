"""Alignment engine: contextualized features, cosine costs, DTW, DRAQ and time maps."""

from avr_gui.core.align.auto import align_auto
from avr_gui.core.align.context import contextualize
from avr_gui.core.align.cost import cost_matrices, cost_matrix
from avr_gui.core.align.draq import (
    draq,
    expected_random_cost,
    random_cost,
    random_path_costs,
    visit_probabilities,
)
from avr_gui.core.align.dtw import DTWResult, band_limits, dtw
from avr_gui.core.align.multiscale import (
    MAX_BAND_CELLS,
    MULTISCALE_CELLS,
    multiscale_dtw,
    multiscale_dtw_cost,
    needs_multiscale,
)
from avr_gui.core.align.pair import (
    Alignment,
    AlignmentOptions,
    align,
    align_cost,
    align_many,
)
from avr_gui.core.align.timemap import indices_to_seconds, time_map, time_map_table

__all__ = [
    "MAX_BAND_CELLS",
    "MULTISCALE_CELLS",
    "Alignment",
    "AlignmentOptions",
    "DTWResult",
    "align",
    "align_auto",
    "align_cost",
    "align_many",
    "band_limits",
    "contextualize",
    "cost_matrices",
    "cost_matrix",
    "draq",
    "dtw",
    "expected_random_cost",
    "indices_to_seconds",
    "multiscale_dtw",
    "multiscale_dtw_cost",
    "needs_multiscale",
    "random_cost",
    "random_path_costs",
    "time_map",
    "time_map_table",
    "visit_probabilities",
]
