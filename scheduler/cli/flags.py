"""Which flags a command line actually gave: a flag a run would not read is refused, not silently ignored."""

import argparse
from collections.abc import Iterable, Sequence


def given(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The destinations of the options `argv` sets, however spelled (`--seeds 3`, `--seeds=3`, an
    abbreviation): argv parsed again with every default suppressed, so only what it names is there."""
    defaults = [(action, action.default) for action in parser._actions]
    try:
        for action, _ in defaults:
            action.default = argparse.SUPPRESS
        namespace, _ = parser.parse_known_args(list(argv))
    finally:
        for action, default in defaults:
            action.default = default
    return set(vars(namespace))


def refuse_unread(parser: argparse.ArgumentParser, argv: Sequence[str], unread: Iterable[str], why: str) -> None:
    """parser.error (exit status 2) naming the options of `unread` (destinations) that `argv` gave, and `why`
    the run would not read them."""
    named = given(parser, argv) & set(unread)
    if named:
        flags = [a.option_strings[0] for a in parser._actions if a.dest in named]
        parser.error(f"{', '.join(flags)}: {why}")
