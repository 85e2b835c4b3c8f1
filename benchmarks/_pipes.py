"""Unix manners for the benchmark scripts: a reader that stops early (``| head``) ends a script quietly.

Python ignores SIGPIPE, so the next write to a closed pipe raises :class:`BrokenPipeError` and, unless it is
caught, prints a traceback; the interpreter's last flush of stdout at exit would raise it again. This is the
pattern of the Python documentation's note on SIGPIPE, with exit status 1 as ``werkmatch`` (click) uses.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn


def run(main: Callable[[], object]) -> NoReturn:
    """Call a script's ``main`` and exit with its status (an int it returns, else 0; 1 on a closed pipe)."""
    try:
        result = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the exit's flush writes to /dev/null instead of failing again
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
