"""`python -m scheduler.evaluate`: the older spelling of `python -m scheduler evaluate`, kept working."""

import sys

from scheduler.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
