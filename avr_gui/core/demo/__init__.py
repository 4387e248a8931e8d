"""Generated footage and the headless demo.

Modules: :mod:`.synth` (drawn clips with known warps, written as real videos),
:mod:`.synth_person` (a drawn person doing exercises), :mod:`.synth_library` (a library
of such clips with known phases, used by the demo and E4), :mod:`.render` (PNG pictures
of cost matrices) and :mod:`.run` (the demo: library, index, query, exports).

Nothing is imported here, so a test that only needs a generated clip does not load the
library and export layers the demo uses.
"""
