"""Running `werkmatch` subcommands as child processes and measuring them (wall time, peak RSS of the tree)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

__all__ = ["Measured", "run_measured", "werkmatch_command"]


@dataclass(frozen=True, slots=True)
class Measured:
    """Outcome of one measured child process."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_bytes: int

    def last_line(self) -> str:
        """The last non-empty line of stdout (where `werkmatch` commands print ids)."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""


def werkmatch_command() -> list[str]:
    """How to start `werkmatch` from this interpreter: the venv's script, else ``python -m scripts.cli``."""
    script = Path(sys.executable).with_name("werkmatch")
    if script.exists():
        return [str(script)]
    found = shutil.which("werkmatch")
    return [found] if found else [sys.executable, "-m", "scripts.cli"]


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def run_measured(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    interval: float = 0.05,
    stdout_path: Path | None = None,
) -> Measured:
    """Run ``args``; sample the summed RSS of the process and all its descendants every ``interval`` s.

    Peak RSS of the *tree* matters because the batch runs worker processes. Sampling can miss a spike shorter
    than the interval; at 50 ms that is far below the time any index takes to build. With ``stdout_path`` the
    child's stdout goes to that file (large exports) and ``Measured.stdout`` is empty.
    """
    full_env = {**os.environ, **(env or {})}
    out_handle = open(stdout_path, "wb") if stdout_path else None  # noqa: SIM115 - closed below
    started = time.perf_counter()
    process = subprocess.Popen(
        list(args),
        env=full_env,
        cwd=cwd,
        stdout=out_handle or subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: a timeout ends the workers too
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            peak = max(peak, _tree_rss(root))
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    finally:
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        if out_handle is not None:
            out_handle.close()
    return Measured(
        returncode=process.returncode,
        stdout=(stdout or b"").decode("utf-8", "replace"),
        stderr=(stderr or b"").decode("utf-8", "replace"),
        seconds=seconds,
        peak_rss_bytes=peak,
    )
