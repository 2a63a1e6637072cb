"""--template-dir: a user's directory whose templates replace the shipped ones.

Its files win over the shipped templates of the same name for every
--format; "handmig/NAME" still reaches the shipped one, so an override can
extend what it replaces, and --template files can include from the directory.
"""

import pytest

from handmig.errors import TemplateFailed
from handmig.model import Statement
from handmig.render import render
from tests.test_cli import empty_sample_db, sample  # noqa: F401 - a fixture
from tests.test_html import _one_statement_runbook


def test_override_replaces_the_shipped_markdown(empty_sample_db, tmp_path):  # noqa: F811
    (tmp_path / "runbook.md.j2").write_text("{{ runbook.title }}, our way\n")
    args = ("runbook", "shop", "0001", "--template-dir", str(tmp_path))
    result = sample(*args, env=empty_sample_db)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Apply shop.0001_initial, our way\n"
    # Formats the directory has no template for stay as shipped.
    sql = sample(*args, "--format", "sql", env=empty_sample_db)
    assert sql.returncode == 0, sql.stderr
    assert sql.stdout.startswith("-- Apply shop.0001_initial\n")


def test_override_extends_the_shipped_template(empty_sample_db, tmp_path):  # noqa: F811
    (tmp_path / "runbook.md.j2").write_text(
        '{% extends "handmig/runbook.md.j2" %}\n'
        "{% block end %}\n\nSigned off by: ____________\n{% endblock %}\n"
    )
    shipped = sample("runbook", "shop", "0001", env=empty_sample_db)
    ours = sample(
        "runbook", "shop", "0001", "--template-dir", str(tmp_path), env=empty_sample_db
    )
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.startswith("# Apply shop.0001_initial\n")
    assert ours.stdout.endswith("\n\nSigned off by: ____________\n")
    # Everything else is the shipped runbook, the timestamp aside.
    body = ours.stdout.removesuffix("\nSigned off by: ____________\n")
    assert _without_timestamp(body) == _without_timestamp(shipped.stdout)


def test_user_template_uses_the_directory(empty_sample_db, tmp_path):  # noqa: F811
    library = tmp_path / "library"
    library.mkdir()
    (library / "runbook.md.j2").write_text("overridden {{ runbook.kind }}\n")
    (library / "owner.j2").write_text("Owner: the database team\n")
    template = tmp_path / "mine.j2"
    # The plain name finds the override; "handmig/" the shipped template.
    template.write_text(
        '{% include "owner.j2" %}'
        '{% include "runbook.md.j2" %}'
        '{% include "handmig/runbook.sql.j2" %}'
    )
    result = sample(
        "record",
        "shop",
        "0001",
        "--template",
        str(template),
        "--template-dir",
        str(library),
        env=empty_sample_db,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "Owner: the database team",
        "overridden record",
        "-- Record shop.0001_initial as applied",
    ]
    assert "INSERT INTO" in result.stdout


def test_html_override_keeps_escaping(tmp_path):
    (tmp_path / "runbook.html.j2").write_text(
        '{% extends "handmig/runbook.html.j2" %}'
        "{% block head %}<style>body { font-size: 18px; }</style>{% endblock %}"
    )
    statement = Statement("SELECT '<x>';", "SELECT")
    page = render(
        _one_statement_runbook(statement), format="html", template_dir=str(tmp_path)
    )
    assert "<style>body { font-size: 18px; }</style>" in page
    assert "SELECT &#39;&lt;x&gt;&#39;;" in page
    assert "<x>" not in page


def test_missing_directory_names_the_fix(tmp_path):
    runbook = _one_statement_runbook(Statement("SELECT 1;", "SELECT"))
    with pytest.raises(TemplateFailed, match="--template-dir") as failure:
        render(runbook, template_dir=str(tmp_path / "nowhere"))
    assert "\n" not in str(failure.value)


def _without_timestamp(text):
    return "\n".join(line for line in text.splitlines() if "| Generated |" not in line)
