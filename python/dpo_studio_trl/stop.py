"""How a run is asked to stop: SIGINT/SIGTERM, or the stop file the supervisor writes.

The supervisor (`dpo-studio train`) starts the ranks in a process group of their own, so a
Ctrl-C in its terminal reaches only it; it then writes the stop file, which rank 0 reads
after each step and every rank agrees on (one all-reduce), so all ranks save the same step.
If the supervisor itself is killed, the ranks quit too: nobody would read their events, and
its lock on the output folder is gone, so a new run could start writing beside them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType


class StopRequest:
    def __init__(self, stop_file: str, supervisor_pid: int | None) -> None:
        self.stop_file = stop_file
        self.signal_name: str | None = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        if supervisor_pid is not None:
            threading.Thread(target=self._watch, args=(supervisor_pid,), daemon=True, name="dpo-studio-supervisor-watch").start()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.signal_name is not None:
            # A second signal: quit now, as the tfjs engine does.
            os._exit(128 + signum)
        self.signal_name = signal.Signals(signum).name

    @staticmethod
    def _watch(pid: int) -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(137)
            except PermissionError:
                pass

    def requested(self) -> bool:
        return self.signal_name is not None or os.path.exists(self.stop_file)
