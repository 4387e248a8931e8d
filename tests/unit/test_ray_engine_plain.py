"""The Ray engine's parts that need no Ray: its message without Ray, its cluster layout."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from avr_gui.core.errors import InputError
from avr_gui.core.library import Library
from avr_gui.core.scale.ray_cluster import DECODE_CPUS, cluster_shape
from avr_gui.core.scale.ray_engine import CLUSTER_HINT, RayNotInstalledError, index_with_ray


def test_without_ray_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry makes `import ray` fail as if Ray were not installed.
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.data", None)
    with Library.open(tmp_path / "index") as lib, pytest.raises(RayNotInstalledError) as err:
        index_with_ray(lib)
    assert isinstance(err.value, InputError)
    assert str(err.value) == CLUSTER_HINT
    assert "\n" not in CLUSTER_HINT and "avr-studio[cluster]" in CLUSTER_HINT


class FakeRay:
    """Stands in for ``ray`` where only the cluster's resources are read."""

    def __init__(self, resources: dict[str, float]) -> None:
        self.resources = resources

    def cluster_resources(self) -> dict[str, float]:
        return self.resources


def test_layout_never_starves_two_cpus_and_uses_gpus() -> None:
    two = cluster_shape(FakeRay({"CPU": 2.0}), 2)
    # Two encoder actors and every decoder fit in two CPUs at once.
    assert two.gpus_per_worker == 0
    assert two.workers * two.cpus_per_worker + two.decoders * DECODE_CPUS <= 2.0
    assert cluster_shape(FakeRay({"CPU": 2.0}), None).workers == 1
    gpu = cluster_shape(FakeRay({"CPU": 16.0, "GPU": 2.0}), None)
    assert (gpu.workers, gpu.gpus_per_worker) == (2, 1.0)
    assert gpu.decoders >= 1
    shared = cluster_shape(FakeRay({"CPU": 16.0, "GPU": 1.0}), 4)
    assert shared.gpus_per_worker == 0.25


def test_bad_arguments_are_input_errors(tmp_path: Path) -> None:
    with Library.open(tmp_path / "index") as lib:
        with pytest.raises(InputError):
            index_with_ray(lib, workers=0)
        with pytest.raises(InputError):
            index_with_ray(lib, batch_size=0)
