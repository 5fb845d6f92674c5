"""Reassembles lines from the arbitrary chunks a runner reads while a trial runs.

A runner tailing a metrics file or a pod log gets bytes in chunks that may end mid-line, even mid UTF-8
character. :class:`LineSplitter` buffers the incomplete tail and hands out complete lines, which the
line-oriented parsers (:class:`~katib_flows_collector.TextParser`, ``JsonLinesParser``, ``PushParser``)
then ``feed`` on. At the end of the stream, :meth:`LineSplitter.flush` returns a final line that had no
newline.
"""

from __future__ import annotations

__all__ = ["LineSplitter"]


class LineSplitter:
    """Turn chunks (all ``bytes`` or all ``str``) into complete lines without their ``\\n`` or ``\\r\\n``.

    Bytes are decoded as UTF-8 line by line, after splitting, so a character cut across two chunks is
    decoded whole; undecodable bytes become U+FFFD rather than failing the trial's collection.
    """

    def __init__(self) -> None:
        self._pending: bytes | str | None = None

    def push(self, chunk: bytes | str) -> list[str]:
        """Add a chunk and return the lines it completed (possibly none)."""
        if isinstance(chunk, bytes):
            if isinstance(self._pending, str):
                raise TypeError("LineSplitter got bytes after str; feed one type per stream")
            byte_parts = ((self._pending or b"") + chunk).split(b"\n")
            self._pending = byte_parts.pop()
            return [_text(part) for part in byte_parts]
        if isinstance(self._pending, bytes):
            raise TypeError("LineSplitter got str after bytes; feed one type per stream")
        text_parts = ((self._pending or "") + chunk).split("\n")
        self._pending = text_parts.pop()
        return [_text(part) for part in text_parts]

    def flush(self) -> list[str]:
        """End of stream: return the last line if it had no newline, and reset."""
        pending, self._pending = self._pending, None
        return [_text(pending)] if pending else []


def _text(part: bytes | str) -> str:
    line = part.decode("utf-8", errors="replace") if isinstance(part, bytes) else part
    return line[:-1] if line.endswith("\r") else line
