"""The command line: entry points, output, and every kind of bad input.

Bad input gets one line on stderr naming the fix, a non-zero exit code, no
traceback and no output file.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def handmig(*args, cwd=ROOT, env=None, entry=("-m", "handmig")):
    """Run handmig in a fresh process on the sample project (empty SQLite)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, *entry, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def sample(*args, **kwargs):
    return handmig(
        "--pythonpath",
        str(SAMPLES),
        "--settings",
        "sampleproject.settings",
        *args,
        **kwargs,
    )


@pytest.fixture
def empty_sample_db(tmp_path):
    """Point the sample project at a SQLite file that does not exist yet."""
    return {"HANDMIG_SAMPLE_DB_NAME": str(tmp_path / "sample.sqlite3")}


def test_markdown_runbook_on_stdout(empty_sample_db, tmp_path):
    result = sample("runbook", "shop", "0001", env=empty_sample_db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Apply shop.0001_initial")
    assert "- [ ] **" in result.stdout
    assert "```sql" in result.stdout
    assert result.stderr == ""
    # Generating must not create the database it generates for.
    assert not (tmp_path / "sample.sqlite3").exists()


def test_manage_py_command_gives_the_same_runbook(empty_sample_db):
    env = {**empty_sample_db, "PYTHONPATH": str(ROOT)}
    standalone = sample("runbook", "shop", "0002", "--format", "json", env=env)
    managed = handmig(
        "handmig",
        "runbook",
        "shop",
        "0002",
        "--format",
        "json",
        cwd=SAMPLES,
        env=env,
        entry=("manage.py",),
    )
    assert managed.returncode == 0, managed.stderr
    one, two = json.loads(standalone.stdout), json.loads(managed.stdout)
    for doc in (one, two):
        # When, which settings variable and the working directory differ.
        doc["header"]["generated_at"] = doc["header"]["settings"] = None
        for migration in doc["migrations"]:
            migration["file"] = None
    assert one == two


def test_output_file_is_written_whole(empty_sample_db, tmp_path):
    target = tmp_path / "runbook.sql"
    result = sample(
        "runbook",
        "shop",
        "0001",
        "--format",
        "sql",
        "-o",
        str(target),
        env=empty_sample_db,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text().startswith("-- Apply shop.0001_initial")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_user_template(empty_sample_db, tmp_path):
    template = tmp_path / "mine.txt.j2"
    template.write_text(
        "{% for m in runbook.migrations %}{{ m.app }}.{{ m.name }}: "
        "{{ m.statement_count }} statements{% endfor %}\n"
    )
    result = sample(
        "runbook", "shop", "0001", "--template", str(template), env=empty_sample_db
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("shop.0001_initial: ")
    assert int(result.stdout.split(": ")[1].split()[0]) > 3


BAD_INPUT = [
    ("bad duration", ["runbook", "shop", "0001", "--lock-timeout", "soon"], 2, "500ms"),
    ("unknown rule", ["plan", "--ignore", "no-such-rule"], 2, "the rules are"),
    ("unknown app", ["runbook", "nosuchapp", "0001"], 2, "INSTALLED_APPS"),
    ("app without migrations", ["runbook", "handmig", "0001"], 2, "makemigrations"),
    ("ambiguous prefix", ["runbook", "shop", "00"], 2, "give more of the name"),
    ("missing migration", ["runbook", "shop", "0999"], 2, "showmigrations"),
    ("replaced migration", ["runbook", "inventory", "0002"], 2, "squashed"),
    (
        "irreversible backwards",
        ["runbook", "reports", "0002", "--backwards"],
        3,
        "Cannot reverse: reports.0002",
    ),
    (
        "missing template",
        ["runbook", "shop", "0001", "--template", "/nonexistent.j2"],
        5,
        "not found",
    ),
    (
        "missing template directory",
        ["runbook", "shop", "0001", "--template-dir", "/nonexistent-templates"],
        5,
        "check --template-dir",
    ),
    (
        "online tool on SQLite",
        ["runbook", "shop", "0014", "--pt-osc"],
        2,
        "Leave out --pt-osc",
    ),
    ("applied without offline", ["plan", "--applied", "x.json"], 2, "add --offline"),
    ("shadow needed, none allowed", ["plan", "--no-shadow"], 7, "--shadow"),
    ("unknown shadow database", ["plan", "--shadow-database", "nope"], 8, "'nope'"),
    ("offline, catalog needed", ["plan", "--offline"], 9, "database connection"),
]


@pytest.mark.parametrize("case,args,code,fix", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input(empty_sample_db, tmp_path, case, args, code, fix):
    target = tmp_path / "runbook.out"
    result = sample(*args, "-o", str(target), env=empty_sample_db)
    _assert_one_line_error(result, code, fix)
    # Nothing half-written, and the database it was generating for untouched.
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_progress_on_a_terminal_only(empty_sample_db, tmp_path):
    args = ("plan", "shop", "0003", "--format", "json")
    piped = sample(*args, env=empty_sample_db)
    assert piped.returncode == 0 and piped.stderr == ""
    terminal = _stderr_on_a_terminal(sample_args(*args), empty_sample_db)
    assert "\r\x1b[Khandmig: collecting 3/3 shop.0003" in terminal
    assert terminal.endswith("\r\x1b[K")  # the line is cleared at the end
    quiet = _stderr_on_a_terminal(sample_args("-q", *args), empty_sample_db)
    assert quiet == ""
    verbose = sample("-v", "2", *args, env=empty_sample_db)
    lines = verbose.stderr.splitlines()
    assert lines[-1] == "handmig: collecting 3/3 shop.0003_alter_title_author_name"
    assert json.loads(verbose.stdout)["kind"] == "plan"  # stdout untouched


def sample_args(*args):
    return ["--pythonpath", str(SAMPLES), "--settings", "sampleproject.settings", *args]


def _stderr_on_a_terminal(args, env):
    """Run handmig with standard error on a pseudo-terminal; return what it wrote."""
    import pty
    import threading

    master, slave = pty.openpty()
    chunks = []

    def read():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read)
    reader.start()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "handmig", *args],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=slave,
        timeout=120,
    )
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    assert result.returncode == 0
    return b"".join(chunks).decode()


def test_broken_template_leaves_no_file(empty_sample_db, tmp_path):
    template = tmp_path / "broken.j2"
    template.write_text("{% for x in %}\n")
    target = tmp_path / "out.md"
    result = sample(
        "runbook",
        "shop",
        "0001",
        "--template",
        str(template),
        "-o",
        str(target),
        env=empty_sample_db,
    )
    _assert_one_line_error(result, 5, "line 1")
    assert not target.exists()


def test_undefined_name_in_template(empty_sample_db, tmp_path):
    template = tmp_path / "typo.j2"
    template.write_text("{{ runbook.titel }}\n")
    result = sample(
        "runbook", "shop", "0001", "--template", str(template), env=empty_sample_db
    )
    _assert_one_line_error(result, 5, "titel")


def test_unwritable_output(empty_sample_db, tmp_path):
    target = tmp_path / "missing-dir" / "out.md"
    result = sample("runbook", "shop", "0001", "-o", str(target), env=empty_sample_db)
    _assert_one_line_error(result, 6, "writable path")
    assert not target.parent.exists()


def test_unreachable_database():
    env = {
        "HANDMIG_SAMPLE_DB": "postgresql",
        "HANDMIG_SAMPLE_DB_PORT": "1",  # nothing listens there
    }
    result = sample("runbook", "shop", "0001", env=env)
    _assert_one_line_error(result, 4, "server is running")


def test_missing_settings():
    result = handmig("runbook", "shop", "0001")
    _assert_one_line_error(result, 2, "--settings")


def test_unimportable_settings():
    result = handmig("--settings", "no.such.settings", "runbook", "shop", "0001")
    _assert_one_line_error(result, 2, "--pythonpath")


def test_usage_error_exits_2():
    result = handmig("runbook")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def _assert_one_line_error(result, code, fix):
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("handmig: error: ")
    assert fix in lines[0]


def test_missing_dependency(tmp_path, empty_sample_db):
    # A project whose migration depends on one that is not there.
    shutil.copytree(SAMPLES, tmp_path / "project")
    broken = tmp_path / "project" / "reports" / "migrations" / "0001_initial.py"
    broken.write_text(broken.read_text().replace("0011_book_isbn", "0099_missing"))
    result = handmig(
        "--pythonpath",
        str(tmp_path / "project"),
        "--settings",
        "sampleproject.settings",
        "runbook",
        "shop",
        "0001",
        env=empty_sample_db,
    )
    _assert_one_line_error(result, 2, "0099_missing")


def test_template_that_fails_while_rendering(empty_sample_db, tmp_path):
    template = tmp_path / "div.j2"
    template.write_text("{{ runbook.migrations | length / 0 }}\n")
    result = sample(
        "runbook", "shop", "0001", "--template", str(template), env=empty_sample_db
    )
    _assert_one_line_error(result, 5, "ZeroDivisionError")
