"""Write a synthetic Django project of N migrations over many apps.

The history looks like a grown project's: models created with foreign keys
to earlier apps, then fields added, altered, renamed and removed, indexes
and check constraints added, and data steps (RunPython) in between. Every
app's migrations form a chain; a migration that points a foreign key at
another app depends on the migration that created the target model.

    python benchmarks/synthetic.py 250 /tmp/synthetic250
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

# One operation kind per migration, in this rotation (CreateModel more often:
# the other kinds need models to work on).
KINDS = (
    "create",
    "add",
    "alter",
    "create",
    "index",
    "rename",
    "constraint",
    "add",
    "python",
    "remove",
)


@dataclass
class Model:
    name: str
    fields: list[str] = field(default_factory=list)  # plain integer fields
    indexed: set[str] = field(default_factory=set)
    created_by: str = ""  # migration name


@dataclass
class App:
    label: str
    models: list[Model] = field(default_factory=list)
    migrations: list[str] = field(default_factory=list)


def generate(count: int, root: Path, seed: int = 1) -> None:
    """Write the project: settings, one package per app, ``count`` migrations."""
    rng = random.Random(seed)
    apps = [App(f"app{i:03d}") for i in range(max(4, count // 25))]
    counters: dict[str, int] = {}
    for number in range(count):
        app = apps[number % len(apps)]
        kind = KINDS[(number // len(apps)) % len(KINDS)]
        if kind != "create" and not app.models:
            kind = "create"
        name = f"{len(app.migrations) + 1:04d}_{kind}"
        body, depends = _operation(kind, app, apps, rng, counters, name)
        dependencies = [(app.label, app.migrations[-1])] if app.migrations else []
        dependencies += [d for d in depends if d not in dependencies]
        _write_migration(root, app.label, name, dependencies, body)
        app.migrations.append(name)
    _write_project(root, apps)


def _operation(kind, app, apps, rng, counters, name):
    """Return (operations source, extra dependencies) for one migration."""
    depends = []
    if kind == "create":
        model = Model(f"M{len(app.models):03d}", created_by=name)
        fk_lines = ""
        earlier = [a for a in apps if a is not app and a.models]
        if earlier:
            target_app = rng.choice(earlier)
            target = rng.choice(target_app.models)
            depends.append((target_app.label, target.created_by))
            fk_lines = (
                f"                ('ref', models.ForeignKey(on_delete="
                f"django.db.models.deletion.CASCADE, to='{target_app.label}."
                f"{target.name.lower()}')),\n"
            )
        model.fields = ["f0"]
        app.models.append(model)
        return (
            f"        migrations.CreateModel(\n"
            f"            name='{model.name}',\n"
            f"            fields=[\n"
            f"                ('id', models.BigAutoField(auto_created=True, "
            f"primary_key=True, serialize=False)),\n"
            f"                ('f0', models.IntegerField(default=0)),\n"
            f"{fk_lines}"
            f"            ],\n"
            f"        ),\n"
        ), depends
    model = rng.choice(app.models)
    lower = model.name.lower()
    if kind == "add" or not model.fields:
        return _add_field(model, counters), depends
    column = rng.choice(model.fields)
    if kind == "alter":
        return (
            f"        migrations.AlterField(model_name='{lower}', name='{column}', "
            f"field=models.BigIntegerField(default=0)),\n"
        ), depends
    # Indexes and check constraints name their fields: those stay put.
    if kind in ("rename", "remove") and column in model.indexed:
        return _add_field(model, counters), depends
    if kind == "rename":
        new = f"{column}r"
        model.fields[model.fields.index(column)] = new
        model.indexed = {new if i == column else i for i in model.indexed}
        return (
            f"        migrations.RenameField(model_name='{lower}', "
            f"old_name='{column}', new_name='{new}'),\n"
        ), depends
    if kind == "remove" and column not in model.indexed and len(model.fields) > 1:
        model.fields.remove(column)
        return (
            f"        migrations.RemoveField(model_name='{lower}', name='{column}'),\n"
        ), depends
    if kind == "index" and column not in model.indexed:
        model.indexed.add(column)
        index = f"{app.label}_{lower}_{column}_idx"[:30]
        return (
            f"        migrations.AddIndex(model_name='{lower}', index=models.Index("
            f"fields=['{column}'], name='{index}')),\n"
        ), depends
    if kind == "constraint":
        model.indexed.add(column)
        check = f"{app.label}_{lower}_{name[:4]}_chk"
        return (
            f"        migrations.AddConstraint(model_name='{lower}', "
            f"constraint=models.CheckConstraint(**{{_CHECK: models.Q("
            f"{column}__gte=0)}}, name='{check}')),\n"
        ), depends
    return (
        "        migrations.RunPython(forward, migrations.RunPython.noop),\n"
    ), depends


def _add_field(model, counters) -> str:
    """Add a new integer field to ``model``; return the operation's source."""
    counters[model.name] = counters.get(model.name, 0) + 1
    column = f"a{counters[model.name]}"
    model.fields.append(column)
    return (
        f"        migrations.AddField(model_name='{model.name.lower()}', "
        f"name='{column}', field=models.IntegerField(default=0)),\n"
    )


def _write_migration(root, label, name, dependencies, body):
    folder = root / label / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").touch()
    (root / label / "__init__.py").touch()
    deps = "".join(f"        ({a!r}, {n!r}),\n" for a, n in dependencies)
    (folder / f"{name}.py").write_text(
        "import inspect\n\n"
        "import django.db.models.deletion\n"
        "from django.db import migrations, models\n\n"
        "# CheckConstraint's argument was renamed in Django 5.1.\n"
        "_CHECK = 'condition' if 'condition' in inspect.signature("
        "models.CheckConstraint).parameters else 'check'\n\n\n"
        "def forward(apps, schema_editor):\n"
        "    pass\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [\n{deps}    ]\n\n"
        f"    operations = [\n{body}    ]\n"
    )


def _write_project(root, apps):
    (root / "synthetic_settings.py").write_text(
        '"""Settings of a synthetic project: the database comes from the\n'
        'environment (HANDMIG_BENCH_ENGINE, _NAME, _HOST, _PORT, _USER)."""\n\n'
        "import os\n\n"
        "SECRET_KEY = 'synthetic'\n"
        "USE_TZ = True\n"
        "DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'\n"
        "INSTALLED_APPS = ['handmig'] + [\n"
        + "".join(f"    {a.label!r},\n" for a in apps)
        + "]\n"
        "DATABASES = {'default': {\n"
        "    'ENGINE': os.environ.get('HANDMIG_BENCH_ENGINE', "
        "'django.db.backends.sqlite3'),\n"
        "    'NAME': os.environ.get('HANDMIG_BENCH_NAME', 'synthetic.sqlite3'),\n"
        "    'HOST': os.environ.get('HANDMIG_BENCH_HOST', ''),\n"
        "    'PORT': os.environ.get('HANDMIG_BENCH_PORT', ''),\n"
        "    'USER': os.environ.get('HANDMIG_BENCH_USER', ''),\n"
        "}}\n"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="How many migrations.")
    parser.add_argument("directory", type=Path, help="Where to write the project.")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    if options.directory.exists() and any(options.directory.iterdir()):
        print(f"{options.directory} is not empty", file=sys.stderr)
        return 2
    options.directory.mkdir(parents=True, exist_ok=True)
    generate(options.count, options.directory, options.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
