"""Apply the first N migrations of migrate's whole plan, as migrate applies them.

    python -m tests.migrate_prefix N

Run with DJANGO_SETTINGS_MODULE set: the state a hand-run script must leave
when it stops after its Nth migration. No post_migrate is sent.
"""

import sys

import django


def main(argv):
    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    count = int(argv[0])
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    # migrate makes django_migrations before its first migration; when that
    # one fails, the table is there all the same.
    executor.recorder.ensure_schema()
    executor.migrate(None, plan=plan[:count])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
