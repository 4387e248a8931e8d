"""A library on a read-only mount opens in the app: listed, searchable, not indexable."""

from __future__ import annotations

from pathlib import Path

import pytest
from guiutil import wait_for

from avr_gui.cli import main as avr_main
from avr_gui.gui.main_window import MainWindow


@pytest.fixture
def readonly_index(tmp_path: Path, library_folder: Path, mount_readonly) -> Path:
    """An index of the GUI test clips, bind-mounted read-only (root only; else skipped)."""
    src = tmp_path / "index"
    assert (
        avr_main(["index", str(library_folder), "--index", str(src), "--backend", "thumb16"]) == 0
    )
    return mount_readonly(src)


def test_read_only_library_is_searchable(app, qtbot, settings, library_folder, readonly_index):
    before = sorted(p.name for p in readonly_index.rglob("*"))
    win = MainWindow(index_dir=str(readonly_index), settings=settings)
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    wait_for(qtbot, lambda: win.library is not None, 60)
    assert "read-only" in " ".join(win.notices.texts().values()).lower()
    assert not win.first_run.folder_button.isEnabled()
    wait_for(qtbot, lambda: any(e.status == "indexed" for e in win.entries), 20)
    query = next(e.path for e in win.entries if e.status == "indexed")
    win.set_query(query)
    win.run_query(query, None)
    wait_for(qtbot, lambda: win.query_job is not None and win.query_job.done, 60)
    assert win.result is not None and len(win.result.results) > 0
    win.close()
    assert sorted(p.name for p in readonly_index.rglob("*")) == before
