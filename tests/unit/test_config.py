"""The settings layers: defaults < user file < environment < command line."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from avr_gui.core.config import (
    KEYS,
    Config,
    ConfigError,
    format_config,
    load_config,
    user_config_path,
)
from avr_gui.core.device import resolve_device
from avr_gui.core.errors import InputError

EMPTY_ENV: dict[str, str] = {}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def load(user_file: Path, env: dict[str, str] | None = None, **overrides: object) -> Config:
    return load_config(
        user_file=user_file,
        environ=EMPTY_ENV if env is None else env,
        overrides={k.replace("__", "."): v for k, v in overrides.items()} or None,
    )


# -------------------------------------------------------------------------- keys


def test_every_key_has_a_valid_default_and_its_env_name() -> None:
    assert set(KEYS) == {
        "features.encoder",
        "features.pose_model",
        "features.fps",
        "features.size",
        "device",
        "query.top",
        "query.candidates",
        "verdict.alignable",
        "verdict.unlikely",
        "models.dir",
        "log.level",
    }
    for key, setting in KEYS.items():
        assert setting.key == key
        assert setting.env == "AVR_" + key.upper().replace(".", "_")
        assert isinstance(setting.default, setting.type)
        assert setting.help
    assert KEYS["device"].env == "AVR_DEVICE"
    assert KEYS["models.dir"].env == "AVR_MODELS_DIR"


def test_defaults_without_file_or_environment(user_file: Path) -> None:
    config = load(user_file)  # the file does not exist: that is fine
    assert not config.user_file_exists
    assert config["features.encoder"] == "auto"
    assert config["features.fps"] == 10.0
    assert config["features.size"] == 224
    assert config["device"] == "auto"
    assert config["query.top"] == 10
    assert config["query.candidates"] == 50
    assert config["verdict.alignable"] == 0.5
    assert config["verdict.unlikely"] == 0.2
    assert config["models.dir"] == ""
    assert config["log.level"] == "warning"
    assert {source for _, _, source in config.items()} == {"default"}


# -------------------------------------------------------------------- precedence


def test_each_layer_wins_over_the_one_below(user_file: Path) -> None:
    write(user_file, "device = 'cpu'\n[query]\ntop = 3\ncandidates = 30\n[features]\nfps = 12\n")
    env = {"AVR_QUERY_TOP": "4", "AVR_QUERY_CANDIDATES": "40"}
    config = load(user_file, env, query__top=5)

    assert config["features.size"] == 224
    assert config.source("features.size") == "default"
    assert config["device"] == "cpu"
    assert config.source("device") == f"user file {user_file}"
    assert config["features.fps"] == 12.0 and isinstance(config["features.fps"], float)
    assert config["query.candidates"] == 40
    assert config.source("query.candidates") == "environment AVR_QUERY_CANDIDATES"
    assert config["query.top"] == 5
    assert config.source("query.top") == "command line"
    assert config.get("query.top") == 5
    assert config.user_file == user_file and config.user_file_exists


def test_overrides_of_none_are_not_given(user_file: Path) -> None:
    config = load(user_file, {"AVR_QUERY_TOP": "4"}, query__top=None, device=None)
    assert config["query.top"] == 4
    assert config.source("device") == "default"


def test_with_overrides_returns_a_new_config(user_file: Path) -> None:
    base = load(user_file)
    changed = base.with_overrides({"query.top": 7, "features.fps": "2.5", "device": None})
    assert (base["query.top"], changed["query.top"]) == (10, 7)
    assert changed["features.fps"] == 2.5  # a string is parsed like an environment value
    assert changed.source("device") == "default"
    custom = base.with_overrides({"log.level": "INFO"}, source="settings dialog")
    assert custom["log.level"] == "info"
    assert custom.source("log.level") == "settings dialog"
    with pytest.raises(AttributeError):
        base.user_file = Path("elsewhere")  # type: ignore[misc]
    assert base == load(user_file) and hash(base) == hash(load(user_file))


def test_items_are_sorted_triples(user_file: Path) -> None:
    items = load(user_file, {"AVR_DEVICE": "cpu"}).items()
    assert [k for k, _, _ in items] == sorted(KEYS)
    assert ("device", "cpu", "environment AVR_DEVICE") in items


def test_values_are_normalized(user_file: Path) -> None:
    write(user_file, "device = ' CUDA:1 '\n[log]\nlevel = 'DEBUG'\n")
    config = load(user_file)
    assert (config["device"], config["log.level"]) == ("cuda:1", "debug")
    assert load(user_file, {"AVR_DEVICE": " CPU "})["device"] == "cpu"


def test_empty_environment_variable_counts_as_not_set(user_file: Path) -> None:
    config = load(user_file, {"AVR_DEVICE": "", "AVR_QUERY_TOP": "  ", "AVR_MODELS_DIR": ""})
    assert config.source("device") == config.source("query.top") == "default"
    assert config["models.dir"] == ""


def test_other_avr_variables_are_ignored(user_file: Path) -> None:
    config = load(user_file, {"AVR_QUERY_TOPP": "x", "AVR_SOMETHING": "1", "AVR_CONFIG": "/x"})
    assert {source for _, _, source in config.items()} == {"default"}


# ------------------------------------------------------------------------ errors


def one_line_error(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    assert text.startswith("config: ")
    return text


def test_unknown_key_in_file_names_key_and_file(user_file: Path) -> None:
    write(user_file, "[query]\ntopp = 3\n")
    with pytest.raises(ConfigError) as excinfo:
        load(user_file)
    text = one_line_error(excinfo)
    assert f"unknown key 'query.topp' in {user_file}" in text
    assert "did you mean 'query.top'" in text
    assert excinfo.value.key == "query.topp"
    assert isinstance(excinfo.value, InputError)


def test_unknown_top_level_key_and_unknown_tables(user_file: Path) -> None:
    write(user_file, "devise = 'cpu'\n")
    with pytest.raises(ConfigError, match=r"unknown key 'devise' in .*config\.toml"):
        load(user_file)
    write(user_file, "[qery]\ntop = 3\n")
    with pytest.raises(ConfigError) as excinfo:
        load(user_file)
    assert f"unknown table [qery] in {user_file}" in one_line_error(excinfo)
    write(user_file, "[query.extra]\ntop = 3\n")
    with pytest.raises(ConfigError, match=r"unknown table \[query\.extra\]"):
        load(user_file)
    write(user_file, "[device]\nname = 'cpu'\n")
    with pytest.raises(ConfigError, match="'device' is a setting, not a table"):
        load(user_file)
    write(user_file, "query = 3\n")
    with pytest.raises(ConfigError, match=r"'query' is a table"):
        load(user_file)


@pytest.mark.parametrize(
    ("toml", "key", "fragment"),
    [
        ("[query]\ntop = 'ten'\n", "query.top", "must be an integer, not 'ten'"),
        ("[query]\ntop = 2.0\n", "query.top", "must be an integer"),
        ("[query]\ntop = true\n", "query.top", "must be an integer, not True"),
        ("[features]\nfps = 'fast'\n", "features.fps", "must be a number"),
        ("device = 1\n", "device", "must be a string"),
        ("[query]\ntop = 0\n", "query.top", "must be at least 1, not 0"),
        ("[features]\nfps = 0\n", "features.fps", "must be in (0, 120]"),
        ("[features]\nfps = nan\n", "features.fps", "must be in (0, 120]"),
        ("[features]\nsize = 8\n", "features.size", "must be in [16, 1024]"),
        ("[verdict]\nalignable = 1.0\n", "verdict.alignable", "must be in (0, 1)"),
        ("device = 'tpu'\n", "device", "must be auto, cpu, cuda or cuda:N"),
        ("[log]\nlevel = 'loud'\n", "log.level", "must be one of debug, info"),
        ("[features]\nencoder = ' '\n", "features.encoder", "must not be empty"),
    ],
)
def test_bad_value_in_file_names_key_and_file(
    user_file: Path, toml: str, key: str, fragment: str
) -> None:
    write(user_file, toml)
    with pytest.raises(ConfigError) as excinfo:
        load(user_file)
    text = one_line_error(excinfo)
    assert f"{key} in {user_file}" in text
    assert fragment in text
    assert excinfo.value.key == key


def test_int_is_accepted_for_a_float(user_file: Path) -> None:
    write(user_file, "[features]\nfps = 30\n")
    assert load(user_file)["features.fps"] == 30.0


@pytest.mark.parametrize(
    ("var", "value", "fragment"),
    [
        ("AVR_QUERY_TOP", "ten", "must be an integer, not 'ten'"),
        ("AVR_QUERY_TOP", "2.5", "must be an integer"),
        ("AVR_QUERY_CANDIDATES", "0", "must be at least 1"),
        ("AVR_FEATURES_FPS", "fast", "must be a number"),
        ("AVR_FEATURES_FPS", "500", "must be in (0, 120]"),
        ("AVR_DEVICE", "tpu", "must be auto, cpu, cuda or cuda:N"),
        ("AVR_LOG_LEVEL", "chatty", "must be one of"),
    ],
)
def test_bad_environment_value_names_the_variable(
    user_file: Path, var: str, value: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load(user_file, {var: value})
    text = one_line_error(excinfo)
    assert var in text and fragment in text
    assert excinfo.value.where == f"environment {var}"


def test_bad_override_names_the_key_and_the_command_line(user_file: Path) -> None:
    with pytest.raises(ConfigError, match=r"query\.top \(command line\) must be at least 1"):
        load(user_file, query__top=0)
    with pytest.raises(ConfigError, match=r"unknown key 'query\.topp' in the command line"):
        load(user_file, query__topp=3)
    with pytest.raises(ConfigError, match="must be an integer"):
        load(user_file, query__top="many")


def test_unknown_key_lookup_is_a_config_error(user_file: Path) -> None:
    config = load(user_file)
    for lookup in (config.get, config.__getitem__, config.source):
        with pytest.raises(ConfigError, match=r"unknown key 'query\.topp'"):
            lookup("query.topp")


def test_malformed_toml_names_file_and_line(user_file: Path) -> None:
    write(user_file, "[query]\ntop = 3\ncandidates = \n")
    with pytest.raises(ConfigError) as excinfo:
        load(user_file)
    text = one_line_error(excinfo)
    assert str(user_file) in text and "line 3" in text


def test_unreadable_files(user_file: Path, tmp_path: Path) -> None:
    user_file.write_bytes(b"device = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(user_file)
    with pytest.raises(ConfigError, match="is a folder"):
        load(tmp_path)


def test_verdict_thresholds_are_checked_as_a_pair(user_file: Path) -> None:
    write(user_file, "[verdict]\nunlikely = 0.6\n")
    with pytest.raises(ConfigError) as excinfo:
        load(user_file)
    text = one_line_error(excinfo)
    assert "verdict.unlikely" in text and "verdict.alignable" in text
    assert f"user file {user_file}" in text and "default" in text
    # Only the merged result counts: a higher alignable from a later layer makes it good.
    config = load(user_file, {"AVR_VERDICT_ALIGNABLE": "0.7"})
    assert (config["verdict.unlikely"], config["verdict.alignable"]) == (0.6, 0.7)
    assert load(user_file, verdict__alignable=0.8)["verdict.alignable"] == 0.8
    with pytest.raises(ConfigError, match=r"verdict\.unlikely .* verdict\.alignable"):
        load_config(user_file=user_file, environ={"AVR_VERDICT_ALIGNABLE": "0.7"}).with_overrides(
            {"verdict.alignable": 0.5}
        )
    with pytest.raises(ConfigError):
        load(user_file.with_name("none.toml"), verdict__unlikely=0.5)  # equal is not below


def test_config_error_keeps_its_attributes_across_processes() -> None:
    error = ConfigError("config: x", "query.top", "command line")
    cls, args = error.__reduce__()  # what a worker pool uses to send it back
    copy = cls(*args)
    assert (str(copy), copy.key, copy.where) == ("config: x", "query.top", "command line")


# ------------------------------------------------------------------------ paths


def test_user_config_path(tmp_path: Path) -> None:
    assert user_config_path({"HOME": "/home/u"}) == Path("/home/u/.config/avr-studio/config.toml")
    assert user_config_path({"HOME": "/home/u", "XDG_CONFIG_HOME": "/xdg"}) == Path(
        "/xdg/avr-studio/config.toml"
    )
    # The XDG spec says a relative value is to be ignored.
    assert user_config_path({"HOME": "/home/u", "XDG_CONFIG_HOME": "rel"}) == Path(
        "/home/u/.config/avr-studio/config.toml"
    )
    named = tmp_path / "mine.toml"
    assert user_config_path({"XDG_CONFIG_HOME": "/xdg", "AVR_CONFIG": str(named)}) == named


def test_avr_config_names_the_file_that_is_read(tmp_path: Path) -> None:
    named = write(tmp_path / "mine.toml", "[query]\ntop = 4\n")
    config = load_config(environ={"AVR_CONFIG": str(named), "HOME": str(tmp_path)})
    assert config["query.top"] == 4
    assert config.source("query.top") == f"user file {named}"
    xdg = tmp_path / "xdg"
    (xdg / "avr-studio").mkdir(parents=True)
    write(xdg / "avr-studio" / "config.toml", "[query]\ntop = 6\n")
    assert load_config(environ={"XDG_CONFIG_HOME": str(xdg)})["query.top"] == 6


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AVR_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("AVR_QUERY_TOP", "8")
    config = load_config()
    assert config["query.top"] == 8
    assert config.user_file == tmp_path / "absent.toml"
    monkeypatch.setenv("AVR_QUERY_TOP", "9")  # nothing is cached
    assert load_config()["query.top"] == 9


# ------------------------------------------------------------------------ format


def test_format_config(user_file: Path) -> None:
    write(user_file, "[features]\nencoder = 'pose'\n")
    text = format_config(load(user_file, {"AVR_DEVICE": "cpu"}, query__top=3))
    lines = text.splitlines()
    assert len(lines) == len(KEYS) + 1
    assert 'device = "cpu"  (environment AVR_DEVICE)' in lines
    assert f'features.encoder = "pose"  (user file {user_file})' in lines
    assert "features.fps = 10.0  (default)" in lines
    assert "query.top = 3  (command line)" in lines
    assert 'models.dir = ""  (default)' in lines
    assert lines[-1] == f"user file: {user_file} (exists)"
    # The value lines are TOML (dotted keys): they parse back to the values.
    parsed = tomllib.loads("\n".join(line.split("  (")[0] for line in lines[:-1]))
    assert parsed["device"] == "cpu" and parsed["query"] == {"top": 3, "candidates": 50}
    assert parsed["features"]["fps"] == 10.0
    missing = format_config(load(user_file.with_name("none.toml")))
    assert missing.splitlines()[-1].endswith("none.toml (not found)")


# ------------------------------------------------------------------------ device


def test_resolve_device_reads_the_device_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AVR_DEVICE", raising=False)
    monkeypatch.setenv("AVR_CONFIG", str(write(tmp_path / "c.toml", "device = 'cpu'\n")))
    assert resolve_device() == "cpu"
    assert resolve_device("auto") == "cpu"
    config = load_config(environ={}, user_file=tmp_path / "none.toml")
    assert resolve_device(config=config.with_overrides({"device": "cpu"})) == "cpu"
    assert resolve_device("cpu", config=config) == "cpu"


def test_bad_device_setting_falls_back_to_auto_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The front ends report a bad setting at start; a compute call must not fail on it.
    monkeypatch.setenv("AVR_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("AVR_DEVICE", "tpu")
    with pytest.raises(ConfigError, match="AVR_DEVICE"):
        load_config()
    with caplog.at_level("WARNING", logger="avr_gui.core.device"):
        assert resolve_device() == resolve_device("auto") in ("cpu", "cuda")
    assert any("AVR_DEVICE" in r.getMessage() for r in caplog.records)
    assert resolve_device("cpu") == "cpu"  # an explicit device never reads the setting


def test_an_unreadable_setting_is_reported_once_per_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Every alignment resolves its device: one bad file must not fill the log.
    monkeypatch.setenv("AVR_CONFIG", str(write(tmp_path / "c.toml", "[query]\ntopp = 3\n")))
    monkeypatch.delenv("AVR_DEVICE", raising=False)
    with caplog.at_level("WARNING"):
        for _ in range(5):
            assert resolve_device() in ("cpu", "cuda")
    reported = [r for r in caplog.records if "query.topp" in r.getMessage()]
    assert len(reported) == 1 and "using device 'auto'" in reported[0].getMessage()


# ---------------------------------------------------------------- import weight


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )


def test_importing_config_loads_no_heavy_module() -> None:
    code = (
        "import sys; import avr_gui.core.config as c; c.load_config(); "
        "heavy = ('torch', 'av', 'cv2', 'PySide6', 'numpy'); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy); "
        "assert not bad, bad"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr


def test_importing_the_core_sets_no_environment_but_opencv_users_do() -> None:
    code = (
        "import os, sys; import avr_gui.core, avr_gui.core.config; "
        "assert not [k for k in os.environ if k.startswith('OPENCV_')]; "
        "import avr_gui.core.video; "
        "assert os.environ['OPENCV_FFMPEG_LOGLEVEL'] == '-8'; "
        "assert os.environ['OPENCV_LOG_LEVEL'] == 'ERROR'"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr


def test_pose_model_takes_shipped_or_none(tmp_path: Path) -> None:
    f = tmp_path / "config.toml"
    f.write_text('[features]\npose_model = " None "\n')
    assert load(f).get_str("features.pose_model") == "none"
    f.write_text('[features]\npose_model = "mine"\n')
    with pytest.raises(ConfigError, match=r"features\.pose_model.*shipped, none"):
        load(f)
