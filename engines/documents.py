"""Reading a JSON document from outside: the one loader behind every command, route and importer.

A document that an attacker or a broken client sends is refused before it can cost much, each
refusal naming where it is (a JSON path) and never as a traceback:

- over ``CUTLITE_MAX_DOCUMENT_BYTES``: ``DocumentTooLarge``, decided from the size before parsing;
- nested deeper than ``CUTLITE_MAX_DOCUMENT_DEPTH``: measured by a scan of the text outside its
  strings before the parser (which recurses) ever sees it;
- not UTF-8, not JSON (a text that stops mid-way), ``NaN``/``Infinity``;
- a key given twice in one object (``tenant: given twice``): two parsers that keep different
  copies (a gateway the first, the engine the last) are a known way around a tenant check;
- a NUL character or an unpaired surrogate in any string or key: neither can be stored (Postgres
  JSON refuses ``\\u0000``) nor written out as UTF-8.

Everything but the size is a ``ValidationError`` whose problems start with the JSON path.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from pathlib import Path
from typing import Any, Callable

from .errors import DocumentTooLarge, ValidationError
from .settings import max_document_bytes, max_document_depth

_BOM = b"\xef\xbb\xbf"
# a JSON string, escapes included (unrolled so that a long string is one fast match)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH = {"[": 1, "{": 1, "]": -1, "}": -1}
# escapes that may decode to a NUL or half of a surrogate pair (cheap to look for; checked exactly after)
_SUSPECT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Constant:
    """What ``NaN``/``Infinity`` parse to, so that the walk can name where they were."""

    def __init__(self, name: str) -> None:
        self.name = name


def read_json_file(path: str | Path, *, stage: str = "validate", parse_float: Callable[[str], Any] | None = None,
                   what: str | None = None) -> Any:
    """The document in ``path``; its size is checked before a byte of it is read."""
    p = Path(path)
    label = what or str(p)
    try:
        size = p.stat().st_size
        _check_size(size, label, stage)
        raw = p.read_bytes()
    except OSError as exc:
        raise ValidationError([f"$: cannot read {label}: {exc.strerror}"], stage=stage) from None
    return read_json(raw, stage=stage, parse_float=parse_float, what=label)


def read_json(data: bytes | str, *, stage: str = "validate", parse_float: Callable[[str], Any] | None = None,
              what: str = "the document") -> Any:
    """Parse ``data`` within the limits above; ``parse_float`` as in ``json.loads`` (the model
    reads numbers as ``Decimal`` so that 0.1 stays exactly 1/10)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    _check_size(len(raw), what, stage)
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError([f"$: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"],
                              stage=stage) from None
    limit = max_document_depth()
    depth = nesting_depth(text, limit)
    if depth > limit:
        raise ValidationError([f"$: nested {depth} levels deep; at most {limit} (CUTLITE_MAX_DOCUMENT_DEPTH)"],
                              stage=stage)
    duplicates: dict[int, list[str]] = {}
    constants: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            seen: set[str] = set()
            duplicates[id(obj)] = sorted({k for k, _ in items if k in seen or seen.add(k)})
        return obj

    def constant(name: str) -> _Constant:
        constants.append(name)
        return _Constant(name)

    try:
        doc = json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_float=parse_float)
    except json.JSONDecodeError as exc:
        raise ValidationError([f"$: not valid JSON: {exc}"], stage=stage) from None
    if duplicates or constants or _SUSPECT.search(text):
        problems = _problems(doc, duplicates)
        if problems:
            raise ValidationError(problems, stage=stage)
    return doc


def nesting_depth(text: str, stop: int | None = None) -> int:
    """The deepest nesting of arrays and objects in ``text``, brackets inside strings not counted.
    A text with no more than ``stop`` opening brackets cannot be deeper, and is not scanned."""
    if stop is not None and text.count("[") + text.count("{") <= stop:
        return 0
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_DEPTH.__getitem__, brackets)), default=0)


def _check_size(size: int, what: str, stage: str) -> None:
    limit = max_document_bytes()
    if size > limit:
        raise DocumentTooLarge(f"{what} is {size} bytes; at most {limit} are read (CUTLITE_MAX_DOCUMENT_BYTES)",
                               stage=stage, size=size, limit=limit,
                               hint="a genuine document this large needs CUTLITE_MAX_DOCUMENT_BYTES raised")


def _problems(doc: Any, duplicates: dict[int, list[str]]) -> list[str]:
    """Every duplicate key, NaN/Infinity, NUL and unpaired surrogate, by JSON path (document order)."""
    problems: list[str] = []
    stack: list[tuple[Any, str]] = [(doc, "$")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key in duplicates.get(id(node), ()):
                problems.append(f"{_child(path, key)}: given twice")
            for key in node:
                if _bad_text(key):
                    problems.append(f"{_child(path, key)}: the key {_bad_text(key)}")
            stack.extend(reversed([(v, _child(path, k)) for k, v in node.items()]))
        elif isinstance(node, list):
            stack.extend(reversed([(v, f"{path}[{i}]") for i, v in enumerate(node)]))
        elif isinstance(node, _Constant):
            problems.append(f"{path}: {node.name} is not a JSON number")
        elif isinstance(node, str) and _bad_text(node):
            problems.append(f"{path}: {_bad_text(node)}")
    return problems


def _bad_text(s: str) -> str | None:
    if "\x00" in s:
        return "contains a NUL character (\\u0000)"
    if _SURROGATE.search(s):
        return "contains half of a surrogate pair (not a character)"
    return None


def _child(path: str, key: str) -> str:
    name = key if _PLAIN_KEY.fullmatch(key) else f"[{json.dumps(key)}]"
    if path == "$":
        return name if not name.startswith("[") else "$" + name
    return path + name if name.startswith("[") else f"{path}.{name}"
