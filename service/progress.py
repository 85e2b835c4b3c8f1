"""Progress for long work: a tqdm bar on a terminal, periodic plain lines on stderr otherwise (CI, cron,
logs)."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from tqdm import tqdm


class Progress:
    """Count units of work; `update(n)` is cheap. Use as a context manager."""

    def __init__(self, *, total: int | None, description: str, every_seconds: float = 5.0) -> None:
        self.total = total
        self.description = description
        self.every_seconds = every_seconds
        self.done = 0
        self._bar: tqdm | None = None
        self._started = 0.0
        self._last_line = 0.0

    def __enter__(self) -> Progress:
        self._started = self._last_line = time.monotonic()
        if sys.stderr.isatty():
            self._bar = tqdm(total=self.total, desc=self.description, unit="", file=sys.stderr)
        return self

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last_line >= self.every_seconds:
            self._last_line = now
            self._line()

    def _line(self) -> None:
        elapsed = time.monotonic() - self._started
        of = f"/{self.total}" if self.total is not None else ""
        sys.stderr.write(f"{self.description}: {self.done}{of} ({elapsed:.1f} s)\n")
        sys.stderr.flush()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.close()
        else:
            self._line()
