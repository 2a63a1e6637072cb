"""The supported Django/Python combinations, one nox session each.

    nox -s django42                      # SQLite
    HANDMIG_TEST_DATABASES=sqlite,postgresql,mysql nox -s django61
    nox -s django52 -- tests/test_cli.py -x

Every session installs handmig with its test extras and one Django release
series, then runs the whole suite; arguments after ``--`` go to pytest.
"""

import os

import nox

nox.options.sessions = ["django42", "django52", "django60", "django61"]
# A combination whose Python is missing fails rather than quietly skips.
nox.options.error_on_missing_interpreters = True

# name: (Python, Django series, whether the third-party apps install there).
# django-cms 5.1 requires Django 5.2 or later, so Django 4.2 goes without
# tests/test_third_party.py.
MATRIX = {
    "django42": ("3.11", "4.2", False),
    "django52": ("3.11", "5.2", True),
    "django60": ("3.12", "6.0", True),
    "django61": ("3.13", "6.1", True),
}


def _define(name, python, django, thirdparty):
    @nox.session(name=name, python=python)
    def tests(session):
        extras = ["test", "postgresql", "mysql"] + (
            ["thirdparty"] if thirdparty else []
        )
        session.install("-e", f".[{','.join(extras)}]", f"Django~={django}.0")
        env = {
            "HANDMIG_TEST_DATABASES": os.environ.get("HANDMIG_TEST_DATABASES")
            or "sqlite",
            # Where the extra is installed, missing apps are a failure, not a skip.
            "HANDMIG_TEST_THIRD_PARTY": "1" if thirdparty else "",
        }
        session.run("python", "-m", "pytest", *session.posargs, env=env)

    tests.__doc__ = f"Django {django} on Python {python}" + (
        "" if thirdparty else " (without the third-party apps)"
    )
    return tests


for _name, _spec in MATRIX.items():
    globals()[_name] = _define(_name, *_spec)
