"""What the first-run page says: the snippets that send a first event to this instance, and
the token as shown on screen. Pure; the GUI thread (``gui.empty_state`` shows them).

Each snippet works when pasted as it is: it names this instance's URL, and its data folder
when that is not the default.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from spendtray.datadir import DEFAULT_PORT, platform_data_dir

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
FIRST_PROJECT = "my-first-project"
SAMPLE_EVENT = {
    "model": "gpt-4o-mini",
    "input_tokens": 1200,
    "output_tokens": 300,
    "project": FIRST_PROJECT,
}
MASK = "•"


def mask(token: str) -> str:
    """The token as shown on screen: dots, then its last four characters to tell tokens apart."""
    return MASK * 8 + token[-4:] if len(token) > 8 else MASK * len(token)


def curl_snippet(url: str, token: str, require_token: bool = True) -> str:
    lines = [f"curl -sS -X POST {shlex.quote(url + '/v1/usage')}"]
    if require_token:
        lines.append(f"-H {shlex.quote('Authorization: Bearer ' + token)}")
    lines.append("-H 'Content-Type: application/json'")
    # the event over two lines (JSON allows the newline), so the snippet fits the page unscrolled
    fields = [json.dumps({k: v}, separators=(",", ":"))[1:-1] for k, v in SAMPLE_EVENT.items()]
    half = (len(fields) + 1) // 2
    body = "{" + ",".join(fields[:half]) + ",\n      " + ",".join(fields[half:]) + "}"
    lines.append(f"-d {shlex.quote(body)}")
    return " \\\n  ".join(lines) + "\n"


def python_snippet(url: str, home: Path | None) -> str:
    """The Python client finds the app by itself when it runs with the default port and data
    folder; otherwise the snippet tells it where this instance is."""
    lines = []
    custom_url = url.rstrip("/") != DEFAULT_URL
    custom_home = home is not None and home != platform_data_dir()
    if custom_url or custom_home:
        lines.append("from spendtray.client import configure, record")
        lines.append("")
        args = []
        if custom_url:
            args.append(f"url={url!r}")
        if custom_home:
            args.append(f"home={str(home)!r}")
        lines.append(f"configure({', '.join(args)})  # this instance is not at the defaults")
    else:
        lines.append("from spendtray.client import record")
        lines.append("")
    lines.append(
        f'record(model="gpt-4o-mini", input_tokens=1200, output_tokens=300, '
        f'project="{FIRST_PROJECT}")'
    )
    lines.append("# after an SDK call, pass its usage object as it comes:")
    lines.append(f'# record(model=response.model, usage=response.usage, project="{FIRST_PROJECT}")')
    return "\n".join(lines) + "\n"


def proxy_snippet(url: str) -> str:
    base = url.rstrip("/")
    return (
        f"export OPENAI_BASE_URL={base}/p/{FIRST_PROJECT}/openai/v1\n"
        f"export ANTHROPIC_BASE_URL={base}/p/{FIRST_PROJECT}/anthropic\n"
        "python your_script.py   # OpenAI/Anthropic SDK calls now go through Spendtray\n"
    )
