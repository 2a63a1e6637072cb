"""The exceptions handmig raises for problems the user can fix.

Each message is one line that says what is wrong and what to do about it.
The CLI maps the classes to exit codes; nothing here prints or exits.
"""


class HandmigError(Exception):
    """Base class: a problem with the input that the user can fix."""


class ConfigurationError(HandmigError):
    """Django settings cannot be found or loaded."""


class LookupFailed(HandmigError):
    """An app or migration named on the command line does not exist."""


class IrreversibleMigration(HandmigError):
    """A backwards runbook was asked for a migration that cannot be reversed."""

    def __init__(self, message, operations=()):
        super().__init__(message)
        # (index, description) of every irreversible operation, for callers
        # that want more than the message.
        self.operations = list(operations)


class DatabaseUnavailable(HandmigError):
    """The database to generate for cannot be reached."""


class TemplateFailed(HandmigError):
    """A runbook template is missing or cannot be rendered."""


class OutputFailed(HandmigError):
    """The runbook cannot be written where the user asked."""


class ShadowNeeded(HandmigError):
    """The SQL depends on objects the plan itself creates: a shadow is needed."""


class ShadowFailed(HandmigError):
    """The shadow database could not be made, or the plan failed on it."""


class ShadowLeftBehind(ShadowFailed):
    """A scratch database or directory handmig made could not be removed."""

    def __init__(self, message, name):
        super().__init__(message)
        # The database or directory left behind, for callers that clean up.
        self.name = name


class ScratchLeftovers(UserWarning):
    """Scratch databases or directories of other runs are still there."""


class OfflineNeedsDatabase(HandmigError):
    """Offline generation reached something only the database can answer."""


class MigrationBroken(LookupFailed):
    """A migration fails while its SQL is generated: migrate would fail too."""
