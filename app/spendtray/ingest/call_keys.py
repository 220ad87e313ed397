"""Call keys: one identity for a call that reaches Spendtray by two ways sharing no id. Pure;
any thread.

An agent's native telemetry (``POST /v1/logs``) and its log files (the importers) describe the
same model call, but neither carries the other's id: Claude Code's ``api_request`` event has no
message id, its JSONL lines have no telemetry sequence. What both carry is the session and the
call's exact token counts, and within one session those differ from call to call (the cache
read grows with the conversation: no two of the 637 real calls in ``shared/corpora/claude_code``
share one). The writer treats an event from one source with the call key of a stored event from
another source as a duplicate and keeps the copy with more tokens, like a repeated
``request_id`` (``store.writer``); within one source the request id alone decides.

Output tokens are left out of Claude Code's key: its JSONL repeats a streamed message with a
growing output count, and the largest copy is the one kept either way. Without a session there
is no key: counts alone would merge unrelated calls.

Gemini CLI: its ``gemini_cli.api_response`` event and its chat recording both take their counts
from the response's ``usageMetadata`` (prompt, candidates, cached content, thoughts, tool-use
prompt) and name the CLI's session (``session.id``; the recording's ``sessionId``, or for a
sub-agent's recording the parent session its folder is named after). The model is left out:
the recording names the model the session was set to, the event the one the request used.

Copilot CLI gets no key: its OpenTelemetry names a call by ``gen_ai.response.id`` and the
conversation, its ``events.jsonl`` by ``apiCallId`` / ``providerCallId`` and the session, and
GitHub documents no link between the two, so a call sent both ways is stored twice
(``spendtray sources`` and the README say so).
"""

from __future__ import annotations

from spendtray.ingest.event import MAX_TEXT


def claude_code_call_key(
    session: str | None, model: str, input_tokens: int, cache_read: int, cache_write: int
) -> str | None:
    """Claude Code: session, model and the call's input, cache read and cache write counts
    (``input_tokens`` the total, cached included)."""
    if not session:
        return None
    return f"cc|{session}|{model}|{input_tokens}|{cache_read}|{cache_write}"[:MAX_TEXT]


def codex_call_key(
    session: str | None, input_tokens: int, cached: int, output: int, reasoning: int
) -> str | None:
    """Codex: conversation id and the call's input (cached included), cached, output (reasoning
    included) and reasoning counts."""
    if not session:
        return None
    return f"codex|{session}|{input_tokens}|{cached}|{output}|{reasoning}"[:MAX_TEXT]


def gemini_call_key(
    session: str | None, prompt: int, output: int, cached: int, thoughts: int, tool: int
) -> str | None:
    """Gemini CLI: the CLI's session id and the call's ``usageMetadata`` counts as logged
    (``promptTokenCount`` with cached included, ``candidatesTokenCount``,
    ``cachedContentTokenCount``, ``thoughtsTokenCount``, ``toolUsePromptTokenCount``)."""
    if not session:
        return None
    return f"gemini|{session}|{prompt}|{output}|{cached}|{thoughts}|{tool}"[:MAX_TEXT]
