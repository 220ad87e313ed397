"""This machine's name, as every event stored here carries it (SPEC §14). Any thread; stdlib
only, so quick commands can use it.

The default is the host name without its domain (``laptop.local`` -> ``laptop``); config.toml's
``machine`` overrides it, e.g. to keep a name across a reinstall or to tell two machines with
the same host name apart.
"""

from __future__ import annotations

import os
import re

MAX_NAME = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_machine_name() -> str:
    """The host name's first label, cleaned to letters, digits, ``.``, ``_`` and ``-``."""
    if hasattr(os, "uname"):  # the host name, without importing socket (~3 ms of a quick command)
        node = os.uname().nodename
    else:
        import socket

        node = socket.gethostname()
    host = node.split(".", 1)[0]
    return clean_machine_name(host) or "this-machine"


def clean_machine_name(name: str) -> str:
    return _UNSAFE.sub("-", name.strip()).strip("-")[:MAX_NAME]
