"""Bank-normalised similarity: exact against a direct computation, and it demotes hubs."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.align import banknorm
from avr_gui.core.errors import InputError


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_log_mass_matches_direct_sum_and_blocks(monkeypatch):
    rng = np.random.default_rng(0)
    lib = _unit(rng.normal(size=(9, 4))).astype(np.float32)
    t = 0.3
    s = (lib @ lib.T).astype(np.float64) / t
    np.fill_diagonal(s, -np.inf)
    want = np.log(np.exp(s).sum(axis=0))
    monkeypatch.setattr(banknorm, "_BLOCK", 4)  # several column blocks
    got = banknorm.bank_log_mass(lib, lib, temperature=t, exclude_self=True)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_a_hub_loses_its_place_to_the_true_neighbour():
    # The hub sits among many clips; the query's partner "b" is close to the query only.
    hub = [1.0, 0.0, 0.0]
    b = [0.0, 1.0, 0.0]
    crowd = [[0.9, -0.3, 0.0], [0.9, 0.0, 0.3], [0.9, 0.0, -0.3]]
    lib = _unit(np.array([hub, b, *crowd]))
    q = _unit(np.array([[0.75, 0.66, 0.0]]))[0]
    sims = lib @ q
    assert np.argmax(sims) == 0  # plain cosine: the hub wins
    mass = banknorm.bank_log_mass(lib, lib, temperature=0.1, exclude_self=True)
    assert np.argmax(banknorm.normalize(sims, mass, temperature=0.1)) == 1


def test_bad_input():
    x = np.eye(3, dtype=np.float32)
    with pytest.raises(InputError):
        banknorm.bank_log_mass(x, np.eye(2, dtype=np.float32))
    with pytest.raises(InputError):
        banknorm.bank_log_mass(x[:2], x, exclude_self=True)
    with pytest.raises(InputError):
        banknorm.bank_log_mass(x, x, temperature=0)
    with pytest.raises(InputError):
        banknorm.normalize(np.ones(3), np.ones(2))
