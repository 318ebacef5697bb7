"""The trainer protocol's events, written one JSON object per line to a private copy of stdout.

Libraries print to stdout now and then; the runner moves file descriptor 1 to stderr at start
so that nothing but events reaches the parent's JSON-lines reader.
"""

from __future__ import annotations

import json
import math
import os
import sys
from datetime import datetime, timezone
from typing import IO, Any

_stream: IO[str] | None = None


def now() -> str:
    """The time as JavaScript's Date.toISOString writes it: UTC, milliseconds, Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def claim_stdout() -> None:
    """Keeps the real stdout for events and sends everything else written to fd 1 to stderr."""
    global _stream
    if _stream is not None:
        return
    sys.stdout.flush()
    events_fd = os.dup(1)
    os.dup2(2, 1)
    _stream = os.fdopen(events_fd, "w", buffering=1, encoding="utf-8")
    sys.stdout = sys.stderr


def numeric_metrics(values: dict[str, Any]) -> dict[str, float]:
    """The numbers of a log dict (TRL logs strings and lists too); NaN and infinities kept as such
    are not JSON, so they become null-free: the caller decides what a non-finite loss means."""
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(float(value)):
            out[key] = float(value)
    return out


def emit(event: dict[str, Any]) -> None:
    stream = _stream or sys.stdout
    stream.write(json.dumps(event, allow_nan=False, separators=(",", ":")) + "\n")
    stream.flush()


def log(message: str, level: str = "info") -> None:
    emit({"type": "log", "time": now(), "level": level, "message": message})
