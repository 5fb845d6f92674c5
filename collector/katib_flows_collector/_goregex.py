"""Katib's ``metricsFormat`` filters: Go (RE2) regular expressions, compiled with Python's ``re``.

Called by :class:`~katib_flows_collector.TextParser` when it is built, and by the main package's spec
validation so a bad filter is rejected before any trial runs. Katib's filters are Go syntax. The two
dialects agree on everything Katib's examples use (``([\\w|-]+)\\s*=\\s*((-?\\d+)(\\.\\d+)?)``,
``{metricName: ([\\w|-]+), metricValue: ((-?\\d+)(\\.\\d+)?)}`` with its literal braces,
``([\\w-]+)=(Genotype.*)``) except that ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII-only in Go, hence
``re.ASCII``. Go-only syntax is rewritten: ``(?<name>...)`` named groups, ``\\z``, ``\\Q...\\E`` literals,
``\\x{...}`` code points and ``[[:alpha:]]`` ASCII classes. What is left (``\\p{Greek}``, ``(?U)``, a flag
group that is not at the start) fails to compile with a message naming the filter.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

from katib_flows_collector._errors import FilterError

__all__ = ["DEFAULT_FILTER", "compile_filters", "compile_go_regex"]

DEFAULT_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
"""Katib's filter when ``metricsFormat`` is empty: ``name=value``, spaces allowed around ``=``."""

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")
_HEX_BRACED = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")
_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")


def compile_go_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Go regular expression; :class:`FilterError` naming it if it does not compile."""
    try:
        translated = _translate(pattern)
        # Python warns (FutureWarning) about "[[" and "--" inside a class; both are literals, as in Go.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return re.compile(translated, re.ASCII)
    except re.error as exc:
        raise FilterError(pattern, f"does not compile: {exc}") from exc


def compile_filters(filters: Sequence[str] | None) -> list[re.Pattern[str]]:
    """Compile Katib filters (the default one if ``filters`` is empty or ``None``).

    Each must have at least two capturing groups: group 1 is the metric name, group 2 its value.
    """
    compiled = []
    for pattern in filters or (DEFAULT_FILTER,):
        regex = compile_go_regex(pattern)
        if regex.groups < 2:
            raise FilterError(
                pattern,
                f"needs two capturing groups (name, then value), found {regex.groups}; "
                "write it like '(name-regex)=(value-regex)'",
            )
        compiled.append(regex)
    return compiled


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "Q":  # \Q...\E: everything up to \E (or the end) is literal
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(_escape_literal(literal, in_class))
                i = n if end < 0 else end + 2
                continue
            braced = _HEX_BRACED.match(pattern, i)
            if braced:
                out.append(f"\\U{int(braced.group(1), 16):08x}")
                i = braced.end()
                continue
            out.append("\\Z" if nxt == "z" and not in_class else char + nxt)
            i += 2
            continue
        if in_class:
            posix = _POSIX_CLASS.match(pattern, i)
            if posix:
                negated, name = posix.groups()
                if negated or name not in _POSIX_CLASSES:
                    raise re.error(f"unsupported POSIX class [:{negated}{name}:]")
                out.append(_POSIX_CLASSES[name])
                i = posix.end()
                continue
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            # A "]" right after "[" or "[^" is a literal member, not the end of the class.
            for prefix in ("^", "]"):
                if i < n and pattern[i] == prefix:
                    out.append(pattern[i])
                    i += 1
            continue
        elif _NAMED_GROUP.match(pattern, i):
            out.append("(?P<")
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _escape_literal(literal: str, in_class: bool) -> str:
    if in_class:
        return "".join("\\" + c if c in "\\]^-[" else c for c in literal)
    return re.escape(literal)
