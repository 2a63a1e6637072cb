import sys

from handmig.cli import main

sys.exit(main())
