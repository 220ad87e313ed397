"""Files only their owner can read: the data folder and what is in it. Standard library only
(the Python client's spool uses it); any thread.

With the usual umask 022 the database, its WAL, the logs and the spool came out readable by
every user of the machine: usage, projects and the ingest token's neighbours. Folders are
made 0700 and files 0600 whatever the umask, and a token file another user could have
planted is not trusted (``foreign_reason``).
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False  # typing is not imported at run time: the statusline counts milliseconds
if TYPE_CHECKING:
    from typing import IO

_POSIX = os.name == "posix"


def private_dir(path: Path) -> None:
    """``path`` as a folder only its owner can enter (missing parents are made as usual)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=0o700, exist_ok=True)
    if _POSIX and _owned(path):
        os.chmod(path, 0o700)


def private_file(path: Path) -> None:
    """``path`` exists (empty if new) and only its owner can read or write it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    if _POSIX and _owned(path):
        os.chmod(path, 0o600)


def open_private(path: Path | str, mode: str) -> IO[bytes]:
    """``open(path, mode)`` for "wb" or "ab", creating the file 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "ab" else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, 0o600), mode)


def foreign_reason(path: Path) -> str | None:
    """Why ``path`` cannot be trusted as ours — another user owns it, or others can write
    it — or None (also when it does not exist, or off POSIX)."""
    if not _POSIX:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if st.st_uid != os.getuid():
        return f"{path} belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"{path} can be changed by other users (mode {st.st_mode & 0o777:o})"
    return None


def _owned(path: Path) -> bool:
    try:
        return os.stat(path).st_uid == os.getuid()
    except OSError:
        return False
