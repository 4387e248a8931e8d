"""The LRProp loss: pair-wise position propagation plus a soft-DTW divergence.

For two clips that share a label (Bar-Shalom et al., "Weakly-supervised representation
learning for video alignment and analysis"):

1. Align them by DTW on the *current* embeddings (cosine cost, no gradient).
2. Propagate each frame's position along the path: frame ``i`` of one clip lands at
   ``pi(i)``, the mean partner frame the path pairs it with, and becomes a Gaussian
   prior over the partner's frames, ``q_i(j) ~ exp(-(j - pi(i))^2 / (2 sigma^2))``.
3. Pull the similarity distribution ``p_i(j) = softmax_j(cos(e_i, f_j) / tau)`` to that
   prior by ``KL(q_i || p_i)``, averaged over frames, in both directions.
4. Add a soft-DTW term on the cosine cost so the whole path gets cheaper. We use the
   soft-DTW *divergence* (``sdtw(a, b) - (sdtw(a, a) + sdtw(b, b)) / 2``): plain soft-DTW
   is biased by its entropy term and can go negative; the divergence is zero for
   identical sequences and positive otherwise (Blondel et al. 2021). That is what
   "regularised" means here. It is divided by ``n + m`` so long clips do not dominate.

Soft-DTW comes from ``tslearn`` (``SoftDTWLossPyTorch``): maintained, with an analytic
backward pass in numba (quadratic memory, no autograd graph over the DP table), and it
accepts a custom distance, which the cosine cost needs. On CUDA it moves the DP table
to the CPU and back; at clip sizes (<= a few hundred frames) that costs little.
"""

from __future__ import annotations

import numpy as np
import torch

from avr_gui.core.align.dtw import dtw

#: The paper's sigma^2 = 10 frames is at about 30 fps; the product samples at 10 fps, so
#: the same spread in seconds is (10 / 30)^2 of it in frames.
PAPER_SIGMA2 = 10.0
PAPER_FPS = 30.0


def sigma2_at(fps: float) -> float:
    """The paper's prior variance, in frames squared at ``fps`` (same spread in seconds)."""
    return PAPER_SIGMA2 * (float(fps) / PAPER_FPS) ** 2


def propagated_positions(path: np.ndarray, n: int) -> np.ndarray:
    """Where each frame of the first sequence lands in the second, along a DTW path.

    Parameters
    ----------
    path : numpy.ndarray, shape (K, 2)
        Monotone path ``(i, j)`` covering every row ``0..n-1``.
    n : int
        Rows of the first sequence.

    Returns
    -------
    numpy.ndarray, shape (n,), float64
        Mean partner frame of every row (a row matched to a run of frames lands in its
        middle).
    """
    p = np.asarray(path, np.int64)
    sums = np.bincount(p[:, 0], weights=p[:, 1].astype(np.float64), minlength=n)
    counts = np.bincount(p[:, 0], minlength=n)
    return sums / np.maximum(counts, 1)


def gaussian_prior(positions: np.ndarray, m: int, sigma2: float) -> np.ndarray:
    """Row-normalised Gaussian prior over ``m`` partner frames around each position.

    Parameters
    ----------
    positions : numpy.ndarray, shape (n,)
    m : int
    sigma2 : float
        Variance in frames squared.

    Returns
    -------
    numpy.ndarray, shape (n, m), float64
        Rows sum to one.
    """
    j = np.arange(m, dtype=np.float64)[None, :]
    logq = -((j - np.asarray(positions, np.float64)[:, None]) ** 2) / (2.0 * sigma2)
    logq -= logq.max(axis=1, keepdims=True)
    q = np.exp(logq)
    return q / q.sum(axis=1, keepdims=True)


def _kl_rows(
    sim: torch.Tensor, prior: torch.Tensor, tau: float, negatives: torch.Tensor | None
) -> torch.Tensor:
    # The softmax runs over the partner's frames and, if given, the negatives' frames,
    # on which the prior puts no mass: KL(q || p) restricted to q's support.
    logits = sim if negatives is None else torch.cat([sim, negatives], dim=1)
    logp = torch.log_softmax(logits / tau, dim=1)[:, : sim.shape[1]]
    q = prior
    return (q * (torch.log(q.clamp_min(1e-12)) - logp)).sum(dim=1).mean()


