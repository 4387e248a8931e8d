"""``avr eval e2 --learned``: E2 on a learned model's frame embeddings, same JSON keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_eval import E2_KEYS, _penn_like

from avr_gui.core.learn import (
    EncoderConfig,
    LearnedModel,
    build_encoder,
    save_model,
    shipped_pose_model,
)


@pytest.fixture
def penn_files(tmp_path: Path) -> tuple[Path, Path]:
    lib, q = tmp_path / "library.npz", tmp_path / "queries.npz"
    _penn_like(lib, 20, 0)
    _penn_like(q, 6, 1)
    return lib, q


def test_e2_with_a_model_file_keeps_the_keys_and_uses_its_embeddings(avr, tmp_path, penn_files):
    lib, q = penn_files
    stem = tmp_path / "model"
    save_model(stem, LearnedModel(build_encoder(EncoderConfig(output_dim=16), seed=3)))
    raw = avr("eval", "e2", "--library", lib, "--queries", q, "--json")
    got = avr("eval", "e2", "--library", lib, "--queries", q, "--json", "--learned", f"{stem}.npz")
    assert raw.code == 0 and got.code == 0, got.err
    a, b = raw.json(), got.json()
    assert E2_KEYS <= set(b) and set(a) | {"learned"} == set(b)
    assert b["learned"] == f"{stem}.npz" and (b["queries"], b["library"]) == (6, 20)
    # Other frame vectors (10 fps embeddings, not 30 fps pose vectors): other alignments.
    assert a["fpe_draq"] != b["fpe_draq"]
    none = avr("eval", "e2", "--library", lib, "--queries", q, "--json", "--learned", "none")
    assert none.json() == a


def test_learned_errors_are_one_line(avr, tmp_path, penn_files):
    lib, q = penn_files
    r = avr("eval", "e2", "--library", lib, "--queries", q, "--learned", tmp_path / "nope")
    assert r.code == 2 and "missing" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    r = avr("eval", "e4", "--learned", "shipped")
    assert r.code == 2 and "e2 only" in r.err, r.err
    if shipped_pose_model() is None:
        r = avr("eval", "e2", "--library", lib, "--queries", q, "--learned", "shipped")
        assert r.code == 2 and "shipped pose model is not installed" in r.err, r.err
        assert len(r.err.strip().splitlines()) == 1
