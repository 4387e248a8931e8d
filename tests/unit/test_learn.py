"""LRProp training core (avr_gui.core.learn): loss, determinism, checkpoints, storage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("tslearn")

from avr_gui.core.errors import InputError  # noqa: E402
from avr_gui.core.jobs import Cancelled, CancelToken  # noqa: E402
from avr_gui.core.learn.apply import clip_descriptor, embed, fit_standardizer  # noqa: E402
from avr_gui.core.learn.loss import (  # noqa: E402
    SoftDTWDivergence,
    clip_contrastive_loss,
    gaussian_prior,
    propagated_positions,
    propagation_loss,
    sigma2_at,
)
from avr_gui.core.learn.model import EncoderConfig, build_encoder  # noqa: E402
from avr_gui.core.learn.store import LearnedModel, load_model, save_model  # noqa: E402
from avr_gui.core.learn.train import (  # noqa: E402
    LabelledClip,
    TrainConfig,
    check_training_set,
    train_lrprop,
)

TINY = EncoderConfig(input_dim=6, hidden=16, output_dim=8, kernel=3, dilations=(1, 2))


def _clip(label: int, rng: np.random.Generator) -> LabelledClip:
    """A label's motion (a closed curve in 6-D) at a random speed profile, with noise."""
    n = int(rng.integers(18, 30))
    speed = rng.uniform(0.5, 2.0, 3)
    p = np.cumsum(np.interp(np.linspace(0, 2, n), [0, 1, 2], speed[:3]))
    p = (p - p[0]) / (p[-1] - p[0])
    k = np.arange(1, 7)[None, :]
    f = np.sin(2 * np.pi * p[:, None] * (k if label == 0 else k[:, ::-1]) / 3 + label)
    f = (f + rng.normal(0, 0.05, f.shape)).astype(np.float32)
    v = np.ones(n, bool)
    v[rng.integers(0, n)] = False
    return LabelledClip(str(label), ((f, v), (f[:, ::-1].copy(), v)))


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # Tiny convolutions: a thread pool costs more than it gives, most of all on a busy
    # machine. Restored afterwards for the other tests in the process.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def clips() -> list[LabelledClip]:
    rng = np.random.default_rng(3)
    return [_clip(k % 2, rng) for k in range(8)]


def _config(steps: int = 12, **kw) -> TrainConfig:
    settings = {"pairs_per_step": 4, "lr": 3e-3, "warmup": 2, "checkpoint_every": 4}
    return TrainConfig(steps=steps, encoder=TINY, **{**settings, **kw})


def _fixed_loss(encoder, clips: list[LabelledClip], config: TrainConfig) -> float:
    sd = SoftDTWDivergence(config.sdtw_gamma)
    total = []
    with torch.no_grad():
        for i in range(0, len(clips) - 2, 2):
            a, b = clips[i], clips[i + 2]  # same label
            ea = torch.from_numpy(embed(encoder, *a.views[0])[a.views[0][1]])
            eb = torch.from_numpy(embed(encoder, *b.views[0])[b.views[0][1]])
            kl, _ = propagation_loss(ea, eb, sigma2=config.prior_sigma2, tau=config.tau)
            total.append(float(kl + config.sdtw_weight * sd(ea, eb)))
    return float(np.mean(total))


def _weights(encoder) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in encoder.state_dict().items()}


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_loss_decreases_on_a_tiny_set(clips):
    config = _config(steps=24)
    before = _fixed_loss(build_encoder(TINY, config.seed), clips, config)
    result = train_lrprop(clips, config, device="cpu")
    after = _fixed_loss(result.encoder, clips, config)
    assert after < 0.9 * before, (before, after)
    assert [h["step"] for h in result.history if "loss" in h] == list(range(24))


def test_same_seed_same_weights_other_seed_other_weights(clips):
    a = train_lrprop(clips, _config(steps=4), device="cpu")
    b = train_lrprop(clips, _config(steps=4), device="cpu")
    c = train_lrprop(clips, _config(steps=4, seed=1), device="cpu")
    assert _same(_weights(a.encoder), _weights(b.encoder))
    assert not _same(_weights(a.encoder), _weights(c.encoder))


