"""Render a runbook model as Markdown, an SQL script, HTML, JSON, or a user's template.

The shipped templates live in the top-level ``templates/`` directory of the
source tree and in ``handmig/templates`` inside the wheel; both are searched.
A user's template directory comes before them, so its files replace the
shipped ones of the same name; ``handmig/NAME`` always names a shipped one.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

from handmig import statements
from handmig.errors import TemplateFailed
from handmig.model import Runbook

FORMATS = {
    "markdown": "runbook.md.j2",
    "sql": "runbook.sql.j2",
    "html": "runbook.html.j2",
    "json": None,
}
# Templates whose names end so are HTML: their output is escaped.
HTML_EXTENSIONS = ("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2")
# The prefix under which the shipped templates stay reachable when a user's
# directory overrides them, so that an override can extend what it replaces.
SHIPPED_PREFIX = "handmig"

_PACKAGE = Path(__file__).resolve().parent
TEMPLATE_DIRS = [_PACKAGE / "templates", _PACKAGE.parent / "templates"]


def render(
    runbook: Runbook,
    format: str = "markdown",
    template: str | None = None,
    template_dir: str | None = None,
) -> str:
    """Return the runbook as text, in ``format`` or through ``template``."""
    user_dirs = _template_dirs(template_dir)
    if template is not None:
        return _render_file(runbook, template, user_dirs)
    if format not in FORMATS:
        raise TemplateFailed(
            f"Unknown format '{format}'; choose one of {', '.join(FORMATS)}."
        )
    name = FORMATS[format]
    if name is None:
        return json.dumps(runbook.to_dict(), indent=2) + "\n"
    return _render(_environment(user_dirs), name, runbook, name)


def render_status(status, format: str = "text") -> str:
    """Return a migration status as text or JSON."""
    if format == "json":
        return json.dumps(status.to_dict(), indent=2) + "\n"
    env = _environment([])
    try:
        return env.get_template("status.txt.j2").render(status=status)
    except jinja2.TemplateError as exc:
        raise TemplateFailed(f"Template status.txt.j2 failed: {exc}") from None


def _template_dirs(template_dir: str | None) -> list[str]:
    """Return the user's template directory as a search path, checked."""
    if template_dir is None:
        return []
    path = Path(template_dir)
    if not path.is_dir():
        raise TemplateFailed(
            f"Template directory {template_dir} not found; "
            "check --template-dir (it must be an existing directory)."
        )
    return [str(path.resolve())]


def _render_file(runbook: Runbook, template: str, user_dirs: list[str]) -> str:
    path = Path(template)
    if not path.is_file():
        raise TemplateFailed(f"Template {template} not found; check the path.")
    env = _environment([str(path.parent.resolve()), *user_dirs])
    return _render(env, path.name, runbook, template)


def _environment(extra_dirs: list[str]) -> jinja2.Environment:
    # A user's template may extend or include the shipped ones, and a user's
    # directory may replace them; "handmig/NAME" reaches past the replacement.
    shipped = [str(d) for d in TEMPLATE_DIRS if d.is_dir()]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PrefixLoader({SHIPPED_PREFIX: jinja2.FileSystemLoader(shipped)}),
                jinja2.FileSystemLoader(extra_dirs + shipped),
            ]
        ),
        undefined=jinja2.StrictUndefined,
        # SQL and Markdown are not escaped; HTML is, since SQL holds < > & '.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=HTML_EXTENSIONS,
            disabled_extensions=(),
            default_for_string=False,
            default=False,
        ),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sql_comment"] = _sql_comment
    env.filters["indent_block"] = _indent_block
    env.filters["script_statement"] = _script_statement
    return env


def _render(env, name: str, runbook: Runbook, shown_as: str) -> str:
    try:
        return env.get_template(name).render(runbook=runbook)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateFailed(
            f"Template {shown_as}, line {exc.lineno}: {exc.message}; fix the template."
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateFailed(
            f"Template {exc.name} (used by {shown_as}) not found; check the name."
        ) from None
    except jinja2.TemplateError as exc:
        raise TemplateFailed(
            f"Template {shown_as} failed: {exc.message}; fix the template."
        ) from None
    except Exception as exc:  # noqa: BLE001 - any failure inside a user template
        raise TemplateFailed(
            f"Template {shown_as} failed: {type(exc).__name__}: {exc}; "
            "fix the template."
        ) from None


def _sql_comment(text: str) -> str:
    """Return ``text`` as SQL line comments."""
    return "\n".join("-- " + line if line else "--" for line in str(text).splitlines())


def _indent_block(text: str, width: int = 2) -> str:
    """Indent every non-empty line of ``text`` by ``width`` spaces."""
    pad = " " * width
    return "\n".join(pad + line if line else line for line in str(text).splitlines())


def _script_statement(sql: str, vendor: str) -> str:
    """Return ``sql`` as the vendor's shell client must read it from a script.

    The mysql/mariadb client ends a statement at every ';' it sees; a
    compound statement (a trigger's BEGIN ... END) needs another delimiter.
    """
    if vendor != "mysql" or not statements.needs_delimiter(sql):
        return sql
    body = sql.rstrip().rstrip(";").rstrip()
    delimiter = "$$" if "$$" not in body else "//"
    return f"DELIMITER {delimiter}\n{body}{delimiter}\nDELIMITER ;"
