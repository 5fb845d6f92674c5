"""Timestamp parsing shared by the text, JSON lines and push parsers.

Go's ``time.Parse(time.RFC3339Nano, ...)`` is what Katib uses; Python 3.10's ``datetime.fromisoformat``
rejects ``Z`` and nanoseconds, so the format is parsed here by hand. Every result is UTC.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

__all__ = ["from_unix_seconds", "parse_rfc3339"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def parse_rfc3339(text: str) -> datetime | None:
    """Parse an RFC 3339 timestamp (fractional seconds optional, up to nanoseconds); ``None`` if it is not one.

    Digits beyond microseconds are truncated: Python's datetime has no finer resolution.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    if match.group(8):
        offset = timedelta(0)
    else:
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        if match.group(9) == "-":
            offset = -offset
    try:
        local = datetime(year, month, day, hour, minute, second, micros, tzinfo=timezone(offset))
    except ValueError:  # day 31 of a 30-day month, hour 24, an offset of a day or more
        return None
    return local.astimezone(timezone.utc)


def from_unix_seconds(seconds: float) -> datetime:
    """Convert Unix seconds to an aware UTC datetime; ``ValueError`` if it is not a representable time."""
    if not math.isfinite(seconds):
        raise ValueError(f"timestamp must be a finite number of Unix seconds, got {seconds!r}")
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"timestamp {seconds!r} is out of range for Unix seconds") from exc
