"""The learned encoder read and run with NumPy (core/learn/infer.py): what queries use."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.errors import InputError
from avr_gui.core.learn.apply import describe, embed
from avr_gui.core.learn.config import EncoderConfig
from avr_gui.core.learn.infer import load_inference_model
from avr_gui.core.learn.shipped import shipped_inference_model, shipped_pose_model_path

torch = pytest.importorskip("torch")

from avr_gui.core.learn.model import build_encoder  # noqa: E402
from avr_gui.core.learn.store import LearnedModel, load_model, save_model  # noqa: E402


def _clip(t: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((t, d)).astype(np.float32)
    valid = rng.random(t) > 0.2
    return f, valid


def test_the_shipped_model_embeds_as_torch_does() -> None:
    numpy_model = shipped_inference_model()
    torch_model = load_model(shipped_pose_model_path())
    assert numpy_model is not None
    assert numpy_model.config == torch_model.config
    for seed, t in ((0, 1), (1, 7), (2, 120)):  # shorter and longer than the receptive field
        f, v = _clip(t, numpy_model.config.input_dim, seed)
        a, b = embed(numpy_model, f, v), embed(torch_model, f, v)
        assert a.shape == b.shape and a.dtype == np.float32
        np.testing.assert_allclose(a, b, atol=2e-5)
        np.testing.assert_allclose(
            describe(numpy_model, f, v), describe(torch_model, f, v), atol=2e-5
        )
    assert numpy_model.standardizer is not None
    np.testing.assert_allclose(numpy_model.standardizer.mean, torch_model.standardizer.mean)


def test_another_shape_saved_and_read_back_embeds_as_torch_does(tmp_path: Path) -> None:
    config = EncoderConfig(input_dim=9, hidden=16, output_dim=6, kernel=3, dilations=(1, 3))
    enc = build_encoder(config, seed=5)
    with torch.no_grad():  # non-trivial biases and norms, not the init's zeros and ones
        for p in enc.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    save_model(tmp_path / "m", LearnedModel(enc, None, {"note": "test"}))
    numpy_model = load_inference_model(tmp_path / "m.json")
    assert numpy_model.meta == {"note": "test"} and numpy_model.standardizer is None
    f, v = _clip(50, 9, 3)
    np.testing.assert_allclose(embed(numpy_model, f, v), embed(enc, f, v), atol=2e-5)
    assert not embed(numpy_model, f, v)[~v].any()  # invalid frames embed to zero


def test_damaged_model_files_are_one_line_errors(tmp_path: Path) -> None:
    config = EncoderConfig(input_dim=4, hidden=8, output_dim=3, kernel=3, dilations=(1,))
    save_model(tmp_path / "m", LearnedModel(build_encoder(config, seed=0), None, {}))
    npz, js = tmp_path / "m.npz", tmp_path / "m.json"
    # Weights of another shape, with a matching checksum: caught by the shape check.
    doc = json.loads(js.read_text())
    doc["encoder"]["hidden"] = 10
    js.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="does not fit its encoder settings") as err:
        load_inference_model(tmp_path / "m")
    assert "\n" not in str(err.value)
    # Weights changed after the description was written.
    npz.write_bytes(npz.read_bytes()[:-3])
    with pytest.raises(InputError, match="does not match"):
        load_inference_model(tmp_path / "m")
    npz.unlink()
    with pytest.raises(InputError, match="missing"):
        load_inference_model(tmp_path / "m")


def test_a_query_of_performers_does_not_import_torch(tmp_path: Path) -> None:
    # The point of the NumPy path: a query with the shipped pose model never loads torch
    # (importing it cost a command-line query 1.7 s of its 3.5 s).
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from avr_gui.core.demo.pose_library import add_joint_clips
        from avr_gui.core.demo.synth_library import generate_skeletons
        from avr_gui.core.library import Library
        from avr_gui.core.library.learned import default_pose_model
        sk = generate_skeletons(per_action=2, seed=4)
        with Library.open(Path({str(tmp_path / "idx")!r})) as lib:
            add_joint_clips(lib, [(f"c{{k}}", c.joints) for k, c in enumerate(sk)])
            first = sorted(e.path for e in lib.entries())[0]
            res = lib.query(first, top=3)
        assert res.results, "no results"
        print("model used:", type(default_pose_model()).__name__)
        print("model read:", default_pose_model.cache_info().misses)
        print("torch loaded:", "torch" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    ).stdout
    # The shipped model was read by the query (not skipped), and torch never loaded.
    assert "model used: InferenceModel" in out and "model read: 1" in out, out
    assert "torch loaded: False" in out, out
