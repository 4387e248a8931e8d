"""Scaling out: indexing on a Ray cluster and search past a million clips.

The modules here are imported on their own (``avr_gui.core.scale.ray_engine``, ...):
each needs optional packages, so this package imports nothing.
"""
