"""The Ray engine's cluster side: importing Ray, connecting to it, laying out the work.

Used by the driver, :mod:`avr_gui.core.scale.ray_engine`, which re-exports the public
names (:data:`CLUSTER_HINT`, :class:`RayNotInstalledError`, :class:`RayEngineError`,
:func:`ray_available`). Nothing here imports Ray at module level: without the
``cluster`` extra this module still imports and says how to get it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from avr_gui.core.errors import InputError
from avr_gui.core.library.errors import LibraryError

#: What a user without Ray is told (one line).
CLUSTER_HINT = "the Ray engine needs the cluster extra: pip install 'avr-studio[cluster]'"

# CPUs one decode task and one CPU encoder actor reserve. Fractions so that a 2-CPU
# machine runs two decoders and two encoders at once (Ray counts reservations, not
# use); different values also keep Ray Data from fusing the decode tasks into the
# actors, which would serialise decoding and encoding again.
DECODE_CPUS = 0.5
ENCODE_CPUS = 0.25
# A GPU encoder actor: one GPU and a CPU to feed it.
GPU_ENCODE_CPUS = 1.0
# Ray reads this when it is imported: "0" keeps a local cluster on the loopback
# address (no port open to the network). Only set for a cluster we start ourselves.
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class RayNotInstalledError(InputError):
    """The Ray engine was asked for but Ray (the ``cluster`` extra) is not installed."""


class RayEngineError(LibraryError):
    """The cluster itself failed (per-file failures become ``failed`` rows instead)."""


def ray_available() -> bool:
    """Whether the ``cluster`` extra (Ray Data) is installed.

    Returns
    -------
    bool
    """
    import importlib.util

    if "ray" in sys.modules:
        return sys.modules["ray"] is not None  # None: imports of it are blocked
    return importlib.util.find_spec("ray") is not None


def import_ray(local: bool) -> Any:
    """``ray`` with Ray Data imported.

    Parameters
    ----------
    local : bool
        A local cluster will be started: when this is the first import of Ray, it is
        kept on the loopback address.

    Returns
    -------
    module
        The ``ray`` package.

    Raises
    ------
    RayNotInstalledError
        Ray is not installed.
    """
    if local and "ray" not in sys.modules:
        os.environ.setdefault(_LOOPBACK_ENV, "0")
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise RayNotInstalledError(CLUSTER_HINT) from exc
    return ray


@dataclass(frozen=True)
class Shape:
    """How the pipeline is laid out on the cluster.

    Attributes
    ----------
    workers : int
        Encoder actors.
    decoders : int
        Decode tasks at once.
    gpus_per_worker : float
        GPUs each encoder actor reserves (0: encoders run on CPUs).
    cpus_per_worker : float
        CPUs each encoder actor reserves.
    """

    workers: int
    decoders: int
    gpus_per_worker: float
    cpus_per_worker: float


def cluster_shape(ray: Any, workers: int | None) -> Shape:
    """Lay the pipeline out on the resources of the connected cluster.

    Parameters
    ----------
    ray : module
        The ``ray`` package, connected (only ``cluster_resources()`` is read).
    workers : int, optional
        Encoder actors; default one per GPU, else half the CPUs (at least one).

    Returns
    -------
    Shape
    """
    res = ray.cluster_resources()
    cpus = float(res.get("CPU", 1.0))
    gpus = int(res.get("GPU", 0))
    if workers is None:
        workers = gpus if gpus else max(1, int(cpus) // 2)
    if gpus:
        # One GPU per encoder actor; more actors than GPUs share them.
        share = min(1.0, gpus / workers)
        return Shape(workers, max(1, int(cpus) - workers), share, GPU_ENCODE_CPUS)
    return Shape(workers, max(1, int(cpus)), 0.0, ENCODE_CPUS)


@contextlib.contextmanager
def session(ray: Any, address: str | None, num_cpus: int | None) -> Iterator[None]:
    """Ray connected for the block: the caller's session, a new connection or a new cluster.

    Only what this function started is shut down.

    Parameters
    ----------
    ray : module
        The ``ray`` package.
    address : str, optional
        A cluster to connect to; None starts a local one.
    num_cpus : int, optional
        CPUs of a local cluster (default: those of this process).

    Raises
    ------
    RayEngineError
        Ray could not be started or reached.
    """
    if ray.is_initialized():
        yield
        return
    common: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address is None:
            ray.init(
                num_cpus=num_cpus or len(os.sched_getaffinity(0)),
                include_dashboard=False,
                **common,
            )
        else:
            ray.init(address=address, **common)
    except Exception as exc:  # no cluster at that address, a port in use, ...
        where = f"at {address}" if address else "locally"
        raise RayEngineError(f"cannot start Ray {where}: {' '.join(str(exc).split())}") from exc
    try:
        yield
    finally:
        ray.shutdown()


@contextlib.contextmanager
def quiet(ray: Any) -> Iterator[None]:
    """No Ray Data progress bars, plan printing or stats: the caller reports progress.

    The settings are put back afterwards (they belong to the process, not to us).

    Parameters
    ----------
    ray : module
        The ``ray`` package, with Ray Data imported.
    """
    ctx = ray.data.DataContext.get_current()
    names = (
        "enable_progress_bars",
        "enable_operator_progress_bars",
        "print_on_execution_start",
        "enable_auto_log_stats",
    )
    saved = {n: getattr(ctx, n) for n in names}
    data_log = logging.getLogger("ray.data")
    level = data_log.level
    for n in names:
        setattr(ctx, n, False)
    data_log.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        for n, v in saved.items():
            setattr(ctx, n, v)
        data_log.setLevel(level)
