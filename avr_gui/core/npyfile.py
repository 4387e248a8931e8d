"""Safe reading of NumPy files (``.npy``, ``.npz``) that a user hands over.

:func:`numpy.load` trusts what a file says about itself: a damaged ``.npy`` header that
claims a shape of ``(10**12, 1280)`` makes it try to allocate terabytes, and its
failures arrive as bare ``ValueError``, ``OSError``, ``EOFError`` or
``zipfile.BadZipFile`` whose text does not name the file. The readers here check the
magic string, the header, the dtype and the number of bytes the file really holds
*before* allocating anything, never unpickle, and raise one-line
:class:`~avr_gui.core.errors.UnsupportedFileError` subclasses that name the file.
"""

from __future__ import annotations

import contextlib
import math
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from avr_gui.core.errors import (
    AvrError,
    MissingFileError,
    UnreadableFileError,
    UnsupportedFileError,
)
from avr_gui.core.files import check_input_file

__all__ = ["load_npy", "load_npz", "npz_names"]

# Kinds of dtype a user's array may have: booleans, numbers and fixed-size strings
# (encoder names). Object arrays would need unpickling; structured (void) and
# date/time arrays have no use here and only widen what a crafted file can reach.
_ALLOWED_KINDS = frozenset("biufcUS")

# numpy's own default limit on the length of a header; real headers are < 200 bytes.
_MAX_HEADER = 10_000

# Deflate cannot expand data more than about 1032-fold; a member recorded as larger
# than that is damaged. The slack covers tiny members whose header dominates.
_DEFLATE_MAX_RATIO = 1032
_ZIP_SLACK = 1024

# Bytes read per call while filling an array.
_CHUNK = 1 << 20

# Longest piece of a library's own error text quoted in a message.
_DETAIL_CHARS = 160

_Path = str | os.PathLike[str]


def load_npy(path: _Path) -> np.ndarray:
    """Read one array from a ``.npy`` file without trusting its header.

    Parameters
    ----------
    path : path-like
        A file written by :func:`numpy.save`.

    Returns
    -------
    numpy.ndarray, shape as stored
        The array, owning its memory. Fortran-ordered files come back as F-contiguous
        arrays, as :func:`numpy.load` gives them.

    Raises
    ------
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError
        The path names no readable, non-empty file.
    UnsupportedFileError
        Not a ``.npy`` file, a damaged or truncated one, or an array of objects or of
        another dtype that is not numbers or text.
    """
    p = _check_file(path)
    with _reading(p), open(p, "rb") as fh:
        return _read_array(fh, os.fstat(fh.fileno()).st_size, str(p))


def load_npz(path: _Path, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Read arrays from a ``.npz`` archive without trusting its members.

    Each member's header and declared size are checked against the size the zip
    directory records for it before any memory is allocated.

    Parameters
    ----------
    path : path-like
        A file written by :func:`numpy.savez` or :func:`numpy.savez_compressed`.
    keys : iterable of str, optional
        Names of the arrays to read (as :func:`numpy.load` names them, without
        ``.npy``). Names the archive lacks are left out of the result, so the caller
        decides which are required. Default: every array in the archive.

    Returns
    -------
    dict of str to numpy.ndarray
        The arrays read, by name.

    Raises
    ------
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError
        The path names no readable, non-empty file.
    UnsupportedFileError
        Not a zip archive, a damaged or truncated one, or a member that is not a
        ``.npy`` array of numbers or text (for example an array of objects).
    """
    p = _check_file(path)
    wanted = None if keys is None else set(keys)
    out: dict[str, np.ndarray] = {}
    with _reading(p), zipfile.ZipFile(p) as zf:
        for key, info in _members(zf).items():
            if wanted is None or key in wanted:
                out[key] = _read_member(zf, info, f"{p}: array '{key}'")
    return out


def npz_names(path: _Path) -> list[str]:
    """Names of the arrays in a ``.npz`` archive, read from its directory only.

    Raises
    ------
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError, UnsupportedFileError
        As :func:`load_npz`.
    """
    p = _check_file(path)
    with _reading(p), zipfile.ZipFile(p) as zf:
        return sorted(_members(zf))


def _members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's files by array name (``numpy.savez`` appends ``.npy`` to each)."""
    members = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = info.filename
        members[name[:-4] if name.endswith(".npy") else name] = info
    return members


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    _check_declared_size(info, where)
    with zf.open(info) as fh:
        return _read_array(fh, info.file_size, where)


def _check_declared_size(info: zipfile.ZipInfo, where: str) -> None:
    """Refuse a member whose recorded size its compressed bytes cannot produce.

    The array is sized from the recorded ``file_size``; a damaged directory entry that
    claims terabytes must fail here, not in the allocation.
    """
    limit = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: _DEFLATE_MAX_RATIO}
    ratio = limit.get(info.compress_type)
    if ratio is not None and info.file_size > ratio * info.compress_size + _ZIP_SLACK:
        raise UnsupportedFileError(
            f"{where}: damaged archive: {_human(info.file_size)} recorded for "
            f"{_human(info.compress_size)} of stored data"
        )


