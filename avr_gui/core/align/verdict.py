"""A calibrated "alignable" verdict: the probability that a match shows the same action.

Replaces the fixed "DRAQ <= 0.5" badge, which never fired on real footage (true
push-up matches read DRAQ 0.66-0.93). A verdict is a one-cue logistic model, ``p =
1 / (1 + exp(-(a * x + b)))``, per kind of comparison:

- ``pose``: ``x`` is the mirror-invariant pose similarity of two performer clips
  (:mod:`avr_gui.core.library.pose_search`), fitted on Penn Action library sequences made
  to look like library clips (``benchmarks/fit_alignable.py``; reliability curve in
  docs/plots);
- ``appearance``: ``x`` is the DTW cost per step of the appearance alignment, fitted on
  generated clips of drawn people with known exercises (same script).

The models ship in ``resources/alignable.json``; a kind without a model gets no verdict
(None), and the app shows DRAQ alone for it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources

from avr_gui.core.errors import InputError

#: Probability from which a match is badged "alignable" (and below which "unlikely" is
#: shown once it falls under :data:`UNLIKELY`).
ALIGNABLE = 0.5
UNLIKELY = 0.2


@dataclass(frozen=True)
class VerdictModel:
    """A fitted one-cue logistic model.

    Attributes
    ----------
    cue : str
        What ``x`` is (``"pose_similarity"`` or ``"normalized_cost"``).
    slope, intercept : float
    fitted_on : str
    descriptor : str
        For the pose cue, whose similarity it was fitted on: ``"learned"`` (the shipped
        learned pose model) or ``"motion"`` (the hand-made pose descriptor); a
        similarity of another descriptor has another scale.
    """

    cue: str
    slope: float
    intercept: float
    fitted_on: str = ""
    descriptor: str = "motion"

    def probability(self, x: float) -> float:
        """``P(same action, alignable | x)``.

        Parameters
        ----------
        x : float

        Returns
        -------
        float
            In (0, 1); NaN for a non-finite ``x``.
        """
        if not math.isfinite(x):
            return float("nan")
        z = self.slope * x + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z >= -700 else 0.0


def load_models(text: str | None = None) -> dict[str, VerdictModel]:
    """The shipped verdict models by comparison kind (``pose``, ``appearance``).

    Parameters
    ----------
    text : str, optional
        JSON to parse instead of ``resources/alignable.json``.

    Returns
    -------
    dict of str to VerdictModel
        Empty when no model ships.

    Raises
    ------
    InputError
        The JSON is not a verdict model file.
    """
    if text is None:
        try:
            ref = resources.files("avr_gui").joinpath("resources/alignable.json")
            text = ref.read_text("utf-8")
        except (FileNotFoundError, OSError):
            return {}
    try:
        raw = json.loads(text)
        return {
            kind: VerdictModel(
                str(m["cue"]),
                float(m["slope"]),
                float(m["intercept"]),
                str(m.get("fitted_on", "")),
                str(m.get("descriptor", "motion")),
            )
            for kind, m in raw["models"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"not a verdict model file ({exc})") from exc


_MODELS: dict[str, VerdictModel] | None = None


def _models() -> dict[str, VerdictModel]:
    global _MODELS
    if _MODELS is None:
        _MODELS = load_models()
    return _MODELS


def pose_calibrated_for() -> str | None:
    """Which pose descriptor the shipped pose verdict was fitted on, or None without one.

    Returns
    -------
    str or None
        ``"blend"`` (the shipped model with the hand-made descriptor), ``"learned"`` or
        ``"motion"`` (:attr:`VerdictModel.descriptor`).
    """
    model = _models().get("pose")
    return None if model is None else model.descriptor


def alignable_probability(kind: str | None, x: float) -> float | None:
    """The shipped model's probability for one match, or None without a model.

    Parameters
    ----------
    kind : str or None
        ``"pose"`` or ``"appearance"`` (what the pair was compared on).
    x : float
        The model's cue for this pair.

    Returns
    -------
    float or None
    """
    model = _models().get(kind or "")
    return None if model is None else model.probability(x)


def verdict_label(
    p: float | None, *, alignable: float = ALIGNABLE, unlikely: float = UNLIKELY
) -> str:
    """A word for a probability: ``alignable``, ``possible``, ``unlikely`` or ``-``.

    Parameters
    ----------
    p : float or None
    alignable : float
        Probability from which the word is ``alignable`` (the ``verdict.alignable``
        setting; default :data:`ALIGNABLE`).
    unlikely : float
        Probability under which the word is ``unlikely`` (``verdict.unlikely``; default
        :data:`UNLIKELY`).

    Returns
    -------
    str
    """
    if p is None or not math.isfinite(p):
        return "-"
    if p >= alignable:
        return "alignable"
    return "possible" if p >= unlikely else "unlikely"
