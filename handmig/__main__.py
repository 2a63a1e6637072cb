import sys

from handmig.cli import run

sys.exit(run())