def _check_file(path: _Path) -> Path:
    """``path`` as a Path once it is known to name a readable, non-empty file."""
    return check_input_file(path, "NumPy")


def _read_array(fh: BinaryIO, total: int, where: str) -> np.ndarray:
    """Read the ``.npy`` stream ``fh`` of ``total`` bytes, checking before allocating."""
    shape, fortran, dtype = _read_header(fh, where)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    available = total - fh.tell()
    if nbytes > available:
        raise UnsupportedFileError(
            f"{where}: damaged or truncated: the header declares {dtype} {shape} "
            f"({_human(nbytes)}) but only {_human(max(available, 0))} follow it"
        )
    data = np.empty(count, dtype=dtype)
    _read_into(fh, data, where)
    if fortran:
        return data.reshape(shape[::-1]).transpose()
    return data.reshape(shape)


def _read_header(fh: BinaryIO, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from a ``.npy`` header, refusing unsafe dtypes."""
    try:
        version = np.lib.format.read_magic(fh)
    except ValueError:
        raise UnsupportedFileError(
            f"{where}: not a readable NumPy file (it does not start with the .npy signature)"
        ) from None
    if version == (1, 0):
        header = np.lib.format.read_array_header_1_0(fh, max_header_size=_MAX_HEADER)
    elif version == (2, 0):
        header = np.lib.format.read_array_header_2_0(fh, max_header_size=_MAX_HEADER)
    else:
        raise UnsupportedFileError(
            f"{where}: not a readable NumPy file (format version {version[0]}.{version[1]} "
            "is not supported)"
        )
    shape, fortran, dtype = header
    if any(n < 0 for n in shape):
        raise UnsupportedFileError(f"{where}: damaged header (negative shape {shape})")
    if dtype.hasobject:
        # Reading an object array means unpickling, which can run any code.
        raise UnsupportedFileError(
            f"{where}: holds Python objects ({dtype}), which are never loaded; "
            "save plain numeric arrays"
        )
    if dtype.kind not in _ALLOWED_KINDS or dtype.itemsize == 0:
        raise UnsupportedFileError(f"{where}: arrays of {dtype} are not supported")
    return tuple(shape), bool(fortran), dtype


def _read_into(fh: BinaryIO, out: np.ndarray, where: str) -> None:
    """Fill the contiguous array ``out`` from ``fh``; a short read is truncation."""
    # np.empty leaves pages untouched until they are written, unlike a zeroed bytearray,
    # so memory is only committed for bytes that really arrive.
    view = memoryview(out.view(np.uint8))
    done = 0
    while done < out.nbytes:
        # Chunks: a zip member's readinto goes through a temporary bytes object of the
        # requested size, so one huge request would double the memory and the copying.
        got = fh.readinto(view[done : done + _CHUNK])
        if not got:
            raise UnsupportedFileError(
                f"{where}: truncated: {_human(out.nbytes)} of data expected, {_human(done)} found"
            )
        done += got


@contextlib.contextmanager
def _reading(p: Path) -> Iterator[None]:
    """Turn every way reading ``p`` can fail into a one-line error naming ``p``."""
    try:
        yield
    except AvrError:
        raise
    except FileNotFoundError:
        raise MissingFileError(f"{p}: no such file") from None
    except PermissionError:
        raise UnreadableFileError(f"{p}: permission denied") from None
    except MemoryError:
        raise UnsupportedFileError(f"{p}: too large to load into memory") from None
    except zipfile.BadZipFile as exc:
        raise UnsupportedFileError(f"{p}: not a readable .npz archive ({_detail(exc)})") from None
    except (ValueError, EOFError, zlib.error) as exc:
        raise UnsupportedFileError(
            f"{p}: not a readable NumPy file, damaged ({_detail(exc)})"
        ) from None
    except (NotImplementedError, RuntimeError) as exc:
        # zipfile: an unsupported compression method, or an encrypted member.
        raise UnsupportedFileError(f"{p}: cannot be read ({_detail(exc)})") from None
    except OSError as exc:
        raise UnreadableFileError(f"{p}: cannot be read ({exc.strerror or exc})") from None


def _detail(exc: BaseException) -> str:
    """A library's error text on one line, cut short."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 3] + "..."


def _human(nbytes: int) -> str:
    """A byte count a person can read: ``812 bytes``, ``4.1 MB``, ``5.1 TB``."""
    if nbytes < 1000:
        return f"{nbytes} bytes"
    value = float(nbytes)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        value /= 1000
        if value < 1000:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.3g} EB"
