"""``python manage.py handmig ...``: the handmig CLI inside a Django project."""

from django.core.management.base import BaseCommand, CommandError

from handmig import cli
from handmig.errors import HandmigError


class Command(BaseCommand):
    help = "Turn Django migrations into step-by-step SQL runbooks."
    # The core opens its own connection checks; the system checks add nothing.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        cli.add_commands(parser)

    def handle(self, *args, **options):
        namespace = _Options(options)
        # Django's own -v/--verbosity decides how much progress to show.
        progress = cli.Progress(self.stderr._out, options.get("verbosity", 1))
        try:
            text = cli.execute(namespace, progress)
            progress.done()
            cli.deliver(namespace, text, self.stdout._out)
        except HandmigError as error:
            progress.done()
            raise CommandError(str(error), returncode=cli.exit_code(error)) from None


class _Options:
    """Attribute access to Django's options dict, as argparse gives it."""

    def __init__(self, options):
        self.__dict__.update(options)
