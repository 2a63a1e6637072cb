"""The command line documents itself, and the docs keep up with it.

docs/commands.md is the --help of every command (scripts/command_reference.py
writes it); every command and every argument has a help text, and README.md's
usage synopsis lists every command.
"""

import argparse
import importlib.util
import re
from pathlib import Path

import pytest

from handmig.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
COMMANDS_MD = ROOT / "docs" / "commands.md"
README = ROOT / "README.md"


def _load_generator():
    # scripts/ is not a package: load the generator from its file.
    path = ROOT / "scripts" / "command_reference.py"
    spec = importlib.util.spec_from_file_location("command_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()
PARSER = build_parser()
COMMANDS = generator.subcommands(PARSER)
PARSERS = {"handmig": PARSER} | {
    f"handmig {name}": command for name, command in COMMANDS.items()
}


def test_commands_md_is_up_to_date():
    text = COMMANDS_MD.read_text()
    made_with = re.search(r"under Python (\d+\.\d+)", text)
    assert made_with, "docs/commands.md does not say which Python made it"
    if made_with.group(1) != generator.PYTHON:
        pytest.skip(
            f"docs/commands.md was made with Python {made_with.group(1)}; "
            f"argparse lays out help differently on {generator.PYTHON}"
        )
    assert text == generator.render(), (
        f"docs/commands.md is out of date; run: {generator.REGENERATE}"
    )


def test_there_are_commands():
    assert set(COMMANDS) >= {"runbook", "plan", "record", "rerun", "status"}


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name):
    (subparsers,) = [
        action
        for action in PARSER._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    summaries = {choice.dest: choice.help for choice in subparsers._choices_actions}
    assert summaries.get(name), f"'handmig {name}' has no help= summary"
    assert COMMANDS[name].description, f"'handmig {name}' has no description="


@pytest.mark.parametrize("prog", PARSERS)
def test_every_argument_has_help(prog):
    # help=argparse.SUPPRESS hides an argument on purpose; only a missing or
    # empty help is an omission.
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in PARSERS[prog]._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == [], f"'{prog}' arguments without help text: {missing}"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_readme_usage(name):
    usage = README.read_text().split("## Usage", 1)[1].split("\n## ", 1)[0]
    synopsis = usage.split("```", 2)[1]
    assert re.search(rf"^  {name}\b", synopsis, re.M), (
        f"README.md's Usage synopsis does not list '{name}'"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_commands_md(name):
    assert f"\n## handmig {name}\n" in COMMANDS_MD.read_text()
