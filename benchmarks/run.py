"""Measure handmig against Django's own commands, in the same run.

Every figure is a ratio: handmig's time (or peak memory) over Django's for
the same job on the same database, each command a fresh process, the two
alternating, the median of several pairs. Absolute seconds differ from
machine to machine and from minute to minute; ratios taken side by side do
not.

    python3 -m pip install -e '.[thirdparty,wagtail,postgresql]'
    python benchmarks/run.py                 # everything, SQLite and PostgreSQL
    python benchmarks/run.py --quick         # one pair each, N = 250 only
    python benchmarks/run.py --project thirdparty   # the smaller real project

Cases:
  whole      handmig plan vs migrate, empty database, the whole history of a
             real project: django-cms, django-filer and Wagtail, 221 migration
             nodes (tests/wagtail_settings.py); --project thirdparty takes
             django-cms and django-filer alone (tests/thirdparty_settings.py)
  pending    the same database at all but the last 10 migrations: handmig
             plan vs one sqlmigrate process of the last migration of the
             plan (for the Wagtail project wagtailusers.0015: Django's
             start-up, the graph, one state and its system checks)
  scaling    handmig plan on synthetic projects of N migrations
             (benchmarks/synthetic.py) on SQLite: t(N), the median of up to
             three runs, and t(largest)/t(smallest); at the smallest N also
             the ratio to migrate (whose time grows with the square of N, so
             larger N are not paired)
  memory     peak RSS of handmig plan vs migrate on the whole history

It prints a table, then one JSON line with every figure. PostgreSQL is
expected at 127.0.0.1:5432 as postgres (HANDMIG_BENCH_PG_HOST/PORT/USER).
"""

from __future__ import annotations

import argparse
import compileall
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PG = {
    "host": os.environ.get("HANDMIG_BENCH_PG_HOST", "127.0.0.1"),
    "port": os.environ.get("HANDMIG_BENCH_PG_PORT", "5432"),
    "user": os.environ.get("HANDMIG_BENCH_PG_USER", "postgres"),
}
PG_NAME = "handmig_bench"
# The real projects' settings modules, in tests/ (their extras installed).
PROJECTS = {"wagtail": "wagtail_settings", "thirdparty": "thirdparty_settings"}


class Database:
    """A database to run one command on: emptied, or set up, before each run."""

    def __init__(self, vendor: str, workdir: Path):
        self.vendor = vendor
        self.path = workdir / "bench.sqlite3"

    def env(self, prefix: str) -> dict[str, str]:
        if self.vendor == "sqlite":
            return {
                f"{prefix}_ENGINE": "django.db.backends.sqlite3",
                f"{prefix}_NAME": str(self.path),
            }
        return {
            f"{prefix}_ENGINE": "django.db.backends.postgresql",
            f"{prefix}_NAME": PG_NAME,
            f"{prefix}_HOST": PG["host"],
            f"{prefix}_PORT": PG["port"],
            f"{prefix}_USER": PG["user"],
        }

    def empty(self) -> None:
        if self.vendor == "sqlite":
            self.path.unlink(missing_ok=True)
            return
        for sql in (
            f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)',
            f'CREATE DATABASE "{PG_NAME}"',
        ):
            subprocess.run(
                ["psql", "-X", "-q", "-h", PG["host"], "-p", PG["port"]]
                + ["-U", PG["user"], "-d", "postgres", "-c", sql],
                check=True,
                capture_output=True,
            )

    def drop(self) -> None:
        if self.vendor == "postgresql":
            subprocess.run(
                ["psql", "-X", "-q", "-h", PG["host"], "-p", PG["port"]]
                + ["-U", PG["user"], "-d", "postgres", "-c"]
                + [f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'],
                check=True,
                capture_output=True,
            )


def measure(argv, env, cwd=ROOT, timeout=3600) -> tuple[float, float]:
    """Run ``argv`` once; return (seconds, peak RSS in MiB) of that process."""
    with tempfile.NamedTemporaryFile("r") as report:
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", report.name, *argv],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv[:6])}... failed ({result.returncode}): "
                f"{result.stderr.strip().splitlines()[-1:]}"
            )
        seconds, kib = report.read().split()[-2:]
    return float(seconds), int(kib) / 1024


def pairs(repeat, ours, theirs, before_each=lambda: None):
    """Alternate the two commands ``repeat`` times; return both lists of results."""
    mine, django = [], []
    for i in range(repeat):
        order = [(ours, mine), (theirs, django)]
        if i % 2:
            order.reverse()
        for run, into in order:
            before_each()
            into.append(run())
    return mine, django


def ratio(mine, django, index=0):
    """Return (median, min, max) of the pairwise ratios of element ``index``."""
    values = [m[index] / d[index] for m, d in zip(mine, django, strict=True)]
    return statistics.median(values), min(values), max(values)


def django_admin(*args):
    return [sys.executable, "-m", "django", *args]


def handmig(*args):
    return [sys.executable, "-m", "handmig", *args]


