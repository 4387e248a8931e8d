"""``avr config`` and the settings behind every default: file < environment < option."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from avr_gui.cli import main


@pytest.fixture
def user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty settings file that ``avr`` reads (``$AVR_CONFIG``), no ``AVR_*`` noise."""
    path = tmp_path / "settings ü" / "config.toml"
    path.parent.mkdir()
    path.write_text("")
    for name in ("AVR_QUERY_TOP", "AVR_FEATURES_FPS", "AVR_LOG_LEVEL", "AVR_FEATURES_ENCODER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AVR_CONFIG", str(path))
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, clips: dict[str, Path]) -> dict[str, Path]:
    """A thumb16 library of the generated clips, indexed with the old ``--backend`` name."""
    root = tmp_path_factory.mktemp("config library")
    videos = root / "videos"
    videos.mkdir()
    for name in ("query", "warped", "other", "portrait"):
        shutil.copyfile(clips[name], videos / clips[name].name)
    return {"videos": videos, "index": root / "index", "query": videos / clips["query"].name}


def test_show_names_the_value_and_its_source(avr, user_file: Path) -> None:
    user_file.write_text("[query]\ntop = 3\n\n[features]\nfps = 12.5\n")
    r = avr("config", "show")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert f"query.top = 3  (user file {user_file})" in lines, r.out
    assert f"features.fps = 12.5  (user file {user_file})" in lines, r.out
    assert "query.candidates = 50  (default)" in lines, r.out

    r = avr("config", "show", "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["query.top"] == {"value": 3, "source": f"user file {user_file}"}
    assert doc["device"] == {"value": "auto", "source": "default"}
    assert doc["user_file"] == str(user_file)

    r = avr("config", "path")
    assert (r.code, r.out.strip()) == (0, str(user_file))


def test_environment_beats_the_file(avr, user_file: Path, monkeypatch) -> None:
    user_file.write_text("[query]\ntop = 3\n")
    monkeypatch.setenv("AVR_QUERY_TOP", "4")
    doc = avr("config", "show", "--json").json()
    assert doc["query.top"] == {"value": 4, "source": "environment AVR_QUERY_TOP"}


def test_unknown_key_is_one_line_naming_the_key_and_the_file(avr, user_file: Path) -> None:
    user_file.write_text("[query]\ntopp = 3\n")
    for args in (("config", "show"), ("features", "--list"), ("status", "--index", "x")):
        r = avr(*args)
        assert r.code == 2, (args, r.err)
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("avr: error:"), r.err
        assert "query.topp" in lines[0] and str(user_file) in lines[0], r.err
        assert "Traceback" not in r.err
    # The file's path is what the user needs to fix it: printed even now.
    r = avr("config", "path")
    assert (r.code, r.out.strip()) == (0, str(user_file))


def test_bad_value_on_the_command_line_is_one_line(avr, user_file: Path, clips) -> None:
    r = avr("features", clips["query"], "-o", user_file.parent / "f.npz", "--fps", "-1")
    assert r.code == 2, r.err
    (line,) = r.err.strip().splitlines()
    assert line.startswith("avr: error:") and "features.fps" in line and "command line" in line


def _frames(avr, video: Path, out: Path, *fps: str) -> int:
    r = avr("features", video, "-o", out, "--encoder", "thumb16", "--json", *fps)
    assert r.code == 0, r.err
    return int(r.json()["frames"])


def test_fps_from_file_environment_and_option(avr, user_file: Path, clips, monkeypatch) -> None:
    out = user_file.parent / "f.npz"
    video = clips["query"]  # 40 frames at 15 fps: 2.67 s
    at_10 = _frames(avr, video, out)
    user_file.write_text("[features]\nfps = 5\n")
    at_5 = _frames(avr, video, out)
    monkeypatch.setenv("AVR_FEATURES_FPS", "2.5")
    at_2_5 = _frames(avr, video, out)
    at_15 = _frames(avr, video, out, "--fps", "15")
    assert at_10 > at_5 > at_2_5, (at_10, at_5, at_2_5)
    assert at_15 > at_10


def test_top_from_file_environment_and_option(avr, user_file: Path, library) -> None:
    # The old option name still works (a hidden alias of --encoder).
    r = avr("index", library["videos"], "--index", library["index"], "--backend", "thumb16")
    assert r.code == 0, r.err
    st = avr("status", "--index", library["index"], "--json").json()
    assert (st["encoder"], st["indexed"]) == ("thumb16", 4)

    def results(*args: str) -> int:
        r = avr("query", library["query"], "--index", library["index"], *args)
        assert r.code == 0, r.err
        return len([line for line in r.out.splitlines() if line[:3].strip().isdigit()])

    assert results() == 3  # every other clip (the default 10 is more)
    user_file.write_text("[query]\ntop = 1\n")
    assert results() == 1
    assert results("--top", "2") == 2


def _ensure_index(avr, library: dict[str, Path]) -> None:
    if not (library["index"] / "catalog.sqlite").exists():
        r = avr("index", library["videos"], "--index", library["index"], "--encoder", "thumb16")
        assert r.code == 0, r.err


def test_top_from_the_environment_beats_the_file(
    avr, user_file: Path, library, monkeypatch
) -> None:
    _ensure_index(avr, library)
    user_file.write_text("[query]\ntop = 1\n")
    monkeypatch.setenv("AVR_QUERY_TOP", "2")
    r = avr("query", library["query"], "--index", library["index"], "--json")
    assert r.code == 0, r.err
    assert len(r.json()["results"]) == 2
    r = avr("query", library["query"], "--index", library["index"], "--json", "--top", "3")
    assert len(r.json()["results"]) == 3


def test_encoder_and_verdict_thresholds_from_the_file(
    avr, user_file: Path, library, tmp_path: Path
) -> None:
    # A new library takes the file's encoder (one with a shipped verdict model).
    user_file.write_text('[features]\nencoder = "effnet-lite0"\n')
    index = tmp_path / "effnet index"
    r = avr("index", library["videos"], "--index", index, "--json", timeout=600)
    assert r.code == 0, r.err
    assert avr("status", "--index", index, "--json").json()["encoder"] == "effnet-lite0"
    user_file.write_text("[verdict]\nalignable = 0.002\nunlikely = 0.001\n")
    r = avr("query", library["query"], "--index", index, "--json", timeout=600)
    assert r.code == 0, r.err
    scored = [x for x in r.json()["results"] if x["alignable"] is not None]
    assert scored, r.out
    for x in scored:
        p = x["alignable"]
        word = "alignable" if p >= 0.002 else "possible" if p >= 0.001 else "unlikely"
        assert x["verdict"] == word, x
    user_file.write_text("[verdict]\nalignable = 0.1\nunlikely = 0.2\n")
    r = avr("query", library["query"], "--index", index)
    assert r.code == 2 and "verdict.unlikely" in r.err, r.err


def test_log_level_from_the_file_and_the_flags(user_file: Path, capsys) -> None:
    assert main(["-vv", "config", "path"]) == 0
    assert "avr: debug: command config" in capsys.readouterr().err
    user_file.write_text('[log]\nlevel = "debug"\n')
    assert main(["config", "show"]) == 0
    assert "avr: debug: command config" in capsys.readouterr().err
    assert main(["-q", "config", "show"]) == 0
    assert capsys.readouterr().err == ""
    user_file.write_text("")
    assert main(["config", "show", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["log.level"]["value"] == "warning"
