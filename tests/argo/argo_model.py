"""What Argo v4.1.2's controller does to text and status, for the conformance harness (``argo_harness.py``).

Each function names the Argo source it follows (read from github.com/argoproj/argo-workflows at tag
v4.1.2, not copied): tag replacement in a template's JSON (``util/template``: a value goes in through
Go's ``strconv.Quote``, and a result that is not JSON is an error), the tags validation refuses
(``workflow/validate``), ``when`` as govaluate reads it (``workflow/controller/steps.go``), retry backoff
(``operator.go`` ``processNodeRetries``) and the size of the stored Workflow (``workflow/packer``).

Part of a fake: it models the subset of Argo the compiled Workflows use and refuses what it does not model.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from typing import Any

#: ``workflow/packer``: past this the node status is gzipped; past it gzipped the Workflow errors.
MAX_WORKFLOW_SIZE = 1024 * 1024
#: Linux's MAX_ARG_STRLEN: one argument or ``NAME=value`` environment string longer fails exec (E2BIG).
MAX_EXEC_STRING = 128 * 1024
#: ``workflow/common``'s GlobalVarValidWorkflowVariablePrefix: tags with these prefixes must resolve.
VALID_PREFIXES = ("item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks.")
_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


class HarnessError(Exception):
    """The Workflow asks for something Argo would refuse (or the harness does not know)."""


class Requeued(HarnessError):
    """Argo would requeue the Workflow forever (a reference it cannot resolve yet, and never will)."""


def go_quote(value: str) -> str:
    """``strconv.Quote(value)`` without its quotes: how Argo escapes a value it writes into JSON text."""
    out = []
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char in "\a\b\f\n\r\t\v":
            out.append(
                {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}[char]
            )
        elif char == " " or (char.isprintable() and code >= 0x20):
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def replace(text: str, values: dict[str, str], *, strict: tuple[str, ...] = ()) -> str:
    """``template.Replace``/``ReplaceStrictAny`` over JSON ``text``: known tags become their quoted values,
    unknown ones stay unless they start with a ``strict`` prefix (then Argo requeues the Workflow)."""
    _json(text, "cannot do template replacements with invalid JSON")

    def one(match: re.Match[str]) -> str:
        tag = match.group(1)
        key = tag.strip()
        if key.startswith("="):
            raise HarnessError(f"expression tags are not used by the compiler: {match.group(0)}")
        if key in values:
            return go_quote(values[key])
        if any(key == p or key.startswith(p + ".") for p in strict):
            raise Requeued(f"failed to resolve {{{{{tag}}}}}: Argo requeues the Workflow forever")
        return match.group(0)

    result = _TAG.sub(one, text)
    _json(result, "cannot finish template replacement because the result was invalid JSON")
    return result


def substitute(node: Any, values: dict[str, str], *, strict: tuple[str, ...] = ()) -> Any:
    """``replace`` over a JSON-able value (a template, a step, a string), as Argo marshals it first."""
    return json.loads(replace(json.dumps(node), values, strict=strict))


def _json(text: str, message: str) -> None:
    try:
        json.loads(text)
    except ValueError as exc:
        raise HarnessError(f"{message}: {exc}") from exc


def unresolved(node: Any, known: set[str]) -> list[str]:
    """``resolveAllVariables``: the tags with a workflow-variable prefix that ``known`` does not resolve."""
    tags = (m.group(1).strip() for m in _TAG.finditer(json.dumps(node)))
    return sorted({t for t in tags if t.startswith(VALID_PREFIXES) and t not in known})


def check_label_value(name: str, value: str) -> None:
    """``updateWorkflowMetadata``: a label value must be a valid Kubernetes label value."""
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise HarnessError(f"invalid label value {value!r} for label {name!r}")


# -- when (govaluate, with Argo turning bare words into strings) --------------------------------------------

_WHEN_TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^']*'|\"[^\"]*\")|(?P<number>[0-9][0-9.]*)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)"
    r"|(?P<op>==|!=|&&|\|\||\(|\))|(?P<other>\S+))"
)


def evaluate_when(expression: str) -> bool:
    """``shouldExecute``: govaluate parses the substituted ``when``; a bare word is a string to Argo.

    Only ``==``/``!=`` between operands, ``&&``/``||`` and parentheses are modelled; anything else (an
    empty operand, two words in a row, a hyphen, which govaluate reads as minus) raises, as the parse or
    evaluation error errors the node in Argo.
    """
    tokens: list[tuple[str, Any]] = []
    for match in _WHEN_TOKEN.finditer(expression):
        kind = match.lastgroup
        text = match.group(kind) if kind else ""
        if kind == "other":
            raise HarnessError(f"Invalid 'when' expression {expression!r}: token {text!r}")
        if kind == "string":
            tokens.append(("value", text[1:-1]))
        elif kind == "number":
            tokens.append(("value", float(text)))
        elif kind == "word":
            tokens.append(("value", {"true": True, "false": False}.get(text, text)))
        elif kind == "op":
            tokens.append(("op", text))
    parser = _When(tokens, expression)
    result = parser.disjunction()
    if parser.position != len(tokens):
        raise HarnessError(f"Invalid 'when' expression {expression!r}")
    if not isinstance(result, bool):
        raise HarnessError(f"Expected boolean evaluation for {expression!r}. Got {result!r}")
    return result


class _When:
    def __init__(self, tokens: list[tuple[str, Any]], expression: str) -> None:
        self.tokens, self.expression, self.position = tokens, expression, 0

    def _peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, Any]:
        token = self._peek()
        if token is None:
            raise HarnessError(f"Invalid 'when' expression {self.expression!r}: unexpected end")
        self.position += 1
        return token

    def disjunction(self) -> Any:
        left = self.conjunction()
        while self._peek() == ("op", "||"):
            self._take()
            right = self.conjunction()
            left = self._bool(left) or self._bool(right)
        return left

    def conjunction(self) -> Any:
        left = self.comparison()
        while self._peek() == ("op", "&&"):
            self._take()
            right = self.comparison()
            left = self._bool(left) and self._bool(right)
        return left

    def comparison(self) -> Any:
        left = self.operand()
        token = self._peek()
        if token in (("op", "=="), ("op", "!=")):
            self._take()
            right = self.operand()
            same = type(left) is type(right) and left == right
            return same if token == ("op", "==") else not same
        return left

    def operand(self) -> Any:
        kind, value = self._take()
        if kind == "value":
            return value
        if value == "(":
            inner = self.disjunction()
            if self._take() != ("op", ")"):
                raise HarnessError(f"Invalid 'when' expression {self.expression!r}: unbalanced parentheses")
            return inner
        raise HarnessError(f"Invalid 'when' expression {self.expression!r}: unexpected {value!r}")

    def _bool(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise HarnessError(f"Invalid 'when' expression {self.expression!r}: {value!r} is not a boolean")
        return value


# -- retries ---------------------------------------------------------------------------------------------------

_DURATION = re.compile(r"^(\d+)(s|m|h)?$")


def seconds(duration: str) -> float:
    """``ParseStringToDuration`` for the forms the compiler writes: ``10``, ``10s``, ``5m``, ``1h``."""
    match = _DURATION.match(duration.strip())
    if match is None:
        raise HarnessError(f"duration {duration!r} is not one the harness reads")
    return int(match.group(1)) * {"s": 1, None: 1, "m": 60, "h": 3600}[match.group(2)]


def backoff_wait(backoff: dict[str, Any], attempts: int) -> float:
    """``processNodeRetries``: duration × factor^(attempts-1), at most ``cap``."""
    wait = seconds(backoff["duration"])
    factor = int(backoff.get("factor") or 0)
    if factor > 0:
        wait *= factor ** (attempts - 1)
    if backoff.get("cap"):
        wait = min(wait, seconds(backoff["cap"]))
    return wait


def retry_allowed(expression: str | None, exit_code: int) -> bool:
    """The retry ``expression`` forms the compiler writes: ``lastRetry.exitCode != 'N'`` (or ``==``)."""
    if not expression:
        return True
    match = re.fullmatch(r"\s*lastRetry\.exitCode\s*(==|!=)\s*'(-?\d+)'\s*", expression)
    if match is None:
        raise HarnessError(f"retryStrategy.expression {expression!r} is not one the harness evaluates")
    same = str(exit_code) == match.group(2)
    return same if match.group(1) == "==" else not same


# -- the stored Workflow's size ----------------------------------------------------------------------------------


def node_id(workflow: str, name: str) -> str:
    """``Workflow.NodeID``: the Workflow's name for its root node, else name-<fnv32a(node name)>."""
    if name == workflow:
        return workflow
    h = 0x811C9DC5
    for byte in name.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{workflow}-{h}"


def stored_size(document: dict[str, Any]) -> tuple[int, bool]:
    """``packer.CompressWorkflowIfNeeded``: (bytes stored, whether nodes were gzipped); raises past the limit."""
    size = len(json.dumps(document, separators=(",", ":")))
    if size <= MAX_WORKFLOW_SIZE:
        return size, False
    status = dict(document["status"])
    nodes = json.dumps(status.pop("nodes"), separators=(",", ":")).encode()
    status["compressedNodes"] = base64.b64encode(gzip.compress(nodes)).decode()
    compressed = len(json.dumps({**document, "status": status}, separators=(",", ":")))
    if compressed > MAX_WORKFLOW_SIZE:
        raise HarnessError(
            f"workflow is longer than maximum allowed size. compressed size {compressed} > maxSize "
            f"{MAX_WORKFLOW_SIZE} ({size} bytes before compression); the controller needs node status offload"
        )
    return compressed, True
