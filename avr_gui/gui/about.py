"""The About box: versions of everything that matters and the compute device."""

from __future__ import annotations

import importlib.metadata as md

from PySide6 import QtCore, QtWidgets

from avr_gui import __version__

_PACKAGES = (
    ("PySide6", "PySide6-Essentials"),
    ("pyqtgraph", "pyqtgraph"),
    ("NumPy", "numpy"),
    ("Numba", "numba"),
    ("PyAV", "av"),
    ("OpenCV", "opencv-python-headless"),
    ("faiss", "faiss-cpu"),
    ("PyTorch", "torch"),
)


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def about_text(encoder: str | None = None) -> str:
    """Plain-text versions, the compute device and the library's encoder."""
    from avr_gui.core.device import resolve_device

    try:
        device = resolve_device()
        aligner = resolve_device(gpu_when_auto=False)  # "auto" keeps alignment on the CPU
        if aligner != device:
            device = f"{device} (features, learning; alignment on {aligner})"
    except Exception as exc:  # a bad AVR_DEVICE must not stop the About box
        device = f"unavailable ({exc})"
    lines = [f"AVR Studio {__version__}", f"Qt {QtCore.qVersion()}"]
    lines += [f"{label} {_version(dist)}" for label, dist in _PACKAGES]
    lines.append(f"Compute device: {device}")
    if encoder:
        lines.append(f"Library encoder: {encoder}")
    lines.append("Method: Sync from the Sea (Dave et al., arXiv 2409.01445)")
    return "\n".join(lines)


def show_about(parent: QtWidgets.QWidget, encoder: str | None = None) -> None:
    """Show the About box."""
    QtWidgets.QMessageBox.about(parent, "About AVR Studio", about_text(encoder))
