"""What the shared per-source tests need to know about each source: its fixture home
(``data/<source>/home``, laid out as in a user's home, so ``HOME=`` it works for Spendtray and
ccusage alike), the ccusage command reading the same logs, how ccusage's columns map onto ours,
the days where the two differ on purpose, and how to write one more call into a log."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
# Environment variables that would point a source somewhere other than HOME.
AGENT_ENV = (
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "GEMINI_DATA_DIR",
    "QWEN_DATA_DIR",
    "OPENCODE_DATA_DIR",
    "COPILOT_HOME",
    "AMP_DATA_DIR",
    "DROID_SESSIONS_DIR",
    "PI_AGENT_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "HERMES_HOME",
    "KILO_DATA_DIR",
    "ZCODE_HOME",
    "ANTIGRAVITY_DATA_DIR",
)


def build_databases(home: Path) -> None:
    """SQLite stores are committed as the SQL that makes them (``state.db.sql`` beside where
    ``state.db`` sits in a user's home): build each database and drop its script."""
    import sqlite3

    for script in sorted(home.rglob("*.sql")):
        conn = sqlite3.connect(script.with_suffix(""))
        try:
            conn.executescript(script.read_text(encoding="utf-8"))
            conn.commit()
        finally:
            conn.close()
        script.unlink()


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


@dataclass(frozen=True)
class SourceCase:
    kind: str
    ccusage: str | None  # ccusage's name for the source, None when ccusage does not read it
    log: str  # the log in the fixture home that gets a new call (relative to home)
    # JSONL: the n-th extra call, one line without its newline. Documents: the log's whole
    # new text with the n-th extra call in it, from its current text.
    new_call: Callable[[int], str]
    new_call_input: int  # canonical input tokens of each such call
    # ccusage day -> (uncached input, cache read, output) in ccusage's terms, from our day
    ours_as_ccusage: Callable[[dict[str, int]], tuple[int, int, int]]
    document: bool = False
    calls_per_new_call: int = 1  # 0 where a source logs running session totals (Droid)
    # Where ccusage does not read the source: day -> (calls, input, output), counted by hand
    expected: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # ccusage shows the agent's own logged cost on these sources (Spendtray: reported cost)
    ccusage_cost_is_reported: bool = False
    theirs: Callable[[dict[str, Any]], tuple[int, int, int]] = lambda d: (
        d["inputTokens"],
        d["cacheReadTokens"],
        d["outputTokens"],
    )
    # day -> why the two differ there (tokens or cost); every other day must be equal.
    differences: dict[str, str] = field(default_factory=dict)
    cost_differences: dict[str, str] = field(default_factory=dict)
    # Days whose calls log reasoning inside output (shown as is), where ``ours_as_ccusage``
    # takes it out for the calls that log it apart (OpenCode before and after tokens.total).
    reasoning_inside_days: frozenset[str] = frozenset()
    # A second case over the same fixture home (its log another file of the same source):
    # the key in CASES; the ccusage comparison runs once, under the source's own key.
    name: str = ""

    @property
    def key(self) -> str:
        return self.name or self.kind

    @property
    def home(self) -> Path:
        return DATA / self.kind / "home"

    def as_ccusage(self, day: str, row: dict[str, int]) -> tuple[int, int, int]:
        """Our day in ccusage's terms."""
        if day in self.reasoning_inside_days:
            return _uncached(row)
        return self.ours_as_ccusage(row)

    def grown(self, home: Path, n: int) -> bytes:
        """The log's bytes with the n-th extra call added."""
        log = home / self.log
        if self.key in BYTE_GROWERS:
            return BYTE_GROWERS[self.key](log, n)
        if self.document:
            current = log.read_text(encoding="utf-8") if log.exists() else ""
            return self.with_call(current, n).encode()
        return log.read_bytes() + (self.new_call(n) + "\n").encode()

    def with_call(self, current: str, n: int) -> str:
        return DOCUMENT_GROWERS[self.key](current, n)


def _gemini_call(n: int) -> str:
    return dumps(
        {
            "id": f"g-extra-{n}",
            "timestamp": "2026-11-05T12:00:00.000Z",
            "type": "gemini",
            "content": "",
            "tokens": {"input": 1000, "output": 10, "cached": 0, "thoughts": 0, "tool": 0},
            "model": "gemini-2.5-flash",
        }
    )


def _qwen_call(n: int) -> str:
    return dumps(
        {
            "uuid": f"q-extra-{n}",
            "sessionId": "3c1d5e7f-9a2b-4c4d-8e6f-0a1b2c3d4e5f",
            "timestamp": "2026-11-12T09:00:00.000Z",
            "type": "assistant",
            "cwd": "/home/dev/src/api",
            "model": "qwen3-coder-plus",
            "usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 10},
        }
    )


def _opencode_call(n: int) -> str:
    return dumps(
        {
            "id": f"msg_extra_{n}",
            "sessionID": "ses_4a1b2c3d",
            "role": "assistant",
            "mode": "build",
            "modelID": "claude-sonnet-4-5-20250929",
            "providerID": "anthropic",
            "time": {"created": 1762510000000 + n},
            "cost": 0.01,
            "tokens": {
                "input": 1000,
                "output": 10,
                "reasoning": 0,
                "cache": {"read": 0, "write": 0},
            },
        }
    )


def _amp_with_call(current: str, n: int) -> str:
    thread = json.loads(current)
    thread["usageLedger"]["events"].append(
        {
            "id": f"evt-extra-{n}",
            "timestamp": "2025-11-09T16:00:00.000Z",
            "model": "claude-sonnet-4-5-20250929",
            "tokens": {"input": 1000, "output": 10},
            "toMessageId": 100 + n,
        }
    )
    return json.dumps(thread, indent=2)


def _pi_call(n: int) -> str:
    return dumps(
        {
            "type": "message",
            "id": f"extra-{n}",
            "timestamp": "2025-11-12T10:00:00.000Z",
            "message": {
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "usage": {"input": 1000, "output": 10, "cacheRead": 0, "cacheWrite": 0},
            },
        }
    )


def _droid_with_call(current: str, n: int) -> str:
    settings = json.loads(current)
    settings["tokenUsage"]["inputTokens"] += 1000  # the session's running total grows
    return json.dumps(settings, indent=2)


def _kimi_call(n: int) -> str:
    usage = {"input_other": 1000, "output": 10, "input_cache_read": 0, "input_cache_creation": 0}
    return dumps(
        {
            "timestamp": 1763021000.0 + n,
            "message": {
                "type": "StatusUpdate",
                "payload": {"token_usage": usage, "message_id": f"extra-{n}"},
            },
        }
    )


def _copilot_call(n: int) -> str:
    usage = {"model": "gpt-5", "inputTokens": 1000, "outputTokens": 10, "cacheReadTokens": 0}
    return dumps(
        {
            "type": "assistant.usage",
            "data": usage,
            "id": f"ev-extra-{n}",
            "timestamp": "2025-11-14T11:00:00.000Z",
            "parentId": "ev-06",
        }
    )


def _openclaw_call(n: int) -> str:
    usage = {"input": 1000, "output": 10, "cacheRead": 0, "cacheWrite": 0}
    return dumps(
        {
            "type": "message",
            "id": f"extra-{n}",
            "timestamp": "2025-11-18T08:00:00.000Z",
            "message": {"role": "assistant", "usage": usage},
        }
    )


def _grok_call(n: int) -> str:
    usage = {"inputTokens": 1000, "outputTokens": 10, "cachedReadTokens": 0, "reasoningTokens": 0}
    return dumps(
        {
            "timestamp": 1763558000000 + n,
            "params": {
                "sessionId": "6f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
                "update": {"sessionUpdate": "turn_completed", "usage": usage},
                "_meta": {"eventId": f"evt-extra-{n}"},
            },
        }
    )


def _task_with_call(current: str, n: int) -> str:
    messages = json.loads(current)
    usage = {"request": "…", "tokensIn": 1000, "tokensOut": 10, "cacheWrites": 0, "cacheReads": 0}
    messages.append(
        {
            "ts": 1762790500000 + n,
            "type": "say",
            "say": "api_req_started",
            "text": json.dumps({**usage, "cost": 0.003}),
        }
    )
    return json.dumps(messages)


def _goose_with_call(db: Path, n: int) -> bytes:
    """The database's bytes after one session grew by 1,000 input tokens (made on a copy)."""
    import shutil
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "sessions.db"
        shutil.copy(db, copy)
        with sqlite3.connect(copy) as conn:
            conn.execute(
                "UPDATE sessions SET accumulated_input_tokens = accumulated_input_tokens + 1000, "
                "accumulated_total_tokens = accumulated_total_tokens + 1000 WHERE id = ?",
                ("20251117_1",),
            )
        conn.close()
        return copy.read_bytes()


def _sql_grower(statement: str) -> Callable[[Path, int], bytes]:
    """The database's bytes after ``statement`` (formatted with ``n``) ran on a copy of it."""

    def grow(db: Path, n: int) -> bytes:
        import shutil
        import sqlite3
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / db.name
            shutil.copy(db, copy)
            conn = sqlite3.connect(copy)
            with conn:
                conn.execute(statement.format(n=n))
            conn.close()
            return copy.read_bytes()

    return grow


def _antigravity_call(n: int) -> str:
    from protoenc import generation, hexed, usage

    blob = generation(
        usage(1000, 10, visible=10, response=f"resp-extra-{n}"), "2025-11-27T09:00:00Z"
    )
    return f"INSERT INTO gen_metadata VALUES ({100 + n}, {hexed(blob)})"


BYTE_GROWERS: dict[str, Callable[[Path, int], bytes]] = {
    "goose": _goose_with_call,
    # a new Hermes session (its running total is one event)
    "hermes": _sql_grower(
        "INSERT INTO sessions (id, source, model, started_at, input_tokens, output_tokens) "
        "VALUES ('extra_{n}', 'cli', 'gpt-5', 1763900000 + {n}, 1000, 10)"
    ),
    "zcode": _sql_grower(
        "INSERT INTO model_usage (id, session_id, model_id, status, started_at, input_tokens, "
        "output_tokens, computed_total_tokens) "
        "VALUES ('mu_extra_{n}', 'ses_7f3a', 'glm-4.6', 'completed', 1763890000000 + {n}, 1000, "
        "10, 1010)"
    ),
    "antigravity": lambda db, n: _sql_grower(_antigravity_call(n))(db, n),
    # OpenCode 1.2+ writes a new message row (data without its id and sessionID)
    "opencode-db": _sql_grower(
        "INSERT INTO message VALUES ('msg_extra_{n}', 'ses_7c1d5e2f', 1762860000000 + {n}, "
        "1762860000000 + {n}, json_object('role', 'assistant', 'modelID', 'gpt-5', "
        "'providerID', 'openai', 'mode', 'build', 'cost', 0.01, 'time', "
        "json_object('created', 1762860000000 + {n}), 'tokens', json_object('total', 1010, "
        "'input', 1000, 'output', 10, 'reasoning', 0, 'cache', json_object('read', 0, "
        "'write', 0))))"
    ),
    "kilo": _sql_grower(
        # stamped when written (Kilo sets time_updated at every write): after every other row
        "INSERT INTO message VALUES ('msg_extra_{n}', 'ses_5k1a', 1764062000000, 1764200000000, "
        "json_object('id', 'msg_extra_{n}', 'role', 'assistant', 'modelID', 'gpt-5', "
        "'providerID', 'openai', 'time', json_object('created', 1764062000000 + {n}), "
        "'tokens', json_object('input', 1000, 'output', 10)))"
    ),
}


def _codebuff_with_call(current: str, n: int) -> str:
    messages = json.loads(current)
    usage = {"inputTokens": 1000, "outputTokens": 10}
    messages.append(
        {
            "id": f"a-extra-{n}",
            "role": "assistant",
            "timestamp": "2025-11-20T11:00:00.000Z",
            "metadata": {"model": "claude-sonnet-4-5-20250929", "usage": usage},
        }
    )
    return json.dumps(messages, indent=2)


DOCUMENT_GROWERS: dict[str, Callable[[str, int], str]] = {
    "codebuff": _codebuff_with_call,
    "droid": _droid_with_call,
    "cline": _task_with_call,
    "roo-code": _task_with_call,
    "kilo-code": _task_with_call,
    # OpenCode writes one file per message: the "log" that grows is a new message's file.
    "opencode": lambda current, n: _opencode_call(n),
    "amp": _amp_with_call,
}


def _uncached_reasoning_apart(day: dict[str, int]) -> tuple[int, int, int]:
    """ccusage shows uncached input and output without reasoning for these sources."""
    return (
        day["input_tokens"] - day["cache_read_tokens"] - day["cache_write_tokens"],
        day["cache_read_tokens"],
        day["output_tokens"] - day["reasoning_tokens"],
    )


def _uncached(day: dict[str, int]) -> tuple[int, int, int]:
    return (
        day["input_tokens"] - day["cache_read_tokens"] - day["cache_write_tokens"],
        day["cache_read_tokens"],
        day["output_tokens"],
    )


CASES: dict[str, SourceCase] = {
    "gemini-cli": SourceCase(
        kind="gemini-cli",
        ccusage="gemini",
        log=".gemini/tmp/5f1c0a9e3b7d42c8a6e1f0b9d3c7a2e4f6b8d0c1e3a5b7c9d1f3e5a7b9c1d3e5/chats/"
        "session-2026-11-03T09-14-ab12cd34.jsonl",
        new_call=_gemini_call,
        new_call_input=1000,
        ours_as_ccusage=_uncached_reasoning_apart,
    ),
    "qwen-code": SourceCase(
        kind="qwen-code",
        ccusage="qwen",
        log=".qwen/projects/-home-dev-src-api/chats/3c1d5e7f-9a2b-4c4d-8e6f-0a1b2c3d4e5f.jsonl",
        new_call=_qwen_call,
        new_call_input=1000,
        # ccusage adds Qwen's cachedContentTokenCount to promptTokenCount, which already holds
        # it (Gemini's convention, which Qwen Code's usageMetadata follows): its input is our
        # whole input, not the uncached part.
        ours_as_ccusage=lambda day: (
            day["input_tokens"],
            day["cache_read_tokens"],
            day["output_tokens"] - day["reasoning_tokens"],
        ),
        cost_differences={
            "*": "qwen3-coder-plus is not in genai-prices: Spendtray stores it unpriced, ccusage "
            "prices it from LiteLLM's table (and charges cached tokens twice)"
        },
    ),
    "opencode": SourceCase(
        kind="opencode",
        ccusage="opencode",
        log=".local/share/opencode/storage/message/ses_4a1b2c3d/msg_extra.json",
        new_call=_opencode_call,
        new_call_input=1000,
        document=True,
        ccusage_cost_is_reported=True,
        # ccusage shows OpenCode's output as logged; since OpenCode logs reasoning apart from
        # it (rows with tokens.total), Spendtray's output holds it
        ours_as_ccusage=_uncached_reasoning_apart,
        reasoning_inside_days=frozenset({"2025-11-08"}),  # msg_a1.json: no total, inside
    ),
    # The same home's opencode.db (OpenCode 1.2+): its per-source checks on the database
    "opencode-db": SourceCase(
        kind="opencode",
        name="opencode-db",
        ccusage="opencode",
        log=".local/share/opencode/opencode.db",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        ccusage_cost_is_reported=True,
        ours_as_ccusage=_uncached_reasoning_apart,
        reasoning_inside_days=frozenset({"2025-11-08"}),
    ),
    "amp": SourceCase(
        kind="amp",
        ccusage="amp",
        log=".local/share/amp/threads/T-5d1e2f3a-7b8c-4d9e-a0f1-2b3c4d5e6f70.json",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        ours_as_ccusage=_uncached,
    ),
    "cline": SourceCase(
        kind="cline",
        ccusage=None,
        log=".config/Code/User/globalStorage/saoudrizwan.claude-dev/tasks/1762790400000/ui_messages.json",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        ours_as_ccusage=_uncached,
        # 4 + 11,820 written, then 6 + 940 written + 11,820 read; 356 + 182 out
        expected={"2025-11-10": (2, 24_590, 538)},
    ),
    "roo-code": SourceCase(
        kind="roo-code",
        ccusage=None,
        log=".config/Code/User/globalStorage/rooveterinaryinc.roo-cline/tasks/1762790400000/ui_messages.json",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        ours_as_ccusage=_uncached,
        expected={"2025-11-10": (2, 24_590, 538)},
    ),
    "kilo-code": SourceCase(
        kind="kilo-code",
        ccusage=None,
        log=".config/Code/User/globalStorage/kilocode.kilo-code/tasks/1762790400000/ui_messages.json",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        ours_as_ccusage=_uncached,
        expected={"2025-11-10": (2, 24_590, 538)},
    ),
    "pi": SourceCase(
        kind="pi",
        ccusage="pi",
        log=".pi/agent/sessions/--home-dev-src-shop--/"
        "2025-11-12T09-30-00-000Z_7c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f.jsonl",
        new_call=_pi_call,
        new_call_input=1000,
        ours_as_ccusage=_uncached,
    ),
    "droid": SourceCase(
        kind="droid",
        ccusage="droid",
        log=".factory/sessions/4f3e2d1c-0b9a-4877-8665-544332211000.settings.json",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        # One event per session: a grown session replaces its event, it adds no call.
        calls_per_new_call=0,
        ours_as_ccusage=_uncached,
        cost_differences={
            "2025-11-13": "Droid logs only session totals: Spendtray prices a session as one call, "
            "so this session's 662k-token total is past sonnet-4-5's 200k long-context line "
            "(an over-estimate: the calls inside were each below it); ccusage tiers each kind "
            "of token on its own count"
        },
    ),
    "kimi": SourceCase(
        kind="kimi",
        ccusage="kimi",
        log=".kimi/sessions/a1b2c3d4e5f6/0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b/wire.jsonl",
        new_call=_kimi_call,
        new_call_input=1000,
        ours_as_ccusage=_uncached,
        cost_differences={
            "2025-11-13": "kimi-k2-turbo-preview: genai-prices' rates ($1.15 in / $8 out / $0.15 "
            "cached per M) against ccusage's LiteLLM table's"
        },
    ),
    "copilot-cli": SourceCase(
        kind="copilot-cli",
        ccusage="copilot",
        log=".copilot/session-state/5b7e2c1a-3d4f-4a6b-8c9d-0e1f2a3b4c5d/events.jsonl",
        new_call=_copilot_call,
        new_call_input=1000,
        ours_as_ccusage=_uncached,
    ),
    "goose": SourceCase(
        kind="goose",
        ccusage="goose",
        log=".local/share/goose/sessions/sessions.db",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        calls_per_new_call=0,  # one event per session: it grows, no call is added
        ours_as_ccusage=_uncached,
    ),
    "openclaw": SourceCase(
        kind="openclaw",
        ccusage="openclaw",
        log=".openclaw/agents/main/sessions/b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e.jsonl",
        new_call=_openclaw_call,
        new_call_input=1000,
        ours_as_ccusage=_uncached,
    ),
    "grok": SourceCase(
        kind="grok",
        # ccusage 20.0.24 reads these update lines another way (epoch ms taken as seconds,
        # landing in year 57854; inputTokens shown as cache reads), so no per-day comparison:
        # the day is counted by hand instead.
        ccusage=None,
        log=".grok/sessions/%2Fhome%2Fdev%2Fsrc%2Fshop/6f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f/"
        "updates.jsonl",
        new_call=_grok_call,
        new_call_input=1000,
        ours_as_ccusage=_uncached,
        # 5,210 + 12,288 cached, then 830 + 17,408 cached; 640 + 410 and 120 + 96 out
        expected={"2025-11-19": (2, 35_736, 1_266)},
    ),
    "hermes": SourceCase(
        kind="hermes",
        ccusage="hermes",
        log=".hermes/state.db",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        # ccusage shows reasoning apart from output (in its total only)
        ours_as_ccusage=_uncached_reasoning_apart,
        ccusage_cost_is_reported=True,  # where Hermes recorded one; else both price the tokens
        differences={
            "2025-11-23": "a session in a named profile (~/.hermes/profiles/work/state.db): "
            "ccusage 20.0.24 reads only ~/.hermes/state.db"
        },
    ),
    "kilo": SourceCase(
        kind="kilo",
        ccusage="kilo",
        log=".local/share/kilo/kilo.db",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        ours_as_ccusage=_uncached,
        ccusage_cost_is_reported=True,  # where Kilo logged one; else both price the tokens
    ),
    "zcode": SourceCase(
        kind="zcode",
        ccusage="zcode",
        log=".zcode/cli/db/db.sqlite",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        ours_as_ccusage=_uncached,
    ),
    "antigravity": SourceCase(
        kind="antigravity",
        ccusage="antigravity",
        log=".gemini/antigravity-cli/conversations/8f2d6c1e-4b3a-4e59-9d7c-2a1b0c9d8e7f.db",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        ours_as_ccusage=_uncached_reasoning_apart,  # ccusage: thinking apart from output
        cost_differences={
            "*": "a call named only by a number: ccusage maps Antigravity's model ids to names "
            "from its own table and prices them (e.g. 1071 as gemini-3.6-flash-high, 342 as "
            "gpt-oss-120b); Spendtray takes the name Antigravity wrote (gemini-3-pro) and "
            "stores a number-only call unpriced as antigravity-model-<id>"
        },
    ),
    "codebuff": SourceCase(
        kind="codebuff",
        ccusage="codebuff",
        log=".config/manicode/projects/shop/chats/2025-11-20T10-15-00.000Z/chat-messages.json",
        new_call=lambda n: "",
        new_call_input=1000,
        document=True,
        ours_as_ccusage=_uncached,
    ),
}
