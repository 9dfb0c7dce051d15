"""What the figures were measured on: cores, memory, CPU model, Python and numpy versions, commit."""

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np


def describe_machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "memory_total_mb": _memory_total_mb(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def describe_code(root: Path) -> str | None:
    """The checked-out commit (read only: `git rev-parse HEAD`); None outside a git tree."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def _memory_total_mb() -> float | None:
    """MemTotal from /proc/meminfo, in MB (10^6 bytes); None where there is no /proc."""
    for line in _read_lines("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) * 1024 / 1e6, 1)
    return None


def _cpu_model() -> str:
    """The first 'model name' in /proc/cpuinfo (x86); ARM kernels may only give 'Hardware' or nothing."""
    fields: dict[str, str] = {}
    for line in _read_lines("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields.get("model name") or fields.get("Hardware") or platform.processor() or "unknown"


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []
