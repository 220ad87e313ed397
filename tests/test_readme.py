"""The README documents what the code has: every config key, every command and subcommand,
the make targets it names, its screenshots (taken by packaging/screenshots.py) and its links."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest

from spendtray.cli.main import build_parser
from spendtray.config import CONFIG_KEYS, Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end >= 0 else None]


def config_keys() -> set[str]:
    fields = {f.name for f in dataclasses.fields(Settings)} - {"home", "extra"}
    return fields | set(CONFIG_KEYS)


def commands() -> list[tuple[str, ...]]:
    """Every command and subcommand the parser accepts, as word tuples."""
    found: list[tuple[str, ...]] = []

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append((*prefix, name))
                    walk(sub, (*prefix, name))
            elif prefix and not action.option_strings and action.choices:
                found.extend((*prefix, str(choice)) for choice in action.choices)

    walk(build_parser(), ())
    return found


def test_the_config_keys_are_read_from_the_code() -> None:
    keys = config_keys()
    assert {"port", "require_token", "timezone", "follow_agent_logs"} <= keys
    assert len(keys) >= 15


@pytest.mark.parametrize("key", sorted(config_keys()))
def test_every_config_key_is_in_the_configuration_table(key: str) -> None:
    assert re.search(rf"^\| `{re.escape(key)}` \|", section("Configuration"), re.M), (
        f"config key {key!r} is missing from the README's Configuration table"
    )


def test_the_commands_are_read_from_the_parser() -> None:
    found = commands()
    assert (
        ("serve",) in found
        and (
            "budget",
            "set",
        )
        in found
        and ("import", "codex") in found
    )


@pytest.mark.parametrize("words", commands(), ids=" ".join)
def test_every_command_and_subcommand_is_documented(words: tuple[str, ...]) -> None:
    cli = section("Command line").replace("\\|", "|")  # table cells escape "|"
    top = f"spendtray {words[0]}"
    assert re.search(rf"{re.escape(top)}\b", cli), f"`{top}` is not in the Command line table"
    if len(words) > 1:
        # "budget list", or one of alternatives: "import claude-code|codex"
        head, last = " ".join(words[:-1]), re.escape(words[-1])
        pattern = rf"\b{re.escape(head)} (?:[\w-]+\|)*{last}(?![\w-])"
        assert re.search(pattern, cli), f"`{' '.join(words)}` is not documented"


def test_global_options_are_documented() -> None:
    cli = section("Command line")
    for option in ("--version", "--port", "--home"):
        assert option in cli


def test_the_two_front_door_commands_and_named_make_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = set(re.findall(r"(?:^|`)make ([a-z][\w-]*)", README, re.M))  # in code only
    assert {"run", "test"} <= named
    assert named <= targets, f"README names make targets the Makefile lacks: {named - targets}"


def test_screenshots_exist_are_all_used_and_come_from_the_script() -> None:
    shots = set(re.findall(r"!\[[^\]]*\]\((resources/screenshots/[^)]+\.png)\)", README))
    assert "resources/screenshots/dashboard.png" in shots
    for shot in shots:
        data = (ROOT / shot).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", shot
    on_disk = {
        f"resources/screenshots/{p.name}" for p in (ROOT / "resources/screenshots").glob("*")
    }
    assert on_disk == shots, "screenshots on disk and in the README differ"
    script = (ROOT / "packaging" / "screenshots.py").read_text(encoding="utf-8")
    for shot in shots:
        stem = Path(shot).stem  # "tray-menu" is written as "tray-menu.png"; "dashboard-calls"
        tail = stem.split("-", 1)[-1]  # as f"dashboard-{name}.png" over ("calls", …)
        assert f'"{stem}.png"' in script or f'("{tail}",' in script, (
            f"{shot} is not taken by packaging/screenshots.py"
        )


def _slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_links_resolve() -> None:
    anchors = {_slug(h) for h in re.findall(r"^#+ (.+)$", README, re.M)}
    for target in re.findall(r"\]\(([^)\s]+)\)", README):
        if target.startswith(("http://", "https://")):
            continue
        if target.startswith("#"):
            assert target[1:] in anchors, f"no heading for {target}"
        else:
            assert (ROOT / target).exists(), f"{target} does not exist"


# -- code blocks: fences balance, CLI lines parse, snippets are whole programs ---------------

FENCE = re.compile(r"^ *(`{3,})(\S*)\s*$")


def code_blocks(text: str = README) -> list[tuple[str, str, int]]:
    """(language, body, first line number) of every fenced block; raises on an unclosed one."""
    blocks: list[tuple[str, str, int]] = []
    opened: tuple[str, str, int] | None = None
    body: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if opened is None:
            if match:
                opened, body = (match.group(1), match.group(2), number), []
            continue
        if match and match.group(1) == opened[0] and not match.group(2):
            blocks.append((opened[1], "\n".join(body), opened[2]))
            opened = None
        else:
            body.append(line)
    if opened is not None:
        raise AssertionError(f"the code block opened at README line {opened[2]} is never closed")
    return blocks


def test_a_fence_checker_that_can_fail() -> None:
    with pytest.raises(AssertionError, match="line 3 is never closed"):
        code_blocks("text\n\n```toml\nport = 1\n\n## Heading\n")
    assert code_blocks("```sh\nls\n```\n") == [("sh", "ls", 1)]


def test_every_code_fence_is_closed_and_headings_are_outside_code() -> None:
    blocks = code_blocks()
    assert len(blocks) > 20
    for lang, body, line in blocks:
        assert not re.search(r"^## ", body, re.M), f"block at line {line} swallows a heading"
        assert lang in {"", "sh", "python", "toml", "yaml", "json"}, f"line {line}: {lang!r}"


SPENDTRAY_PROGRAMS = {"spendtray", ".venv/bin/spendtray", "dist/spendtray/spendtray"}
SHELL_OPERATORS = {";", "|", "||", "&&", "&", "(", ")"}


def cli_invocations(snippet: str) -> list[list[str]]:
    """The argument lists of every `spendtray …` command in a shell snippet, `$(…)` included."""
    import shlex

    found: list[list[str]] = []
    for line in snippet.replace("\\\n", " ").splitlines():
        for inner in re.findall(r"\$\(([^()]*)\)", line):
            found.extend(cli_invocations(inner))
        line = re.sub(r"\$\([^()]*\)", "SUBST", line)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token not in SHELL_OPERATORS:
                command.append(token)
                continue
            while command and re.match(r"^\w+=", command[0]):  # VAR=value prefixes
                command.pop(0)
            if command and command[0] in SPENDTRAY_PROGRAMS:
                args = command[1:]
                redirect = next((i for i, a in enumerate(args) if a[0] in "<>"), len(args))
                found.append(args[:redirect])
            command = []
    return found


def test_cli_invocations_are_found_where_a_shell_would_run_them() -> None:
    snippet = (
        'TOKEN=$(spendtray token); H="x"\n'
        'X="a=$(spendtray token --path)" spendtray report \\\n  --by model  # c\n'
        "spendtray estimate - -m gpt-4o < r.json | less\n"
    )
    assert cli_invocations(snippet) == [
        ["token"],
        ["token", "--path"],
        ["report", "--by", "model"],
        ["estimate", "-", "-m", "gpt-4o"],
    ]


def shell_cli_lines() -> list[tuple[int, list[str]]]:
    return [
        (line, args)
        for lang, body, line in code_blocks()
        if lang == "sh"
        for args in cli_invocations(body)
    ]


def test_the_readme_shows_many_cli_commands() -> None:
    shown = {args[0] for _, args in shell_cli_lines() if args}
    assert {"token", "budget", "estimate", "import", "report", "run", "serve"} <= shown


@pytest.mark.parametrize(("line", "args"), shell_cli_lines(), ids=lambda v: str(v))
def test_every_cli_command_in_a_shell_snippet_parses(
    line: int, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        build_parser().parse_args(args)
    except SystemExit as exc:
        err = capsys.readouterr().err.strip()
        assert exc.code == 0, f"README line {line}: `spendtray {' '.join(args)}`: {err}"


def undefined_names(source: str) -> list[str]:
    """ruff's undefined-name findings (F821) for one Python snippet."""
    import subprocess
    import sys

    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [
            str(ruff),
            "check",
            "--isolated",
            "--select",
            "F821",
            "--output-format",
            "concise",
            "--stdin-filename",
            "snippet.py",
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if "F821" in line]


