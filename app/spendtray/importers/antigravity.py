"""Antigravity (Google's agent IDE and CLI) conversations
(``~/.gemini/antigravity-cli/conversations/<conversation>.db``, SQLite holding protobuf) ->
usage records. Runs on the importer's thread.

Each conversation is a database. Its ``steps.metadata`` and ``gen_metadata.data`` columns hold
protobuf messages (no ``.proto`` is shipped; the field numbers are the ones ccusage recovered
from the descriptors inside Antigravity's binary). One model call's usage
(``ModelUsageStats``) sits at step field 9 (retries: field 28, each's field 2) and, inside a
``gen_metadata`` row's field 1, at field 4 (retries: field 17). Its fields: 1 model id (a
number), 2 input (uncached), 3 output (thinking included), 4 cache writes, 5 cache reads,
9 thinking, 10 visible output, 7 / 11 / 12 message, response and provider message ids. The same
call recorded in both tables (or a retry list) is one call: records sharing any id are merged
(the larger count of each kind kept), keyed ``antigravity:<response id>`` (else the provider's,
else the message id). Dated by the step's own time (field 8, else 1) or the generation's
(field 9 -> 4), else the conversation's (``trajectory_metadata_blob`` field 2), else the file's
mtime. The model is the generation's name (field 19 or 21, e.g. ``Gemini 3 Pro`` ->
``gemini-3-pro``) or the step's (field 24 -> 12 or 8); a call named only by a number is stored
unpriced as ``antigravity-model-<id>``, never guessed. Antigravity records no cost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from spendtray.importers.parsing import Record
from spendtray.importers.source import DOCUMENT, FileJob, LogSource, split_paths
from spendtray.importers.sqlite_rows import database_of, select
from spendtray.ingest.event import EventError, UsageEvent
from spendtray.prices.calc import TokenCounts

ANTIGRAVITY = "antigravity"
FOLDERS = (
    ".gemini/antigravity-cli",
    ".gemini/antigravity",
    ".gemini/antigravity-ide",
    ".gemini/antigravity-backup",
    ".config/antigravity",
)


def places(env: Mapping[str, str], home: Path) -> list[Path]:
    """``$ANTIGRAVITY_DATA_DIR`` (a comma list) else Antigravity's folders under ``~/.gemini``
    (CLI, IDE, backup) and ``~/.config/antigravity``: their ``conversations/``."""
    value = env.get("ANTIGRAVITY_DATA_DIR", "").strip()
    roots = split_paths(value) if value else [home / folder for folder in FOLDERS]
    return [root / "conversations" for root in roots]


def wants(path: str) -> bool:
    path = path.replace("\\", "/")
    return path.endswith((".db", ".db-wal")) and path.rsplit("/", 2)[-2] == "conversations"


class ProtoError(ValueError):
    pass


def fields(blob: bytes) -> list[tuple[int, int | bytes]]:
    """A protobuf message's (field number, value) pairs: varints as ints, length-delimited
    fields as bytes; fixed-width values are skipped. ProtoError on a malformed message."""
    out: list[tuple[int, int | bytes]] = []
    pos, end = 0, len(blob)
    while pos < end:
        tag, pos = _varint(blob, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ProtoError("field number 0")
        if wire == 0:
            value, pos = _varint(blob, pos)
            out.append((number, value))
        elif wire == 2:
            size, pos = _varint(blob, pos)
            if pos + size > end:
                raise ProtoError("truncated length-delimited field")
            out.append((number, blob[pos : pos + size]))
            pos += size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
            if pos > end:
                raise ProtoError("truncated fixed-width field")
        else:
            raise ProtoError(f"unsupported wire type {wire}")
    return out


def _varint(blob: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(blob):
            raise ProtoError("truncated varint")
        byte = blob[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if value >= 1 << 64:
                raise ProtoError("varint overflow")
            return value, pos
    raise ProtoError("varint longer than 10 bytes")


def _int(found: list[tuple[int, int | bytes]], number: int) -> int:
    values = [v for n, v in found if n == number and isinstance(v, int)]
    return values[-1] if values else 0


def _blobs(found: list[tuple[int, int | bytes]], number: int) -> list[bytes]:
    return [v for n, v in found if n == number and isinstance(v, bytes)]


def _first(found: list[tuple[int, int | bytes]], *numbers: int) -> bytes | None:
    """The first length-delimited value of the first of ``numbers`` present."""
    for number in numbers:
        blobs = _blobs(found, number)
        if blobs:
            return blobs[0]
    return None


def _text(found: list[tuple[int, int | bytes]], number: int) -> str | None:
    for blob in reversed(_blobs(found, number)):
        try:
            value = blob.decode().strip()
        except UnicodeDecodeError:
            continue
        if value and value.isprintable():
            return value
    return None


def _time(blob: bytes | None) -> dt.datetime | None:
    """A ``google.protobuf.Timestamp`` (1 seconds, 2 nanos); None when unset."""
    if blob is None:
        return None
    found = fields(blob)
    seconds = _int(found, 1)
    if seconds <= 0 or seconds > 4_102_444_800:  # unset, or past 2100: not a wall-clock time
        return None
    micros = min(_int(found, 2), 999_999_999) // 1000
    return dt.datetime.fromtimestamp(seconds, dt.UTC) + dt.timedelta(microseconds=micros)


def model_name(label: str | None) -> str | None:
    """Antigravity's display name as a model id: ``Gemini 3 Pro (High)`` -> ``gemini-3-pro``."""
    if not label:
        return None
    base = label.split("(", 1)[0].strip().lower()
    return re.sub(r"\s+", "-", base) or None


