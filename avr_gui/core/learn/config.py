"""The shape of a learned temporal encoder (no torch: inference and files read it too)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from avr_gui.core.errors import InputError


@dataclass(frozen=True)
class EncoderConfig:
    """Shape of a :class:`TemporalEncoder`.

    Attributes
    ----------
    input_dim : int
        Per-frame feature size (50 for the pose-motion features).
    hidden : int
        Channels inside the residual blocks.
    output_dim : int
        Embedding size.
    kernel : int
        Temporal kernel (odd).
    dilations : tuple of int
        One residual block per dilation; the receptive field is
        ``1 + (kernel - 1) * sum(dilations)`` frames.
    """

    input_dim: int = 50
    hidden: int = 128
    output_dim: int = 64
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4)

    def __post_init__(self) -> None:
        if min(self.input_dim, self.hidden, self.output_dim) < 1:
            raise InputError("encoder sizes must be positive")
        if self.kernel < 1 or self.kernel % 2 == 0:
            raise InputError(f"kernel must be odd and positive, got {self.kernel}")
        if not self.dilations or min(self.dilations) < 1:
            raise InputError(f"dilations must be positive, got {self.dilations}")

    @property
    def receptive_field(self) -> int:
        """Frames that one output frame sees."""
        return 1 + (self.kernel - 1) * sum(self.dilations)

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        d = asdict(self)
        d["dilations"] = list(self.dilations)
        return d

    @classmethod
    def from_dict(cls, raw: dict) -> EncoderConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        names = {f.name for f in fields(cls)}
        extra = set(raw) - names
        if extra:
            raise InputError(f"unknown encoder settings: {sorted(extra)}")
        kw = dict(raw)
        if "dilations" in kw:
            kw["dilations"] = tuple(int(d) for d in kw["dilations"])
        return cls(**kw)
