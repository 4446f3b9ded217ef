"""Templates: a project document with ``variables``, filled in with values before it is validated.

A template declares ``{"variables": {"NAME": {"type": "text" | "asset" | "color" | "number",
"default": v}}}`` (no default: required). Values replace:

- ``{{ NAME }}`` anywhere inside a text (a text clip's ``text``, a caption cue's ``text`` and its
  words'): the value as plain text;
- an asset written ``{"variable": "NAME"}``: the value is a path, or an asset id (``ast_`` + 20 hex,
  the registry's form), or ``{"path": ...}`` / ``{"asset_id": ...}``;
- a field whose whole value is the string ``"{{ NAME }}"``: a colour or number variable's value, typed.

This is a pure document-to-document step (``apply_template``): the result is an ordinary project
(without ``variables``) that the model validates as any other, so a value can never be more than data.
Values are inserted as they are; what makes them literal on screen is the renderer's (drawtext reads
text from a file with expansion off; captions escape ASS). Every problem is named by its JSON path, all
at once: missing and unknown values, ill-typed values and defaults, undeclared placeholders.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from engines.errors import ValidationError

from .scope import ASSET_ID_RE

VARIABLE_TYPES = ("text", "asset", "color", "number")
VARIABLE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")  # a colour as the project document writes it
PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}\s]*)\s*\}\}")
TEXT_FIELDS = ("text",)  # inside clips and caption words: where {{ NAME }} may stand inside a string


@dataclass(frozen=True)
class FilledTemplate:
    """A template file and the values to fill it with: what a renderer loads as the project they
    make, its relative paths resolved against the template's own folder."""
    path: Path
    values: dict[str, Any] = field(default_factory=dict)


def is_template(doc: Any) -> bool:
    return isinstance(doc, dict) and "variables" in doc


def apply_template(doc: dict[str, Any], values: dict[str, Any] | None = None) -> dict[str, Any]:
    """``doc`` with its variables filled from ``values`` (else their defaults), ``variables`` removed.
    Raises ValidationError naming every problem; ``doc`` itself is left as it was."""
    values = dict(values or {})
    problems: list[str] = []
    declared = _declarations(doc.get("variables"), problems)
    for name in sorted(set(values) - set(declared)):
        hint = difflib.get_close_matches(name, list(declared), n=1)
        problems.append(f"values.{name}: the template declares no variable \"{name}\""
                        + (f" (did you mean \"{hint[0]}\"?)" if hint else ""))
    chosen: dict[str, Any] = {}
    for name, (kind, default, has_default) in declared.items():
        if name in values:
            typed = _typed(kind, values[name], f"values.{name}", problems)
            if typed is not None:
                chosen[name] = typed
        elif has_default:
            chosen[name] = default
        else:
            problems.append(f"variables.{name}: required: no value given (a {kind} variable without a default)")
    out = {k: v for k, v in doc.items() if k != "variables"}
    if isinstance(out.get("assets"), dict):  # a new map: ``doc`` itself is never changed
        out["assets"] = {key: _asset(ref, f"assets.{key}", declared, chosen, problems)
                         if isinstance(ref, dict) and "variable" in ref else ref
                         for key, ref in out["assets"].items()}
    out = _fill(out, "", declared, chosen, problems, in_text=False)  # builds new containers throughout
    if problems:
        raise ValidationError(problems, stage="template")
    return out


PLACEHOLDER_VALUES = {"text": "x", "number": 1, "color": "#000000", "asset": "ast_00000000000000000000"}


def dummy_values(doc: dict[str, Any]) -> dict[str, Any]:
    """A value of the right type for each required variable: enough to check a whole template as the
    project it makes before any real value is known (``POST /templates``)."""
    raw = doc.get("variables")
    if not isinstance(raw, dict):
        return {}
    return {name: PLACEHOLDER_VALUES[spec["type"]] for name, spec in raw.items()
            if isinstance(spec, dict) and "default" not in spec and spec.get("type") in PLACEHOLDER_VALUES}


