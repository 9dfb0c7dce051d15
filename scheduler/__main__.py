"""`python -m scheduler COMMAND ...`, also installed as the `taskpilot` script (pyproject.toml).

One command line with subcommands, as `celery` or `prefect` have: each subcommand is a module of
scheduler/cli with a `main(argv) -> exit status`, and `COMMAND --help` is its own help.
"""

import sys
from collections.abc import Callable

USAGE = """usage: taskpilot COMMAND [ARGS...]   (or: python -m scheduler COMMAND [ARGS...])

commands:
  evaluate   compare placement policies (or deferral strategies, or GPU fractions) in the simulator
  plan       plan when jobs run against a carbon series, from CSV files
  data       check the shipped data and fill the parsed-data cache
  run        run a workflow of tasks here, until it ends (--watch: a progress bar)
  status     show a workflow the database holds, and its tasks
  train-dqn  pre-train the dqn placement policy in the simulator and write its weights file
  dispatch   train the learned dispatcher (which ready job runs next) and compare it with fifo, priority, edf, sjf

'taskpilot COMMAND --help' describes a command's options."""


def _evaluate(argv: list[str]) -> int:
    from scheduler.cli import evaluate

    return evaluate.main(argv)


def _plan(argv: list[str]) -> int:
    from scheduler.cli import plan

    return plan.main(argv)


def _data(argv: list[str]) -> int:
    from scheduler.cli import data

    return data.main(argv)


def _run(argv: list[str]) -> int:
    from scheduler.cli import run

    return run.main(argv)


def _status(argv: list[str]) -> int:
    from scheduler.cli import status

    return status.main(argv)


def _train_dqn(argv: list[str]) -> int:
    from scheduler.cli import train_dqn

    return train_dqn.main(argv)


def _dispatch(argv: list[str]) -> int:
    from scheduler.cli import dispatch

    return dispatch.main(argv)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "evaluate": _evaluate,
    "plan": _plan,
    "data": _data,
    "run": _run,
    "status": _status,
    "train-dqn": _train_dqn,
    "dispatch": _dispatch,
}
"""Each command imports its module when it runs, so `taskpilot plan` does not load the simulator."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"{USAGE}\n\nerror: unknown command {argv[0]!r}; known: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return command(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
