"""Evaluation protocols and metrics (see ../shared/EVAL.md)."""
