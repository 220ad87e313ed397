"""Kilo CLI (``kilo``, an OpenCode fork) messages (``~/.local/share/kilo/kilo.db``, SQLite) ->
usage records. Runs on the importer's thread.

Kilo keeps OpenCode's message documents as JSON in the ``data`` column of its ``message``
table (``id``, ``session_id``). An assistant message carries ``modelID``, ``providerID``,
``time.created`` (epoch ms), ``tokens`` (``input`` EXCLUDES ``cache.read`` / ``cache.write``;
``reasoning`` inside or beside ``output`` as ``tokens.total`` says, see ``opencode_message``;
a bare ``total`` when the parts are missing, counted as output) and the ``cost`` Kilo
computed, kept as reported cost. Sub-agent messages carry their agent's ``mode``, stored as
``kilo/<mode>`` when it is not the primary ``build``/``plan``/``code``. Key:
``kilo:<message id>``. (Kilo Code, the VS Code extension, is the ``kilo-code`` source.) The
table is read as OpenCode's is (``opencode_db.MessageRows``): only the rows updated since the
last one read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from spendtray.importers.opencode_db import MessageRows
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, env_or, xdg_data

KILO = "kilo"
DB = "kilo.db"
PRIMARY_MODES = ("build", "plan", "code")


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$KILO_DATA_DIR`` (a comma list of folders holding ``kilo.db``) else
    ``$XDG_DATA_HOME/kilo``."""
    return env_or(env, "KILO_DATA_DIR", xdg_data(env, home) / "kilo")


def parser(job: FileJob) -> MessageRows:
    return MessageRows(job, source=KILO, primary_modes=PRIMARY_MODES, total_fallback=True)


SOURCE = LogSource(
    name=KILO,
    label="Kilo CLI",
    places=places,
    wants=lambda path: path.endswith((f"/{DB}", f"/{DB}-wal")),
    parser=parser,
    mode=DOCUMENT,
    database=True,
    env=("KILO_DATA_DIR", "XDG_DATA_HOME"),
)