def real_project(vendor, project, workdir, repeat, results):
    db = Database(vendor, workdir)
    env = {**db.env("HANDMIG_TP"), "PYTHONPATH": f"{ROOT}{os.pathsep}{TESTS}"}
    settings = ["--settings", project, "--pythonpath", str(TESTS)]
    plan = handmig(*settings, "plan", "--format", "sql")
    shadow = _shadow_if_needed(plan, env, db.empty)
    mine, django = pairs(
        repeat,
        lambda: measure(plan + shadow, env),
        lambda: measure(django_admin("migrate", *settings, "-v", "0"), env),
        db.empty,
    )
    results[f"whole_{vendor}"] = _figure(mine, django)
    results[f"whole_{vendor}"]["shadow"] = bool(shadow)
    if vendor == "sqlite":
        results["memory_sqlite"] = _figure(mine, django, index=1, unit="MiB")

    # Pending: all but the last 10 migrations of the plan applied.
    db.empty()
    last = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "at.py"), "10"],
        cwd=ROOT,
        env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": project},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    shadow = _shadow_if_needed(plan, env)
    mine, django = pairs(
        repeat,
        lambda: measure(plan + shadow, env),
        lambda: measure(django_admin("sqlmigrate", *settings, *last), env),
    )
    results[f"pending10_{vendor}"] = _figure(mine, django)
    results[f"pending10_{vendor}"]["shadow"] = bool(shadow)
    db.drop()


def _shadow_if_needed(plan, env, before=lambda: None) -> list[str]:
    """Return ["--shadow"] where handmig says the plan needs one (exit 7), as
    a DBA would learn it: Django cannot write some SQL before the objects it
    names exist (on PostgreSQL, the whole history)."""
    before()
    probe = subprocess.run(
        plan, cwd=ROOT, env={**os.environ, **env}, capture_output=True, check=False
    )
    return ["--shadow"] if probe.returncode == 7 else []


def scaling(sizes, workdir, repeat, results):
    times = {}
    for size in sizes:
        project = workdir / f"synthetic{size}"
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "synthetic.py")]
            + [str(size), str(project)],
            check=True,
        )
        # Both commands read its migrations: compiled once, not on every run.
        compileall.compile_dir(project, quiet=1)
        db = Database("sqlite", project)
        env = {**db.env("HANDMIG_BENCH"), "PYTHONPATH": str(ROOT)}
        settings = ["--settings", "synthetic_settings", "--pythonpath", str(project)]
        plan = handmig(*settings, "plan", "--format", "sql")
        if size == min(sizes):
            # The one size migrate finishes in seconds: the ratio to it.
            migrate = django_admin("migrate", *settings, "-v", "0")
            mine, django = pairs(
                repeat,
                functools.partial(measure, plan, env),
                functools.partial(measure, migrate, env),
                db.empty,
            )
            results[f"synthetic{size}_vs_migrate"] = _figure(mine, django)
            runs = mine
        else:
            runs = []
            for _ in range(min(repeat, 3)):
                db.empty()
                runs.append(measure(plan, env))
        seconds = statistics.median(r[0] for r in runs)
        times[size] = seconds
        results[f"scaling_{size}"] = {
            "seconds": round(seconds, 2),
            "runs": [round(r[0], 2) for r in runs],
            "rss_mib": round(max(r[1] for r in runs), 1),
        }
    if len(sizes) > 1:
        low, high = min(sizes), max(sizes)
        results["scaling_ratio"] = {
            "sizes": [low, high],
            "ratio": round(times[high] / times[low], 2),
            "linear": round(high / low, 2),
        }


def _figure(mine, django, index=0, unit="s"):
    median, low, high = ratio(mine, django, index)
    return {
        "ratio": round(median, 3),
        "min": round(low, 3),
        "max": round(high, 3),
        "handmig": [round(m[index], 2) for m in mine],
        "django": [round(d[index], 2) for d in django],
        "unit": unit,
    }


def table(results) -> str:
    lines = [f"{'case':<22} {'ratio':>7} {'min':>7} {'max':>7}  handmig / django"]
    for name, figure in results.items():
        if "ratio" in figure and "handmig" in figure:
            lines.append(
                f"{name:<22} {figure['ratio']:>7} {figure['min']:>7} "
                f"{figure['max']:>7}  {figure['handmig']} / {figure['django']} "
                f"{figure['unit']}"
            )
        elif "seconds" in figure:
            lines.append(
                f"{name:<22} {figure['seconds']:>7}s  peak {figure['rss_mib']} MiB"
            )
        else:
            lines.append(
                f"{name:<22} {figure['ratio']:>7}  t({figure['sizes'][1]})/"
                f"t({figure['sizes'][0]}); linear would be {figure['linear']}"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="One pair, N = 250.")
    parser.add_argument("--repeat", type=int, default=5, help="Pairs per case.")
    parser.add_argument(
        "--vendors", default="sqlite,postgresql", help="Comma-separated."
    )
    parser.add_argument(
        "--sizes", default="250,1000,2000", help="Synthetic project sizes."
    )
    parser.add_argument(
        "--project",
        choices=sorted(PROJECTS),
        default="wagtail",
        help="The real project: wagtail (cms, filer, Wagtail) or thirdparty.",
    )
    options = parser.parse_args(argv)
    repeat = 1 if options.quick else options.repeat
    sizes = [250] if options.quick else [int(s) for s in options.sizes.split(",")]
    project = PROJECTS[options.project]
    results: dict[str, dict] = {}
    # Django's modules were byte-compiled when pip installed them. handmig's
    # may not be (an editable install, or PYTHONDONTWRITEBYTECODE set), and
    # then every run would compile them again: compile them once, as pip
    # does when it installs a wheel.
    compileall.compile_dir(ROOT / "handmig", quiet=1)
    workdir = Path(tempfile.mkdtemp(prefix="handmig-bench-"))
    try:
        for vendor in options.vendors.split(","):
            real_project(vendor, project, workdir, repeat, results)
        scaling(sizes, workdir, repeat, results)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(results))
    print(
        json.dumps(
            {"handmig_benchmark": results, "project": options.project}, sort_keys=True
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
