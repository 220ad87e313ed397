"""Every agent log source Spendtray reads, by its SPEC §11 name. Adding a source is one module
with a ``SOURCE = LogSource(...)`` plus one line here. Modules are imported on first use, so
listing the names costs nothing. Any thread.
"""

from __future__ import annotations

import importlib

from spendtray.importers.source import LogSource

# name -> module defining SOURCE, in the order `spendtray sources` lists them.
SOURCE_MODULES: dict[str, str] = {
    "claude-code": "spendtray.importers.claude_code",
    "codex": "spendtray.importers.codex",
    "gemini-cli": "spendtray.importers.gemini_cli",
    "qwen-code": "spendtray.importers.qwen_code",
    "opencode": "spendtray.importers.opencode",
    "copilot-cli": "spendtray.importers.copilot_cli",
    "amp": "spendtray.importers.amp",
    "droid": "spendtray.importers.droid",
    "goose": "spendtray.importers.goose",
    "pi": "spendtray.importers.pi",
    "kimi": "spendtray.importers.kimi",
    "openclaw": "spendtray.importers.openclaw",
    "grok": "spendtray.importers.grok",
    "codebuff": "spendtray.importers.codebuff",
    "cline": "spendtray.importers.cline",
    "roo-code": "spendtray.importers.roo_code",
    "kilo-code": "spendtray.importers.kilo_code",
    "hermes": "spendtray.importers.hermes",
    "kilo": "spendtray.importers.kilo",
    "zcode": "spendtray.importers.zcode",
    "antigravity": "spendtray.importers.antigravity",
}
KINDS = tuple(SOURCE_MODULES)


def source(name: str) -> LogSource:
    """The source called ``name``; ValueError naming the known ones otherwise."""
    module = SOURCE_MODULES.get(name)
    if module is None:
        raise ValueError(f"unknown source {name!r}; expected one of {', '.join(KINDS)}")
    found: LogSource = importlib.import_module(module).SOURCE
    return found


def all_sources() -> list[LogSource]:
    return [source(name) for name in KINDS]