def _declarations(raw: Any, problems: list[str]) -> dict[str, tuple[str, Any, bool]]:
    """NAME -> (type, default typed, has a default), every bad declaration named."""
    if not isinstance(raw, dict):
        problems.append("variables: must be an object of NAME: {\"type\": ..., \"default\": ...}")
        return {}
    declared: dict[str, tuple[str, Any, bool]] = {}
    for name, spec in raw.items():
        where = f"variables.{name}"
        if not VARIABLE_NAME_RE.fullmatch(str(name)):
            problems.append(f"{where}: a variable name is letters, digits and _ (not starting with a digit)")
            continue
        if not isinstance(spec, dict) or set(spec) - {"type", "default", "description"}:
            problems.append(f"{where}: must be {{\"type\": ..., \"default\": ...}} (optional \"description\")")
            continue
        kind = spec.get("type")
        if kind not in VARIABLE_TYPES:
            problems.append(f"{where}.type: must be one of {', '.join(VARIABLE_TYPES)}")
            continue
        has_default = "default" in spec
        default = _typed(kind, spec["default"], f"{where}.default", problems) if has_default else None
        declared[name] = (kind, default, has_default)
    return declared


def _typed(kind: str, value: Any, where: str, problems: list[str]) -> Any:
    """A value as its variable's type would have it in the document, or None with a problem."""
    if kind == "text":
        if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, float):
            return repr(value)
        problems.append(f"{where}: must be text")
    elif kind == "number":
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise InvalidOperation
            # a float's repr is the shortest decimal that round-trips, and the model reads times from it
            # exactly (0.1 -> 1/10); a float also survives the dict -> JSON path a Decimal would not
            return int(number) if number == number.to_integral_value() and "." not in str(value) else float(number)
        except (InvalidOperation, ValueError):
            problems.append(f"{where}: must be a number, not {value!r}")
    elif kind == "color":
        if isinstance(value, str) and COLOR_RE.fullmatch(value):
            return value
        problems.append(f"{where}: must be a colour \"#RRGGBB\", not {value!r}")
    else:  # asset
        if isinstance(value, str) and value and "\x00" not in value:
            return {"asset_id": value} if ASSET_ID_RE.fullmatch(value) else {"path": value}
        if isinstance(value, dict) and len(value) == 1 and set(value) <= {"path", "asset_id"} \
                and isinstance(next(iter(value.values())), str):
            return dict(value)
        problems.append(f"{where}: must be a file path, an asset id, or {{\"path\"|\"asset_id\": ...}}")
    return None


def _asset(ref: dict[str, Any], where: str, declared: dict[str, tuple[str, Any, bool]], chosen: dict[str, Any],
           problems: list[str]) -> Any:
    name = ref.get("variable")
    if set(ref) != {"variable"} or not isinstance(name, str):
        problems.append(f"{where}: an asset variable is written {{\"variable\": \"NAME\"}} and nothing else")
    elif name not in declared:
        problems.append(f"{where}.variable: \"{name}\" is not declared in variables")
    elif declared[name][0] != "asset":
        problems.append(f"{where}.variable: \"{name}\" is a {declared[name][0]} variable, not an asset")
    elif name in chosen:
        return dict(chosen[name])
    return ref


def _fill(node: Any, path: str, declared: dict[str, tuple[str, Any, bool]], chosen: dict[str, Any],
          problems: list[str], *, in_text: bool) -> Any:
    if isinstance(node, dict):
        return {k: _fill(v, f"{path}.{k}" if path else str(k), declared, chosen, problems,
                         in_text=k in TEXT_FIELDS and path.startswith("tracks"))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, f"{path}[{i}]", declared, chosen, problems, in_text=False) for i, v in enumerate(node)]
    if not isinstance(node, str) or "{{" not in node:
        return node
    names = PLACEHOLDER_RE.findall(node)
    undeclared = [n for n in names if n not in declared]
    for n in undeclared:
        problems.append(f"{path}: {{{{ {n} }}}} is not declared in variables")
    if undeclared or any(n not in chosen for n in names):
        return node
    if in_text:  # every placeholder inside the text, in one pass: a value is never read again as a template
        return PLACEHOLDER_RE.sub(lambda m: _as_text(chosen[m.group(1)]), node)
    whole = PLACEHOLDER_RE.fullmatch(node.strip())
    if whole and declared[whole.group(1)][0] in ("color", "number"):
        return chosen[whole.group(1)]
    if whole:
        problems.append(f"{path}: {{{{ {whole.group(1)} }}}} is a {declared[whole.group(1)][0]} variable; only a "
                        "colour or number variable can stand for a whole field")
    else:
        problems.append(f"{path}: {{{{ NAME }}}} may stand inside texts (text clips, caption cues) or for a whole "
                        "colour or number field, not inside other strings")
    return node


def _as_text(value: Any) -> str:
    if isinstance(value, dict):  # an asset variable inside a text: its path or id
        return str(next(iter(value.values())))
    return str(value)
