"""Migrate the configured database to all but the last N migrations of the
whole plan, and print the app label and name of the last one.

    DJANGO_SETTINGS_MODULE=... python benchmarks/at.py 10
"""

import sys

import django
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def main(argv=None) -> int:
    pending = int((argv or sys.argv[1:])[0])
    django.setup()
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    keep = [migration for migration, _ in plan[: len(plan) - pending]]
    # Applying each kept migration's node in plan order brings exactly them.
    for migration in keep:
        executor.loader.build_graph()
        target = (migration.app_label, migration.name)
        if target not in executor.loader.applied_migrations:
            executor.migrate([target])
    last = plan[-1][0]
    print(last.app_label, last.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
