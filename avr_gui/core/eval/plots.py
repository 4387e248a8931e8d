"""PNG plots of evaluation results, drawn on matplotlib's Agg canvas (no GUI backend)."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from avr_gui.core.atomic import write_bytes

_COLOURS = ("#e8743b", "#4c9be8", "#5cc08a", "#c774e8", "#e8c94c", "#9aa0a6")


def _figure(width: float = 7.0, height: float = 4.2):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | os.PathLike[str]) -> Path:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    write_bytes(path, buf.getvalue())
    return Path(path)


def plot_curves(
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    path: str | os.PathLike[str],
    *,
    title: str,
    ylabel: str = "mean agreement of the pairs below",
) -> Path:
    """Figure 5: mean agreement of the pairs below each percentile, one line per score.

    Parameters
    ----------
    curves : mapping of str to {"percentile": [P], "agreement": [P]}
    path : path-like
        PNG written atomically.
    title : str
    """
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    for k, (name, c) in enumerate(curves.items()):
        ax.plot(
            c["percentile"],
            c["agreement"],
            marker="o",
            ms=3,
            label=name,
            color=_COLOURS[k % len(_COLOURS)],
        )
    ax.set_xlabel("percentile of the score (lowest = most alignable first)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def plot_bars(
    groups: Mapping[str, Mapping[str, float]],
    path: str | os.PathLike[str],
    *,
    title: str,
    ylabel: str,
    ylim: tuple[float, float] | None = (0.0, 1.0),
) -> Path:
    """Grouped bars: ``groups[group][series]`` (e.g. recall@k per k, or top-1 per score).

    Parameters
    ----------
    groups : mapping of str to mapping of str to float
    path : path-like
    title, ylabel : str
    ylim : (float, float) or None
    """
    import numpy as np

    names = list(groups)
    fig = _figure(width=max(7.0, 0.75 * len(names)))
    ax = fig.add_subplot(1, 1, 1)
    series = list(dict.fromkeys(s for g in groups.values() for s in g))
    width = 0.8 / max(1, len(series))
    x = np.arange(len(names))
    for k, s in enumerate(series):
        vals = [groups[g].get(s, np.nan) for g in names]
        bars = ax.bar(
            x + (k - (len(series) - 1) / 2) * width,
            vals,
            width,
            label=s,
            color=_COLOURS[k % len(_COLOURS)],
        )
        ax.bar_label(bars, fmt="%.3g", fontsize=7)
    ax.set_xticks(
        x, names, rotation=30 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center"
    )
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ylim:
        ax.set_ylim(*ylim)
    if len(series) > 1:
        ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_per_clip(
    errors: Mapping[str, Mapping[str, float]],
    path: str | os.PathLike[str],
    *,
    title: str = "E1: warp-recovery error per clip",
) -> Path:
    """E1 error per clip (frames), one bar per backend / context setting.

    Parameters
    ----------
    errors : mapping of str to mapping of str to float
        ``errors[setting][clip]``.
    path : path-like
    """
    clips = list(dict.fromkeys(c for e in errors.values() for c in e))
    groups = {c: {s: errors[s].get(c, float("nan")) for s in errors} for c in clips}
    fig_path = plot_bars(groups, path, title=title, ylabel="mean error (frames)", ylim=None)
    return fig_path


def plot_training(
    history: Sequence[Mapping[str, float]],
    path: str | os.PathLike[str],
    *,
    title: str,
    smooth: int = 50,
) -> Path:
    """Training curves: the loss terms per step (running mean) and any monitored figure.

    Parameters
    ----------
    history : sequence of mapping
        Rows with ``step`` and either loss terms (``loss``, ``kl``, ``sdtw``, ``clip``) or
        monitored figures (other keys, at checkpoint steps), as
        :func:`~avr_gui.core.learn.train.train_lrprop` records them.
    path : path-like
        The PNG, written atomically.
    title : str
    smooth : int
        Steps of the running mean of the loss terms.

    Returns
    -------
    pathlib.Path
    """
    import numpy as np

    loss_keys = ("loss", "kl", "sdtw", "clip")
    steps = [h for h in history if "loss" in h]
    monitored = [h for h in history if "loss" not in h]
    extra = sorted({k for h in monitored for k in h if k != "step"})
    fig = _figure(10.0 if extra else 7.0, 4.2)
    ax = fig.add_subplot(1, 2 if extra else 1, 1)
    for colour, key in zip(_COLOURS, loss_keys, strict=False):
        y = np.array([h[key] for h in steps if key in h], np.float64)
        if not len(y):
            continue
        x = np.array([h["step"] for h in steps if key in h])
        k = max(1, min(smooth, len(y)))
        ys = np.convolve(y, np.ones(k) / k, mode="valid")
        ax.plot(x[k - 1 :], ys, color=colour, label=key)
    ax.set_xlabel("step")
    ax.set_ylabel(f"training loss (running mean of {smooth} steps)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    ax.set_title(title)
    if extra:
        ax2 = fig.add_subplot(1, 2, 2)
        for colour, key in zip(_COLOURS, extra, strict=False):
            pts = [(h["step"], h[key]) for h in monitored if key in h]
            ax2.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=colour, label=key)
        ax2.set_xlabel("step")
        ax2.grid(alpha=0.3)
        ax2.legend(frameon=False)
        ax2.set_title("monitored during training")
    return _save(fig, path)
