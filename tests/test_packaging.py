"""The distributions work on their own: build the sdist and the wheel, install
the wheel into a fresh virtual environment and run handmig from there.

The wheel is built from the sdist (what ``python -m build`` does), so both
must carry the templates; the installed command finds them only inside the
package, because the repository's templates/ is not next to it. Dependencies
come from the package index.
"""

import html
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHIPPED = [
    "handmig/templates/runbook.md.j2",
    "handmig/templates/runbook.sql.j2",
    "handmig/templates/runbook.html.j2",
    "handmig/templates/status.txt.j2",
    "handmig/py.typed",
]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """Build the sdist and the wheel once; return the output directory."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)])
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory):
    """A fresh virtual environment with only the wheel and its dependencies."""
    path = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(path)])
    python = path / ("Scripts" if os.name == "nt" else "bin") / "python"
    (wheel,) = dist.glob("handmig-*.whl")
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)])
    return path


def _run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode}:\n"
        f"{result.stdout}\n{result.stderr}"
    )
    return result


def test_wheel_ships_templates_and_marker(dist):
    (wheel,) = dist.glob("handmig-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in SHIPPED if name not in names]
    assert missing == [], f"{wheel.name} lacks {missing}"


def test_sdist_ships_what_the_wheel_is_built_from(dist):
    (sdist,) = dist.glob("handmig-*.tar.gz")
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    expected = [
        "templates/runbook.md.j2",
        "templates/runbook.sql.j2",
        "templates/runbook.html.j2",
        "templates/status.txt.j2",
        "handmig/py.typed",
        "pyproject.toml",
        "LICENSE",
        "README.md",
    ]
    missing = [name for name in expected if name not in names]
    assert missing == [], f"{sdist.name} lacks {missing}"


@pytest.mark.parametrize(
    "fmt, expected",
    [
        ("markdown", "# Apply shop.0001_initial"),
        ("html", "<!DOCTYPE html>"),
    ],
)
def test_installed_command_writes_runbooks(venv, tmp_path, fmt, expected):
    handmig = venv / ("Scripts" if os.name == "nt" else "bin") / "handmig"
    env = {
        **os.environ,
        "HANDMIG_SAMPLE_DB_NAME": str(tmp_path / "sample.sqlite3"),
    }
    # Nothing of the checkout may leak in: not the test run's settings, not
    # its sys.path, not the working directory (handmig adds it to the path).
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PYTHONPATH", None)
    result = _run(
        [
            str(handmig),
            "--pythonpath",
            str(SAMPLES),
            "--settings",
            "sampleproject.settings",
            "runbook",
            "shop",
            "0001",
            "--format",
            fmt,
        ],
        cwd=tmp_path,
        env=env,
    )
    # The page escapes quotes in SQL; the browser shows them as they are.
    text = html.unescape(result.stdout) if fmt == "html" else result.stdout
    assert text.startswith(expected)
    assert 'CREATE TABLE "shop_author"' in text
    assert 'INSERT INTO "django_migrations"' in text
