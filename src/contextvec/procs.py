"""Whether a process still runs: how temp files and folders named after their writer's PID are known stale."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True for this process and any live one (also another user's); False once the process is gone."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True
