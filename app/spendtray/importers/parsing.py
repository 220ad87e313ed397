"""What the log parsers share: per-pass counters, a parsed usage record, and the malformed-line
bookkeeping. Pure; runs on the importer's thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from spendtray.ingest.event import MAX_TEXT, EventError, UsageEvent

_loads = orjson.loads

MAX_EXAMPLES = 5


@dataclass
class ParseStats:
    """Counts for one import pass; ``malformed_examples`` names the first few bad lines."""

    lines: int = 0
    usage_lines: int = 0
    malformed: int = 0
    skipped_synthetic: int = 0
    skipped_errors: int = 0
    skipped_repeats: int = 0  # Codex token_count lines with unchanged running totals
    # Claude Code snapshot lines repeating the call before: duplicate copies, merged on reading
    repeated_copies: int = 0
    # Other copies of one call within one read of a file, folded before the batch's merge
    folded_copies: int = 0
    malformed_examples: list[str] = field(default_factory=list)
    last_problem: str | None = None

    def bad(self, path: str, offset: int, problem: str) -> None:
        self.malformed += 1
        self.last_problem = f"byte {offset}: {problem}"
        if len(self.malformed_examples) < MAX_EXAMPLES:
            self.malformed_examples.append(f"{path} @ byte {offset}: {problem}")

    def refused(self, event: UsageEvent, problem: str) -> None:
        """A parsed call the ingest bounds refused (ingest.bounds): skipped and counted."""
        self.refused_as(refusal(event, problem))

    def refused_as(self, example: str) -> None:
        """``refused`` with its example already written (``refusal``)."""
        self.malformed += 1
        if len(self.malformed_examples) < MAX_EXAMPLES:
            self.malformed_examples.append(example)

    def add(self, other: ParseStats) -> None:
        self.lines += other.lines
        self.usage_lines += other.usage_lines
        self.malformed += other.malformed
        self.skipped_synthetic += other.skipped_synthetic
        self.skipped_errors += other.skipped_errors
        self.skipped_repeats += other.skipped_repeats
        self.repeated_copies += other.repeated_copies
        self.folded_copies += other.folded_copies
        room = MAX_EXAMPLES - len(self.malformed_examples)
        self.malformed_examples.extend(other.malformed_examples[: max(room, 0)])


def refusal(event: UsageEvent, problem: str) -> str:
    """How a call the ingest bounds refused is shown among the malformed examples."""
    when = event.timestamp.strftime("%Y-%m-%d %H:%M:%S")
    return f"{event.model} call at {when} UTC: {problem}"


@dataclass(slots=True)
class Record:
    """One usage line turned into an event, with what deduplication needs to know."""

    event: UsageEvent
    message_id: str | None = None
    has_request_id: bool = True
    sidechain: bool = False

    # What a merge (``dedup.py``) reads and sets, as on a call priced in a worker (``Priced``).
    @property
    def request_id(self) -> str | None:
        return self.event.request_id

    @request_id.setter
    def request_id(self, value: str | None) -> None:
        self.event.request_id = value

    @property
    def total_tokens(self) -> int:
        return self.event.total_tokens


def looks_like_json_object(line: bytes) -> bool:
    """Cheap shape check for lines not worth a full parse (they carry no usage)."""
    text = line.strip()
    return not text or (text[:1] == b"{" and text[-1:] == b"}")


def json_lines(
    lines: list[bytes], offset: int, marks: tuple[bytes, ...], path: str, stats: ParseStats
) -> Iterator[tuple[int, Any]]:
    """(byte offset, decoded object) for each line carrying one of ``marks``; the rest are only
    shape-checked (a full parse of lines with no usage is the importers' main cost). Lines
    that fail to decode are counted in ``stats`` and skipped. orjson parses the bytes as they
    are (no UTF-8 decode first): a third of the stdlib parser's time on transcript lines."""
    stats.lines += len(lines)
    position = offset
    single = marks[0] if len(marks) == 1 else None
    for line in lines:
        here = position
        position += len(line) + 1
        if not (line.find(single) >= 0 if single is not None else _has_any(line, marks)):
            if (
                line
                and not (line[:1] == b"{" and line[-1:] == b"}")
                and not looks_like_json_object(line)
            ):
                stats.bad(path, here, "not a JSON object")
            continue
        try:
            yield here, _loads(line)
        except orjson.JSONDecodeError as exc:
            stats.bad(path, here, f"not valid JSON ({str(exc).split(':', 1)[0]})")


def json_block(
    block: bytes, offset: int, mark: bytes, path: str, stats: ParseStats
) -> Iterator[tuple[int, Any]]:
    """``json_lines`` over ``block.split(b"\n")`` with one mark, without making a bytes object
    of every line: newlines are found with ``bytes.find`` (memchr), the mark with
    ``bytes.rfind`` within each line, from its end (where Claude Code writes ``"usage"``: 0.10
    instead of 0.15 s over 313 MB, as a line without it is searched whole either way); only
    the lines holding ``mark`` are cut out and parsed, the others only have their first and
    last byte looked at. The same lines are parsed, counted and found bad as by
    ``json_lines``."""
    find = block.find
    has = block.rfind
    size = len(block)
    lines = 0
    start = 0
    while True:
        end = find(b"\n", start)
        if end < 0:
            end = size
        lines += 1
        if has(mark, start, end) >= 0:
            try:
                yield offset + start, _loads(block[start:end])
            except orjson.JSONDecodeError as exc:
                stats.bad(path, offset + start, f"not valid JSON ({str(exc).split(':', 1)[0]})")
        elif (
            end > start
            and (block[start] != 123 or block[end - 1] != 125)  # "{" … "}"
            and not looks_like_json_object(block[start:end])
        ):
            stats.bad(path, offset + start, "not a JSON object")
        if end == size:
            break
        start = end + 1
    stats.lines += lines


def json_document(data: bytes, path: str, stats: ParseStats, shape: type[Any]) -> Any:
    """A whole file an agent rewrites as one JSON value (a ``dict`` or ``list``, ``shape``), or
    None after counting the file bad in ``stats``: not JSON, or not that shape."""
    try:
        value = json.loads(data)
    except ValueError as exc:
        stats.bad(path, 0, f"not valid JSON ({exc})")
        return None
    if not isinstance(value, shape):
        stats.bad(path, 0, "not a JSON array of messages" if shape is list else "not a JSON object")
        return None
    return value


def _has_any(line: bytes, marks: tuple[bytes, ...]) -> bool:
    for mark in marks:  # noqa: SIM110 - a loop: any() over a generator costs twice as much
        if mark in line:
            return True
    return False


def text(value: Any, name: str, required: bool = False) -> str | None:
    """A log's string field as an event text field (ingest/event.py's limits), or None.

    Importers build ``UsageEvent``s directly instead of going through ``normalize_event``:
    the log shapes are known, and skipping the generic checks halves the cost of a 1 GB import.
    """
    if isinstance(value, str):
        value = value.strip()
        if value:
            if len(value) > MAX_TEXT or not value.isprintable():
                raise EventError(name, f"longer than {MAX_TEXT} characters or not printable")
            return str(value)
    elif value is not None:
        raise EventError(name, f"must be a string, got {type(value).__name__}")
    if required:
        raise EventError(name, "is missing")
    return None


def whole(value: Any, name: str) -> int:
    """A token count from a log: a whole number ≥ 0 (integral floats accepted, None is 0)."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EventError(name, f"must be a whole number ≥ 0, got {value!r}")
    return value


def provider_of(model: str, default: str = "unknown") -> str:
    """The provider a model belongs to (``anthropic/…`` prefixes and family names), else
    ``default`` — the price lookup then says the model is unknown rather than guessing."""
    from spendtray.prices.names import infer_provider

    return infer_provider(model) or default


def project_name(path: Any) -> str | None:
    """The last folder of a working directory, as a project name, or None."""
    if not isinstance(path, str):
        return None
    name = path.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    return name if name and len(name) <= MAX_TEXT and name.isprintable() else None


def line_objects(
    lines: list[bytes], offset: int, marks: tuple[bytes, ...], path: str, stats: ParseStats
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``json_lines`` keeping JSON objects only; any other JSON value is a bad line."""
    for here, obj in json_lines(lines, offset, marks, path, stats):
        if isinstance(obj, dict):
            yield here, obj
        else:
            stats.bad(path, here, "not a JSON object")
