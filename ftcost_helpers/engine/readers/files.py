"""Reading a file the user named: a regular file only, never more than its cap.

A named path may point at anything. Only a regular file is taken: a folder, a FIFO (which
would block the reader for ever), a device (``/dev/zero`` never ends) or a socket is refused
by :func:`os.stat` before it is opened, and again by :func:`os.fstat` once open (the path
may have been swapped in between). It is opened with ``O_NONBLOCK``, so that even a FIFO
put there in that moment cannot block the open, and at most ``cap + 1`` bytes are read, so
a file over its cap is refused without being read whole.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ftcost_helpers.engine.readers.errors import ParamsError

READ_CHUNK_BYTES = 65_536


def _kind_of(mode: int) -> str | None:
    """What a file that is not a regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a pipe (FIFO), not a file: refused unread"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file: refused unread"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file: refused unread"
    return "is not a regular file: refused unread"


def _too_big(cap: int) -> str:
    size = f"{cap // 1_000_000} MB" if cap >= 1_000_000 else f"{cap:,} bytes"
    return f"larger than {size}: refused unread"


def _open_regular(path: Path, key: str) -> int:
    """A descriptor open for reading on ``path``, a regular file (ParamsError otherwise)."""
    try:
        kind = _kind_of(os.stat(path).st_mode)
    except FileNotFoundError:
        raise ParamsError(path, key, "file not found") from None
    except OSError as exc:
        raise ParamsError(path, key, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    except ValueError:  # a NUL character: no file can have that name
        raise ParamsError(path, key, "not a usable file name (it contains a NUL character)") from None
    if kind is not None:
        raise ParamsError(path, key, kind)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise ParamsError(path, key, "file not found") from None
    except OSError as exc:
        raise ParamsError(path, key, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    kind = _kind_of(os.fstat(descriptor).st_mode)
    if kind is not None:
        os.close(descriptor)
        raise ParamsError(path, key, kind)
    return descriptor


def read_bytes(path: str | Path, cap: int, key: str = "") -> bytes:
    """The bytes of the regular file ``path``, refused (:class:`ParamsError`, naming ``key``)
    when it is no regular file or holds more than ``cap`` bytes; at most ``cap + 1`` bytes
    are ever read."""
    path = Path(path)
    descriptor = _open_regular(path, key)
    try:
        if os.fstat(descriptor).st_size > cap:
            raise ParamsError(path, key, _too_big(cap))
        chunks: list[bytes] = []
        left = cap + 1
        while left > 0:
            chunk = os.read(descriptor, min(left, READ_CHUNK_BYTES))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise ParamsError(path, key, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > cap:
        raise ParamsError(path, key, _too_big(cap))
    return data


def read_text(path: str | Path, cap: int, key: str = "") -> str:
    """The UTF-8 text of the regular file ``path`` (a byte-order mark dropped), within ``cap``
    bytes (see :func:`read_bytes`)."""
    raw = read_bytes(path, cap, key)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParamsError(path, key, f"not UTF-8 text (byte {exc.start})") from None
