"""Run the ``acd`` command as a real process, the way a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_acd(
    *argv: str,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    text: bool = True,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[Any]:
    """``python -m acd ARGV``; no ``ACD_*`` variable of the caller's shell leaks in, ``env``
    adds to the environment, and the package is importable from any ``cwd``."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("ACD_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), clean.get("PYTHONPATH")]))
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "acd", *argv],
        capture_output=True,
        text=text,
        cwd=cwd,
        env=clean,
        timeout=timeout,
        check=False,
    )
