"""handmig: Django migrations as step-by-step SQL runbooks."""

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "build_plan",
    "build_record",
    "build_rerun",
    "build_runbook",
    "migration_status",
    "render",
]


def build_runbook(*args, **kwargs):
    """Build the runbook model for one migration (see handmig.runbook)."""
    # Imported lazily so that "handmig" in INSTALLED_APPS, and the CLI before
    # django.setup(), can import the package without loading Django models.
    from handmig.runbook import build_runbook as build

    return build(*args, **kwargs)


def build_plan(*args, **kwargs):
    """Build the runbook model for a migrate plan (see handmig.runbook)."""
    from handmig.runbook import build_plan as build

    return build(*args, **kwargs)


def build_record(*args, **kwargs):
    """Build the bookkeeping-only runbook for one migration (see handmig.runbook)."""
    from handmig.runbook import build_record as build

    return build(*args, **kwargs)


def build_rerun(*args, **kwargs):
    """Build the recipe that runs an applied migration again (see handmig.rerun)."""
    from handmig.rerun import build_rerun as build

    return build(*args, **kwargs)


# Not "status": that name belongs to the submodule handmig.status.
def migration_status(*args, **kwargs):
    """Return applied, pending and out-of-step migrations (see handmig.status)."""
    from handmig.status import status as read_status

    return read_status(*args, **kwargs)


# Imported here, not lazily: importing the submodule handmig.render later
# would otherwise replace this name with the module. It needs no Django.
from handmig.render import render  # noqa: E402