def test_cancel_leaves_a_checkpoint_and_resume_matches_an_uninterrupted_run(clips, tmp_path):
    config = _config(steps=12)
    whole = train_lrprop(clips, config, device="cpu")
    token = CancelToken()
    ckpt = tmp_path / "ckpt.npz"
    seen = []

    def progress(done: int, total: int, msg: str) -> None:
        seen.append(done)
        if done == 7:  # between checkpoints (every 4): the cancel must save its own
            token.cancel()

    with pytest.raises(Cancelled):
        train_lrprop(clips, config, checkpoint=ckpt, device="cpu", progress=progress, cancel=token)
    assert seen[-1] == 7  # stopped at the next step boundary
    resumed = train_lrprop(clips, config, checkpoint=ckpt, device="cpu")
    assert resumed.resumed_from == 7
    assert _same(_weights(whole.encoder), _weights(resumed.encoder))
    assert [h["step"] for h in resumed.history if "loss" in h] == list(range(12))


def test_a_checkpoint_of_other_settings_is_refused_and_kept(clips, tmp_path):
    ckpt = tmp_path / "ckpt.npz"
    train_lrprop(clips, _config(steps=4), checkpoint=ckpt, device="cpu")
    before = ckpt.read_bytes()
    with pytest.raises(InputError, match="other settings or data"):
        train_lrprop(clips, _config(steps=4, lr=1e-2), checkpoint=ckpt, device="cpu")
    assert ckpt.read_bytes() == before


_KILLED_RUN = textwrap.dedent(
    """
    import sys, time
    import torch
    torch.set_num_threads(1)
    sys.path.insert(0, {tests!r})
    from test_learn import _clip, _config
    import numpy as np
    from avr_gui.core.learn.train import train_lrprop
    rng = np.random.default_rng(3)
    clips = [_clip(k % 2, rng) for k in range(8)]
    def progress(done, total, msg):
        print(done, flush=True)
        time.sleep(0.2)  # slow enough for the parent to kill it mid-run
    config = _config(steps=16, sdtw_weight=0.0)
    train_lrprop(clips, config, checkpoint={ckpt!r}, device="cpu", progress=progress)
    """
)


def test_resume_after_kill_9_gives_the_uninterrupted_weights(clips, tmp_path):
    ckpt = tmp_path / "ckpt.npz"
    code = _KILLED_RUN.format(tests=str(Path(__file__).parent), ckpt=str(ckpt))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if int(line) >= 6:  # past a checkpoint (every 4 steps)
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # Without the soft-DTW term: the child then skips numba's first-call compilation
    # (seconds); what is tested here is the checkpoint, not the loss.
    config = _config(steps=16, sdtw_weight=0.0)
    resumed = train_lrprop(clips, config, checkpoint=ckpt, device="cpu")
    assert 4 <= resumed.resumed_from < 16
    whole = train_lrprop(clips, config, device="cpu")
    wa, wb = _weights(whole.encoder), _weights(resumed.encoder)
    # Across processes the CPU kernels may round differently in the last bit (seen:
    # 6e-8 in the weights, 1e-6 in a recorded loss); within a process it is exact.
    assert all(np.allclose(wa[k], wb[k], rtol=0, atol=1e-6) for k in wa)
    la, lb = ([h["loss"] for h in r.history] for r in (whole, resumed))
    assert len(la) == len(lb) == 16 and np.allclose(la, lb, rtol=0, atol=1e-5)


def test_save_load_round_trip_without_pickle(clips, tmp_path):
    result = train_lrprop(clips, _config(steps=3), device="cpu")
    std = fit_standardizer(result.encoder, [v for c in clips for v in c.views])
    npz, js = save_model(tmp_path / "m", LearnedModel(result.encoder, std, {"note": "x"}))
    with np.load(npz, allow_pickle=False) as z:  # every array loads without pickle
        assert all(z[k].dtype != object for k in z.files)
    loaded = load_model(tmp_path / "m.json")
    f, v = clips[0].views[0]
    assert np.array_equal(embed(result.encoder, f, v), embed(loaded, f, v))
    assert loaded.meta == {"note": "x"}
    assert np.allclose(loaded.standardizer.mean, std.mean, atol=1e-6)
    # A swapped or half-written weights file is refused, not loaded.
    npz.write_bytes(npz.read_bytes()[:-10])
    with pytest.raises(InputError, match="does not match"):
        load_model(tmp_path / "m")
    js.unlink()
    with pytest.raises(InputError, match="missing"):
        load_model(tmp_path / "m")


@pytest.mark.parametrize("length", [1, 2, 9, 40])
def test_untrained_encoder_has_no_positional_shortcut(length):
    enc = build_encoder(EncoderConfig(), seed=0)
    row = np.random.default_rng(0).normal(size=50).astype(np.float32)
    e = embed(enc, np.repeat(row[None], length, 0), np.ones(length, bool))
    assert np.allclose(e, e[:1], atol=1e-6)
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)