@dataclass
class Call:
    """One model call's usage, as merged from every place it is recorded."""

    ids: list[str]  # response:…, provider:…, message:… (best first)
    fresh: int = 0
    read: int = 0
    write: int = 0
    output: int = 0  # visible
    thinking: int = 0
    model: str | None = None
    model_id: int = 0
    when: tuple[int, dt.datetime] | None = None  # (rank, time): own 2, conversation 1, file 0
    sources: set[str] = field(default_factory=set)

    def merge(self, other: Call) -> None:
        self.fresh = max(self.fresh, other.fresh)
        self.read = max(self.read, other.read)
        self.write = max(self.write, other.write)
        self.output = max(self.output, other.output)
        self.thinking = max(self.thinking, other.thinking)
        self.model = self.model or other.model
        self.model_id = self.model_id or other.model_id
        if other.when and (
            not self.when or (-other.when[0], other.when[1]) < (-self.when[0], self.when[1])
        ):
            self.when = other.when
        self.ids = sorted(set(self.ids) | set(other.ids), key=_id_rank)
        self.sources |= other.sources


def _id_rank(identity: str) -> tuple[int, str]:
    kind = identity.split(":", 1)[0]
    return ({"response": 0, "provider": 1, "message": 2}.get(kind, 3), identity)


def usage_call(blob: bytes, where: str) -> Call | None:
    """A ``ModelUsageStats`` message as a Call; None when it carries no tokens."""
    found = fields(blob)
    total, thinking, visible = _int(found, 3), _int(found, 9), _int(found, 10)
    total = max(total, visible + thinking)
    output = max(visible, total - thinking)
    thinking = max(thinking, total - output)
    call = Call(
        ids=[],
        fresh=_int(found, 2),
        write=_int(found, 4),
        read=_int(found, 5),
        output=output,
        thinking=thinking,
        model_id=_int(found, 1),
        sources={where},
    )
    if not (call.fresh or call.read or call.write or call.output or call.thinking):
        return None
    for kind, number in (("response", 11), ("provider", 12), ("message", 7)):
        value = _text(found, number)
        if value:
            call.ids.append(f"{kind}:{value}")
    return call


def _retries(blobs: list[bytes], where: str) -> list[Call]:
    calls = []
    for blob in blobs:
        for usage in _blobs(fields(blob), 2)[:1]:
            call = usage_call(usage, where)
            if call:
                calls.append(call)
    return calls


