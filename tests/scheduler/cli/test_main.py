"""One command line: `python -m scheduler COMMAND`, the `taskpilot` script, and the older spellings."""

import subprocess
import sys

import pytest

from scheduler.__main__ import COMMANDS, main
from scheduler.settings import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_its_own_help(command):
    done = run("-m", "scheduler", command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m scheduler {command}")


@pytest.mark.parametrize("module", ["scheduler.evaluate", "scheduler.plan"])
def test_the_older_spellings_still_work(module):
    done = run("-m", module, "--help")
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_no_command_or_an_unknown_one_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().err
    assert main(["evaluat"]) == 2
    assert "unknown command 'evaluat'" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "evaluate" in capsys.readouterr().out


def test_the_taskpilot_script_is_the_same_entry_point():
    """pyproject.toml names scheduler.__main__:main; `make venv` installs it (pip install -e .)."""
    text = (ROOT / "pyproject.toml").read_text()
    assert 'taskpilot = "scheduler.__main__:main"' in text
    script = ROOT / ".venv" / "bin" / "taskpilot"
    if not script.exists():
        pytest.skip("the venv has no taskpilot script: run `make venv` (pip install -e .)")
    done = subprocess.run([str(script), "plan", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "scheduler plan" in done.stdout, done.stderr
