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