class AntigravityParser:
    def __init__(self, job: FileJob) -> None:
        self.job = job
        self.records: list[Record] = []

    def document(self, data: bytes) -> None:
        stats, path = self.job.stats, self.job.path
        db = database_of(path)
        steps = select(path, "steps", ("idx", "metadata"), stats, "ORDER BY idx", ("metadata",))
        if steps is None:  # not a database (yet): counted once
            return
        gens = select(path, "gen_metadata", ("idx", "data"), stats, "ORDER BY idx", ("data",))
        trajectory = select(path, "trajectory_metadata_blob", ("data",), stats, "", ("data",))
        if gens is None or trajectory is None:
            return
        started = None
        for row in trajectory:
            # only a fallback date (the calls' own times come first): a bad one is no loss
            with contextlib.suppress(ProtoError):
                started = started or _time(_first(fields(bytes(row["data"] or b"")), 2))
        try:
            mtime = dt.datetime.fromtimestamp(os.stat(db).st_mtime, dt.UTC)
        except OSError:
            mtime = self.job.now
        fallback = (1, started) if started else (0, mtime)
        calls: list[Call] = []
        for table, rows, column in (("steps", steps, "metadata"), ("gen_metadata", gens, "data")):
            last_model: str | None = None
            for row in rows:
                stats.lines += 1
                blob = row[column]
                if blob is None:
                    continue
                try:
                    if table == "steps":
                        found = self._step(bytes(blob), f"steps {row['idx']}")
                    else:
                        found, last_model = self._generation(
                            bytes(blob), f"gen_metadata {row['idx']}", last_model
                        )
                except (ProtoError, TypeError) as exc:
                    stats.bad(db, 0, f"{table} row {row['idx']}: not a protobuf message ({exc})")
                    continue
                calls.extend(found)
        conversation = Path(db).stem
        for number, call in enumerate(_merged(calls)):
            try:
                self._record(call, conversation, number, fallback)
            except EventError as exc:
                stats.bad(db, 0, f"call {call.ids[:1] or number}: {exc}")

    def _step(self, blob: bytes, where: str) -> list[Call]:
        found = fields(blob)
        when = _time(_first(found, 8, 1))
        info = fields(_blobs(found, 24)[0]) if _blobs(found, 24) else []
        model = model_name(_text(info, 12) or _text(info, 8))
        calls = [c for c in (usage_call(u, where) for u in _blobs(found, 9)[:1]) if c]
        calls += _retries(_blobs(found, 28), where)
        for call in calls:
            call.model = call.model or model
            call.model_id = call.model_id or _int(info, 1)
            call.when = (2, when) if when else None
        return calls

    def _generation(
        self, blob: bytes, where: str, last_model: str | None
    ) -> tuple[list[Call], str | None]:
        chat = _blobs(fields(blob), 1)
        if not chat:
            raise ProtoError("no chat model metadata (field 1)")
        found = fields(chat[0])
        model = model_name(_text(found, 19) or _text(found, 21)) or last_model
        start = _blobs(found, 9)
        when = _time(_first(fields(start[0]), 4)) if start else None
        calls = [c for c in (usage_call(u, where) for u in _blobs(found, 4)[:1]) if c]
        calls += _retries(_blobs(found, 17), where)
        for call in calls:
            call.model = call.model or model
            call.model_id = call.model_id or _int(found, 3)
            call.when = (2, when) if when else None
        return calls, model

    def _record(
        self, call: Call, conversation: str, number: int, fallback: tuple[int, dt.datetime]
    ) -> None:
        self.job.stats.usage_lines += 1
        rank, when = call.when or fallback
        if when > self.job.now + dt.timedelta(days=1):
            raise EventError("timestamp", f"{when.isoformat()} is in the future")
        model = call.model or (f"antigravity-model-{call.model_id}" if call.model_id else None)
        key = call.ids[0].split(":", 1)[1] if call.ids else f"{conversation}:{number}"
        event = UsageEvent(
            model=model or "unknown",
            provider="google" if model and model.startswith("gemini") else "unknown",
            counts=TokenCounts(
                input_tokens=call.fresh + call.read + call.write,
                output_tokens=call.output + call.thinking,
                cache_read_tokens=call.read,
                cache_write_tokens=call.write,
                reasoning_tokens=call.thinking,
            ),
            timestamp=when,
            agent=ANTIGRAVITY,
            session=conversation,
            request_id=f"antigravity:{key}",
            source=ANTIGRAVITY,
            tags={"dated_by": ("call", "conversation", "file")[2 - rank]} if rank < 2 else None,
            raw_usage={
                "input": call.fresh,
                "cache_read": call.read,
                "cache_write": call.write,
                "output": call.output,
                "thinking": call.thinking,
                **({"model_id": call.model_id} if call.model_id else {}),
            },
        )
        self.records.append(Record(event))


def _merged(calls: list[Call]) -> list[Call]:
    """Calls that share any id folded into one (the same call seen in several places)."""
    out: list[Call] = []
    owner: dict[str, Call] = {}
    for call in calls:
        targets: list[Call] = []
        for identity in call.ids:
            found = owner.get(identity)
            if found is not None and all(found is not t for t in targets):
                targets.append(found)
        if not targets:
            out.append(call)
            target = call
        else:
            target = targets[0]
            for other in targets[1:]:
                target.merge(other)
                out.remove(other)
            target.merge(call)
        for identity in target.ids:
            owner[identity] = target
    return out


SOURCE = LogSource(
    name=ANTIGRAVITY,
    label="Antigravity",
    places=places,
    wants=wants,
    parser=AntigravityParser,
    mode=DOCUMENT,
    database=True,
    env=("ANTIGRAVITY_DATA_DIR",),
)
