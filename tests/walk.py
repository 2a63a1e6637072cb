"""The migration history of the sample project, as steps to walk one by one."""

from django.db.migrations.loader import MigrationLoader


def history():
    """Return the graph and every migration in the order migrate applies them."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    order = []
    for leaf in sorted(graph.leaf_nodes()):
        for key in graph.forwards_plan(leaf):
            if key not in order:
                order.append(key)
    return loader, order


def steps():
    """Return (direction, app, name) for the whole history up, then down to zero."""
    _, order = history()
    up = [("forward", app, name) for app, name in order]
    down = [("backward", app, name) for app, name in reversed(order)]
    return up + down


def backward_target(app, name):
    """Return the migrate target that unapplies exactly (app, name)."""
    loader, _ = history()
    parents = [
        parent.key[1]
        for parent in loader.graph.node_map[(app, name)].parents
        if parent.key[0] == app
    ]
    return parents[0] if parents else "zero"
