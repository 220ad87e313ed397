"""Protobuf wire encoding for Antigravity's fixture blobs (its conversations keep protobuf in
SQLite). Antigravity's real databases hold prompts and paths, so the fixture is synthesised
with the field numbers the importer reads. ``python protoenc.py`` writes the fixture's SQL."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def num(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def msg(number: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def stamp(when: str) -> bytes:
    moment = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    return num(1, int(moment.timestamp())) + num(2, moment.microsecond * 1000)


def usage(
    fresh: int = 0,
    output: int = 0,
    read: int = 0,
    write: int = 0,
    thinking: int = 0,
    visible: int = 0,
    model_id: int = 0,
    response: str = "",
    message: str = "",
) -> bytes:
    """A ``ModelUsageStats``."""
    out = num(1, model_id) if model_id else b""
    for number, value in ((2, fresh), (3, output), (4, write), (5, read), (9, thinking)):
        out += num(number, value) if value else b""
    out += num(10, visible) if visible else b""
    out += msg(7, message) if message else b""
    out += msg(11, response) if response else b""
    return out


def generation(used: bytes, when: str, model: str = "", retries: tuple[bytes, ...] = ()) -> bytes:
    """A ``gen_metadata.data`` blob: field 1 wraps the chat model metadata."""
    chat = msg(4, used) + msg(9, msg(4, stamp(when)))
    chat += msg(19, model) if model else b""
    for retry in retries:
        chat += msg(17, num(1, 1) + msg(2, retry))
    return msg(1, chat) + msg(2, b"\x0a\x00")  # field 2: the outbound request, not usage


def step(used: bytes, when: str, model_id: int = 0) -> bytes:
    """A ``steps.metadata`` blob."""
    out = msg(8, stamp(when)) + msg(9, used)
    return out + (msg(24, num(1, model_id)) if model_id else b"")


SCHEMA = """CREATE TABLE trajectory_metadata_blob (data BLOB);
CREATE TABLE steps (idx INTEGER PRIMARY KEY, step_type INTEGER, payload BLOB, metadata BLOB);
CREATE TABLE gen_metadata (idx INTEGER PRIMARY KEY, data BLOB);
"""


def hexed(blob: bytes) -> str:
    return f"X'{blob.hex()}'"


def fixture_sql() -> str:
    first = usage(
        4050, 375, read=16275, thinking=120, visible=255, response="resp-1", message="msg-1"
    )
    second = usage(812, 96, read=20480, write=512, visible=96, response="resp-2")
    failed = usage(9000, message="msg-2-attempt-1")
    background = usage(2200, 40, visible=40, model_id=342, message="bg-1")
    rows = [
        "-- An Antigravity CLI conversation (SQLite with protobuf blobs), made by",
        "-- tests/importers/protoenc.py; built by the tests into the .db beside this file.",
        SCHEMA.strip(),
        "INSERT INTO trajectory_metadata_blob VALUES ("
        + hexed(msg(1, "conversation") + msg(2, stamp("2025-11-27T08:00:00Z")))
        + ");",
        # the first call, recorded by its step and by its generation (one call)
        "INSERT INTO steps VALUES (1, 5, NULL, "
        + hexed(step(first, "2025-11-27T08:00:04Z", 1071))
        + ");",
        "INSERT INTO gen_metadata VALUES (1, "
        + hexed(generation(first, "2025-11-27T08:00:03Z", "Gemini 3 Pro"))
        + ");",
        # the second, after a failed attempt that still read its prompt
        "INSERT INTO gen_metadata VALUES (2, "
        + hexed(generation(second, "2025-11-27T08:01:10Z", retries=(failed,)))
        + ");",
        # a background call the next day, named only by a number
        "INSERT INTO steps VALUES (2, 9, NULL, "
        + hexed(step(background, "2025-11-28T10:00:00Z"))
        + ");",
        "INSERT INTO steps VALUES (3, 1, NULL, NULL);",
    ]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    target = (
        Path(__file__).parent
        / "data/antigravity/home/.gemini/antigravity-cli/conversations"
        / "8f2d6c1e-4b3a-4e59-9d7c-2a1b0c9d8e7f.db.sql"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(fixture_sql(), encoding="utf-8")
    sys.stdout.write(f"{target}\n")