def test_the_undefined_name_check_can_fail() -> None:
    assert undefined_names("import httpx\nhttpx.post(url)\n")
    assert not undefined_names("import httpx\nurl = 'x'\nhttpx.post(url)\n")


def whole_programs() -> list[tuple[int, str]]:
    """Python snippets that start with an import: shown as programs to copy, so every name
    they use must be defined in them (fragments that continue another block do not)."""
    return [
        (line, body)
        for lang, body, line in code_blocks()
        if lang == "python" and re.match(r"(import|from) \w", body)
    ]


def test_the_no_extra_package_snippet_is_a_whole_program() -> None:
    start = README.index("### Python (no extra package)")
    assert any(README.index(body) > start for _, body in whole_programs())


@pytest.mark.parametrize(("line", "body"), whole_programs(), ids=lambda v: str(v)[:20])
def test_python_snippets_define_every_name_they_use(line: int, body: str) -> None:
    assert not undefined_names(body), f"README line {line}: {undefined_names(body)}"


def test_the_default_upstreams_are_stated() -> None:
    from spendtray.proxy.upstreams import DEFAULTS

    for upstream in DEFAULTS:
        assert f"`{upstream.name}` forwards to `{upstream.url}`" in README or (
            f"`{upstream.name}` (`{upstream.url}`)" in README
        ), upstream