def propagation_loss(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    sigma2: float,
    tau: float,
    negatives: torch.Tensor | None = None,
) -> tuple[torch.Tensor, np.ndarray]:
    """Pair-wise position propagation: KL(prior || softmax similarity), both ways.

    Parameters
    ----------
    a : torch.Tensor, shape (n, D)
    b : torch.Tensor, shape (m, D)
        Unit embeddings of the valid frames of two clips with one label.
    sigma2 : float
        Prior variance in frames squared (:func:`sigma2_at`).
    tau : float
        Softmax temperature of the cosine similarity.
    negatives : torch.Tensor, shape (k, D), optional
        Frames of a clip with another label. They join every frame's softmax with no
        prior mass, so a frame must be more like its partner frame than like any frame
        of another action. Our addition to LRProp (the paper's KL sees the partner's
        frames only, which teaches alignment within an action but nothing that keeps
        actions apart, and clip retrieval fell from 0.93 to 0.64 top-1 on E2 without it).

    Returns
    -------
    loss : torch.Tensor, scalar
    path : numpy.ndarray, shape (K, 2)
        The DTW path on the current embeddings.
    """
    sim = a @ b.T
    cost = (1.0 - sim).detach().cpu().double().numpy()
    path = dtw(cost).path
    n, m = sim.shape
    qa = gaussian_prior(propagated_positions(path, n), m, sigma2)
    qb = gaussian_prior(propagated_positions(path[:, ::-1], m), n, sigma2)
    qa_t = torch.as_tensor(qa, dtype=sim.dtype, device=sim.device)
    qb_t = torch.as_tensor(qb, dtype=sim.dtype, device=sim.device)
    na = nb = None
    if negatives is not None:
        na, nb = a @ negatives.T, b @ negatives.T
    loss = 0.5 * (_kl_rows(sim, qa_t, tau, na) + _kl_rows(sim.T, qb_t, tau, nb))
    return loss, path


def weighted_descriptor(embeddings: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Differentiable :func:`~avr_gui.core.learn.apply.clip_descriptor`: weighted mean ⊕ std.

    Parameters
    ----------
    embeddings : torch.Tensor, shape (T, D)
        A clip's valid frames.
    weights : torch.Tensor, shape (T,)
        Summing to one (the input's motion weights).

    Returns
    -------
    torch.Tensor, shape (2 * D,)
    """
    mean = weights @ embeddings
    var = weights @ (embeddings - mean) ** 2
    return torch.cat([mean, torch.sqrt(var.clamp_min(1e-8))])


def clip_contrastive_loss(
    descriptors: torch.Tensor, labels: np.ndarray, tau: float
) -> torch.Tensor:
    """Supervised contrastive loss of clip descriptors (Khosla et al. 2020), cosine.

    Every clip's softmax over the other clips of the batch should put its mass on the
    clips of its own label. The weak label that LRProp uses to choose pairs also says
    which clips should *not* be found together; the retrieval the product does with a
    learned block needs that, which frame-level alignment alone does not teach.

    Parameters
    ----------
    descriptors : torch.Tensor, shape (N, K)
    labels : numpy.ndarray, shape (N,)
    tau : float

    Returns
    -------
    torch.Tensor, scalar
        Mean over the clips that have a positive in the batch (0 if none has).
    """
    z = torch.nn.functional.normalize(descriptors, dim=1, eps=1e-8)
    sim = z @ z.T / tau
    n = sim.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=sim.device)
    sim = sim.masked_fill(eye, float("-inf"))
    logp = torch.log_softmax(sim, dim=1)
    lab = torch.as_tensor(np.asarray(labels), device=sim.device)
    pos = (lab[:, None] == lab[None, :]) & ~eye
    has = pos.any(dim=1)
    if not bool(has.any()):
        return sim.new_zeros(())
    per = -(logp.masked_fill(~pos, 0.0).sum(dim=1)) / pos.sum(dim=1).clamp_min(1)
    return per[has].mean()


def _cosine_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # [B, n, D], [B, m, D] -> [B, n, m]; unit rows, so 1 - cos is in [0, 2].
    return 1.0 - torch.bmm(x, y.transpose(1, 2))


class SoftDTWDivergence:
    """Soft-DTW divergence on the cosine cost of unit embeddings (tslearn's kernel).

    Parameters
    ----------
    gamma : float
        Smoothing of the soft minimum (smaller is closer to DTW).
    """

    def __init__(self, gamma: float) -> None:
        from tslearn.metrics import SoftDTWLossPyTorch

        self._loss = SoftDTWLossPyTorch(gamma=gamma, normalize=True, dist_func=_cosine_cost)

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Divergence of two sequences ``[n, D]``, ``[m, D]``, divided by ``n + m``."""
        n, m = a.shape[0], b.shape[0]
        return self._loss(a[None], b[None])[0] / float(n + m)