def test_embed_zeroes_invalid_frames_and_checks_shapes():
    enc = build_encoder(TINY, seed=0)
    f = np.random.default_rng(0).normal(size=(10, 6)).astype(np.float32)
    v = np.ones(10, bool)
    v[[0, 5]] = False
    e = embed(enc, f, v)
    assert e.shape == (10, 8) and not e[[0, 5]].any()
    d = clip_descriptor(e, f, v)
    assert d.shape == (16,)
    with pytest.raises(InputError):
        embed(enc, f[:, :5], v)


def test_prior_follows_the_path():
    path = np.array([[0, 0], [1, 0], [2, 1], [2, 2], [2, 3], [3, 4]])
    pos = propagated_positions(path, 4)
    assert np.allclose(pos, [0, 0, 2, 4])
    q = gaussian_prior(pos, 5, sigma2_at(10.0))
    assert np.allclose(q.sum(1), 1.0) and list(q.argmax(1)) == [0, 0, 2, 4]
    assert sigma2_at(30.0) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([], "no labelled clips"),
        (["a", "a", "a"], "only one label"),
        (["a", "a", "b"], "single clip"),
    ],
)
def test_unusable_labels_are_refused_in_one_line(labels, message):
    with pytest.raises(InputError, match=message) as err:
        check_training_set(labels)
    assert "\n" not in str(err.value)


def test_negatives_and_the_clip_term_penalise_confusable_actions():
    rng = np.random.default_rng(0)
    a = torch.nn.functional.normalize(torch.from_numpy(rng.normal(size=(12, 8))), dim=1)
    b = a + 0.01 * torch.from_numpy(rng.normal(size=(12, 8)))
    b = torch.nn.functional.normalize(b, dim=1)
    far = -a  # another action that looks nothing like this one
    near = a.clone()  # another action with the same frames
    base, _ = propagation_loss(a, b, sigma2=1.0, tau=0.1)
    with_far, _ = propagation_loss(a, b, sigma2=1.0, tau=0.1, negatives=far)
    with_near, _ = propagation_loss(a, b, sigma2=1.0, tau=0.1, negatives=near)
    assert float(base) <= float(with_far) + 1e-6 < float(with_near)
    d = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    apart = clip_contrastive_loss(d, np.array([0, 0, 1, 1]), 0.1)
    mixed = clip_contrastive_loss(d, np.array([0, 1, 0, 1]), 0.1)
    assert float(apart) < float(mixed)
    assert float(clip_contrastive_loss(d, np.array([0, 1, 2, 3]), 0.1)) == 0.0


def test_fine_tuning_starts_from_the_given_weights_and_leaves_them_alone(clips):
    base = train_lrprop(clips, _config(steps=4), device="cpu").encoder
    before = _weights(base)
    tuned = train_lrprop(clips, _config(steps=3, seed=7), device="cpu", init=base)
    assert _same(before, _weights(base))
    fresh = train_lrprop(clips, _config(steps=3, seed=7), device="cpu")
    assert not _same(_weights(tuned.encoder), _weights(fresh.encoder))
    other = EncoderConfig(input_dim=6, hidden=8, output_dim=8, kernel=3, dilations=(1,))
    with pytest.raises(InputError, match="shape"):
        train_lrprop(clips, _config(steps=1), device="cpu", init=build_encoder(other, 0))


def test_the_shipped_pose_model_loads_and_embeds_pose_features():
    from avr_gui.core.demo.synth_library import generate_skeletons
    from avr_gui.core.features.pose.motion import motion_features
    from avr_gui.core.learn.apply import describe
    from avr_gui.core.learn.shipped import shipped_pose_model

    model = shipped_pose_model()
    assert model is not None, "resources/lrprop_pose.{npz,json} missing or unreadable"
    assert model.config.input_dim == 50 and model.standardizer is not None
    assert "research" in model.meta["licence"]
    f, v = motion_features(generate_skeletons(per_action=1)[0].joints)
    e = embed(model, f, v)
    assert e.shape == (len(f), model.config.output_dim)
    assert np.allclose(np.linalg.norm(e[v], axis=1), 1.0, atol=1e-5)
    d = describe(model, f, v)
    assert d.shape == model.standardizer.mean.shape and np.isfinite(d).all()
