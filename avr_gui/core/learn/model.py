"""A small temporal encoder over frozen per-frame features, without positional encoding.

Why a dilated temporal convolution and not a transformer: it runs on a laptop CPU in
milliseconds per clip and, with no positional encoding at all and *replicate* padding
at the clip ends, it cannot know where in a clip a frame sits. The "Sync from the Sea"
paper shows that a temporal transformer with positional encodings scores high on
Kendall's tau and phase progression even untrained, and would make every pair look
alignable along the diagonal; zero padding would leak the same cue at the clip ends.
So an untrained encoder maps a constant input sequence to a constant output
(``tests/unit/test_learn.py`` checks it).

Per frame the input is the feature vector plus a validity flag (a zero row means "no
usable pose", not "a pose at the origin"); the output is an L2-normalised embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from avr_gui.core.learn.config import EncoderConfig

__all__ = ["EncoderConfig", "TemporalEncoder", "build_encoder"]


class _Block(nn.Module):
    """Pre-norm residual block: LayerNorm over channels, dilated conv, GELU, 1x1 conv."""

    def __init__(self, hidden: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        # Replicate padding: a clip end looks like its first/last frame held, never like
        # zeros, so no output frame can tell how far it is from the clip's ends.
        self.conv = nn.Conv1d(
            hidden,
            hidden,
            kernel,
            dilation=dilation,
            padding=dilation * (kernel // 2),
            padding_mode="replicate",
        )
        self.act = nn.GELU()
        self.mix = nn.Conv1d(hidden, hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, C, T]
        h = self.norm(x.transpose(1, 2)).transpose(1, 2)
        return x + self.mix(self.act(self.conv(h)))


class TemporalEncoder(nn.Module):
    """Frames ``[B, T, input_dim]`` and validity ``[B, T]`` -> unit embeddings ``[B, T, D]``.

    Parameters
    ----------
    config : EncoderConfig
    """

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.inp = nn.Conv1d(config.input_dim + 1, config.hidden, 1)
        self.blocks = nn.ModuleList(
            _Block(config.hidden, config.kernel, d) for d in config.dilations
        )
        self.norm = nn.LayerNorm(config.hidden)
        self.out = nn.Linear(config.hidden, config.output_dim)

    def forward(self, features: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Embed a batch of equally long sequences.

        Parameters
        ----------
        features : torch.Tensor, shape (B, T, input_dim)
        valid : torch.Tensor, shape (B, T), bool or float

        Returns
        -------
        torch.Tensor, shape (B, T, output_dim)
            L2-normalised per frame.
        """
        v = valid.to(features.dtype).unsqueeze(-1)
        x = torch.cat([features * v, v], dim=-1).transpose(1, 2)
        h = self.inp(x)
        for block in self.blocks:
            h = block(h)
        e = self.out(self.norm(h.transpose(1, 2)))
        return nn.functional.normalize(e, dim=-1, eps=1e-8)


def build_encoder(config: EncoderConfig, seed: int) -> TemporalEncoder:
    """A freshly initialised encoder; the same seed gives the same weights.

    Parameters
    ----------
    config : EncoderConfig
    seed : int

    Returns
    -------
    TemporalEncoder
        On the CPU, float32.
    """
    # A private generator: initialising must not depend on (or disturb) the global
    # torch RNG, which other code in the process may use.
    gen = torch.Generator().manual_seed(int(seed))
    model = TemporalEncoder(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.ndim == 1:  # LayerNorm scale
                p.fill_(1.0)
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in**0.5)
    return model
