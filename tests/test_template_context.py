"""docs/templates.md documents the whole template context, and the shipped
templates use nothing else.

Every dataclass field of handmig.model must appear in its class's table in
the docs, and every attribute a shipped template reads through ``runbook``
(directly or through a loop variable) must be a field of the model.
"""

import dataclasses
import inspect
import re
import types
import typing
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes

from handmig import model
from handmig.render import FORMATS, _environment

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "templates.md"
# status.txt.j2 renders a status, not a runbook.
TEMPLATES = sorted((ROOT / "templates").glob("runbook.*.j2"))
CLASSES = [
    cls
    for _, cls in inspect.getmembers(model, inspect.isclass)
    if dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__
]
# Every field name of the model: what an attribute of a value of unknown
# type (a macro's parameter) may be.
FIELD_NAMES = {f.name for cls in CLASSES for f in dataclasses.fields(cls)}

UNKNOWN = object()  # a value the checker cannot type: its attributes must be fields
PLAIN = object()  # a string, number, loop, namespace: its attributes are not checked


def _section(text, heading):
    """Return the docs' section under ``### heading``, up to the next heading."""
    match = re.search(
        rf"^### {re.escape(heading)}\n(.*?)(?=^#{{1,3}} |\Z)", text, re.M | re.S
    )
    return match.group(1) if match else None


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_model_field_is_documented(cls):
    section = _section(DOCS.read_text(), cls.__name__)
    assert section is not None, f"docs/templates.md has no '### {cls.__name__}' section"
    rows = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in rows]
    assert missing == [], (
        f"{cls.__name__} fields missing from docs/templates.md: {missing}"
    )
    unknown = sorted(rows - {f.name for f in dataclasses.fields(cls)})
    assert unknown == [], (
        f"docs/templates.md documents {cls.__name__} fields that do not exist: {unknown}"
    )


def test_every_filter_is_documented():
    ours = set(_environment([]).filters) - set(jinja2.Environment().filters)
    assert ours, "no filters of handmig's own found"
    documented = set(
        re.findall(
            r"^\| `(\w+)[`(]",
            DOCS.read_text().split("## Filters")[1].split("\n## ")[0],
            re.M,
        )
    )
    assert ours <= documented, (
        f"filters missing from docs/templates.md: {sorted(ours - documented)}"
    )


def test_every_shipped_format_is_documented():
    text = DOCS.read_text()
    for fmt, name in FORMATS.items():
        assert f"`--format {fmt}`" in text
        if name:
            assert f"`{name}`" in text


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_shipped_templates_read_only_model_fields(path):
    ast = _environment([]).parse(path.read_text())
    checker = _Checker()
    checker.walk(ast, {"runbook": model.Runbook})
    assert checker.errors == []
    assert checker.resolved > 20, "the checker typed almost nothing: is it working?"


@pytest.mark.parametrize(
    "source,error",
    [
        ("{{ runbook.titel }}", "Runbook has no field 'titel'"),
        ("{{ runbook.header.when }}", "Header has no field 'when'"),
        (
            "{% for m in runbook.migrations %}{{ m.nmae }}{% endfor %}",
            "MigrationSection has no field 'nmae'",
        ),
        (
            "{% for m in runbook.migrations %}{% for op in m.operations %}"
            "{{ op.python.callabel }}{% endfor %}{% endfor %}",
            "PythonCode has no field 'callabel'",
        ),
        (
            "{% macro x(s) %}{{ s.sqll }}{% endmacro %}",
            "'sqll' is no field of the model",
        ),
    ],
)
def test_checker_catches_wrong_fields(source, error):
    checker = _Checker()
    checker.walk(_environment([]).parse(source), {"runbook": model.Runbook})
    assert any(error in message for message in checker.errors), checker.errors


class _Checker:
    """Walk a template's AST, typing names from ``runbook`` down; collect errors."""

    def __init__(self):
        self.errors = []
        self.resolved = 0

    def walk(self, node, scope):
        if isinstance(node, nodes.For):
            self.walk(node.iter, scope)
            inner = dict(scope, loop=PLAIN)
            self._bind(node.target, _element(self.type_of(node.iter, scope)), inner)
            for child in [*node.body, *node.else_, *([node.test] if node.test else [])]:
                self.walk(child, inner)
            return
        if isinstance(node, nodes.Macro):
            inner = dict(scope, caller=PLAIN, varargs=PLAIN, kwargs=PLAIN)
            for arg in node.args:
                inner[arg.name] = UNKNOWN
            for child in [*node.defaults, *node.body]:
                self.walk(child, inner)
            return
        if isinstance(node, nodes.Assign):
            self.walk(node.node, scope)
            kind = self.type_of(node.node, scope)
            self._bind(node.target, PLAIN if kind is UNKNOWN else kind, scope)
            return
        if isinstance(node, nodes.Getattr):
            self.type_of(node, scope)
            return
        for child in node.iter_child_nodes():
            self.walk(child, scope)

    def type_of(self, node, scope):
        """Return the model class (or ("list", class)) ``node`` evaluates to."""
        if isinstance(node, nodes.Name):
            return scope.get(node.name, UNKNOWN)
        if isinstance(node, nodes.Getattr):
            base = self.type_of(node.node, scope)
            if dataclasses.is_dataclass(base):
                hints = typing.get_type_hints(base)
                if node.attr not in hints:
                    self.errors.append(
                        f"line {node.lineno}: {base.__name__} has no field '{node.attr}'"
                    )
                    return PLAIN
                self.resolved += 1
                return _kind(hints[node.attr])
            if base is UNKNOWN and node.attr not in FIELD_NAMES:
                self.errors.append(
                    f"line {node.lineno}: '{node.attr}' is no field of the model"
                )
            return UNKNOWN if base is UNKNOWN else PLAIN
        if isinstance(node, nodes.Getitem):
            base = self.type_of(node.node, scope)
            self.walk(node.arg, scope)
            return _element(base)
        for child in node.iter_child_nodes():
            self.walk(child, scope)
        # Filters, tests, calls, literals: nothing of the model comes out typed.
        return PLAIN

    def _bind(self, target, kind, scope):
        if isinstance(target, nodes.Name):
            scope[target.name] = kind
        elif isinstance(target, (nodes.Tuple, nodes.List)):
            for item in target.items:
                self._bind(item, UNKNOWN, scope)
        elif isinstance(target, nodes.NSRef):
            pass  # namespace.attr = ...: a counter, not the model


def _kind(hint):
    """Return the checker's type for a field's type hint."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _kind(args[0]) if len(args) == 1 else PLAIN
    if origin is list:
        return ("list", _kind(typing.get_args(hint)[0]))
    if dataclasses.is_dataclass(hint):
        return hint
    return PLAIN


def _element(kind):
    """Return the type of an item of a list of ``kind``."""
    if isinstance(kind, tuple) and kind[0] == "list":
        return kind[1]
    return PLAIN if kind is not UNKNOWN else UNKNOWN
