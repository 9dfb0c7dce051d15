"""`python -m scheduler.plan`: the older spelling of `python -m scheduler plan`, kept working."""

import sys

from scheduler.cli.plan import main

if __name__ == "__main__":
    sys.exit(main())
