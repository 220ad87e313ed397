"""OpenClaw agent sessions (``~/.openclaw/agents/<agent>/sessions/<session>.jsonl``, also the
``.jsonl.reset.*`` / ``.jsonl.deleted.*`` files OpenClaw renames old transcripts to, and the
older ``~/.clawdbot`` home) -> usage records. Runs on the importer's thread.

OpenClaw is built on pi and writes pi's transcript lines (see ``pi.py``: ``input`` without the
cache, ``cacheRead`` / ``cacheWrite`` apart, ``cost.total`` kept as reported cost); the model
may instead come from the latest ``model_change`` line (or ``custom`` ``model-snapshot``).
Keys: ``openclaw:<session>:<entry id>``, so a reset transcript and its renamed copy count once.
An agent other than ``main`` is stored as ``openclaw/<agent>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendtray.importers.parsing import text
from spendtray.importers.pi import PiParser
from spendtray.importers.source import FileJob, LogSource, split_paths
from spendtray.ingest.event import DEFAULT_PROJECT

OPENCLAW = "openclaw"


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$OPENCLAW_DIR`` (a comma list) else ``~/.openclaw`` and ``~/.clawdbot``: ``agents/``."""
    configured = env.get("OPENCLAW_DIR", "").strip()
    homes = split_paths(configured) if configured else [home / ".openclaw", home / ".clawdbot"]
    return [folder / "agents" for folder in homes]


def wants(path: str) -> bool:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return "/sessions/" in path.replace("\\", "/") and ".jsonl" in name


class OpenClawParser(PiParser):
    source = OPENCLAW
    marks = (b'"usage"', b'"model_change"', b'"model-snapshot"')

    def __init__(self, job: FileJob) -> None:
        super().__init__(job)
        name = Path(job.path).name
        self.session = name[: name.index(".jsonl")] if ".jsonl" in name else name
        self.project = DEFAULT_PROJECT
        parts = Path(job.path).parts
        if "agents" in parts:
            agent = parts[parts.index("agents") + 1]
            self.agent = OPENCLAW if agent == "main" else f"{OPENCLAW}/{agent}"
        job.context.setdefault("model", None)

    def model_hint(self) -> str | None:
        model: str | None = self.job.context["model"]
        return model

    def _line(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        snapshot = kind == "custom" and obj.get("customType") == "model-snapshot"
        if kind == "model_change" or snapshot:
            found = obj.get("data")
            data: dict[str, Any] = found if isinstance(found, dict) else obj
            model = text(data.get("modelId"), "modelId") or text(data.get("model"), "model")
            if model:
                self.job.context["model"] = model
            return
        super()._line(obj)


SOURCE = LogSource(
    name=OPENCLAW,
    label="OpenClaw",
    places=places,
    wants=wants,
    parser=OpenClawParser,
    env=("OPENCLAW_DIR",),
)
