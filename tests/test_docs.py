"""The docs stay true and self-contained.

The format reference (docs/project-format.md) names every field of the engine's project model and
every choice it offers, its whole-project examples pass the loader and its invalid ones are refused
with exactly the problems shown; no page sends a reader to the shared folder beside the repository, and
every relative link and anchor resolves. No ffmpeg: this reads text and runs the loader only.
"""

from __future__ import annotations

import ast
import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path

import pydantic
import pytest

from engines.errors import ValidationError
from engines.model import looks, text_style
from engines.model import project as project_module
from engines.model.effects import EFFECTS
from engines.model.project import Keyframes, Project, Track, load_project
from engines.model.transitions import TRANSITIONS

ROOT = Path(__file__).resolve().parents[1]
FORMAT = ROOT / "docs" / "project-format.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
INVALID_MARK = "<!-- invalid -->"


# ---------------------------------------------------------------- the model

def _models_in(annotation: object) -> list[type[pydantic.BaseModel]]:
    """The pydantic models inside a field's annotation (through Optional, tuple, dict, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def document_models() -> list[type[pydantic.BaseModel]]:
    """Project and every model reachable from its fields, each once, in the order found.

    ``Keyframes`` is left out: a document writes it as a number or a ``[t, value]`` list, never by
    its internal field name."""
    found: list[type[pydantic.BaseModel]] = []
    todo: list[type[pydantic.BaseModel]] = [Project]
    while todo:
        model = todo.pop(0)
        if model in found or model is Keyframes:
            continue
        found.append(model)
        for info in model.model_fields.values():
            todo += _models_in(info.annotation)
    return found


def _literal_choices(model: type[pydantic.BaseModel], field: str) -> tuple[str, ...]:
    return typing.get_args(model.model_fields[field].annotation)


def test_the_walk_reaches_every_model_of_the_project_module():
    defined = {obj for obj in vars(project_module).values()
               if isinstance(obj, type) and issubclass(obj, pydantic.BaseModel)
               and obj.__module__ == project_module.__name__ and obj.model_fields}
    # the project's own models, every registered effect, the looks and the text styles
    parts = {obj for module in (looks, text_style) for obj in vars(module).values()
             if isinstance(obj, type) and issubclass(obj, pydantic.BaseModel) and obj.__module__ == module.__name__}
    assert (defined - {Keyframes}) | set(EFFECTS.values()) | parts == set(document_models())


def test_every_model_field_is_in_the_format_reference():
    text = FORMAT.read_text()
    missing = [f"{model.__name__}.{name}" for model in document_models() for name in model.model_fields
               if f"`{name}`" not in text]
    assert not missing, f"fields not documented in {FORMAT.relative_to(ROOT)}: {missing}"


def test_every_choice_is_in_the_format_reference():
    text = FORMAT.read_text()
    choices = [*TRANSITIONS, *_literal_choices(Project, "env"), *_literal_choices(Track, "kind"),
               *_literal_choices(project_module.Clip, "fit"), *EFFECTS]
    assert len(choices) > len(TRANSITIONS)
    missing = [c for c in choices if f"`{c}`" not in text and f'`"{c}"`' not in text]
    assert not missing, f"choices not documented in {FORMAT.relative_to(ROOT)}: {missing}"


# ---------------------------------------------------------------- the examples

@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    line: int       # 1-based line of the opening fence
    invalid: bool   # preceded by INVALID_MARK


def code_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        blocks.append(Block(m.group(1), "\n".join(lines[i + 1:end]), i + 1, before == INVALID_MARK))
        i = end + 1
    return blocks


BLOCKS = code_blocks(FORMAT.read_text())
JSON_BLOCKS = [b for b in BLOCKS if b.lang == "json"]


def _is_project(block: Block) -> bool:
    doc = json.loads(block.body)
    return isinstance(doc, dict) and "schema_version" in doc


PROJECTS = [b for b in JSON_BLOCKS if not b.invalid and _is_project(b)]
INVALID = [b for b in JSON_BLOCKS if b.invalid]


def test_the_reference_has_examples_of_each_sort():
    assert len(PROJECTS) >= 5 and len(INVALID) >= 1
    assert all(_is_project(b) for b in INVALID), "an invalid example must be a whole project"


@pytest.mark.parametrize("block", JSON_BLOCKS, ids=lambda b: f"line{b.line}")
def test_every_json_example_is_json(block: Block):
    json.loads(block.body)


@pytest.mark.parametrize("block", PROJECTS, ids=lambda b: f"line{b.line}")
def test_every_whole_project_example_loads(block: Block):
    project = load_project(block.body)
    assert load_project(project.canonical()) == project  # and survives a round trip


@pytest.mark.parametrize("block", INVALID, ids=lambda b: f"line{b.line}")
def test_every_invalid_example_is_refused_with_the_problems_shown(block: Block):
    with pytest.raises(ValidationError) as refused:
        load_project(block.body)
    following = [b for b in BLOCKS if b.line > block.line]
    if following and following[0].lang == "text":
        assert refused.value.problems == following[0].body.splitlines()


# ---------------------------------------------------------------- self-contained pages

def test_no_page_points_outside_the_repository():
    """README and docs/ never send readers to ../shared, except to say CUTLITE_REAL_MEDIA moves it."""
    found = [f"{page.relative_to(ROOT)}:{n}: {line.strip()}" for page in PAGES
             for n, line in enumerate(page.read_text().splitlines(), 1)
             if "../shared" in line and "CUTLITE_REAL_MEDIA" not in line]
    assert not found, "\n".join(found)


def test_no_module_docstring_points_outside_the_repository():
    found = []
    for path in sorted([*(ROOT / "engines").rglob("*.py"), *(ROOT / "tests").glob("*.py")]):
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if "../shared" in doc:
            found.append(str(path.relative_to(ROOT)))
    assert not found


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for line in page.read_text().splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-"))
    return out


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue  # http:, https:, mailto:
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


# ---------------------------------------------------------------- the reference tables

def _table_rows(page: Path) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in page.read_text().splitlines() if line.startswith("|")]


def test_the_profile_matrix_is_the_code_s():
    from engines.ffmpeg.profiles import PROFILES

    rows = _table_rows(ROOT / "docs" / "profiles.md")
    assert list(next(iter(PROFILES.values())).to_row()) in rows  # the header
    for profile in PROFILES.values():
        assert list(profile.to_row().values()) in rows, f"profiles.md: row of {profile.name} differs from the code"


def _error_classes(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_error_classes(sub))]


def test_every_error_class_is_in_the_error_table():
    from engines.api import _status_of
    from engines.cli import exit_code
    from engines.errors import CutliteError

    rows = _table_rows(ROOT / "docs" / "errors.md")
    classes = _error_classes(CutliteError)
    assert len(classes) >= 24
    for cls in classes:
        row = next((r for r in rows if r[0].lstrip("├└ ") == f"`{cls.__name__}`"), None)
        assert row is not None, f"errors.md: no row for {cls.__name__}"
        err = CutliteError.__new__(cls)
        CutliteError.__init__(err, "x")
        want = [cls.code, str(exit_code(err)), str(_status_of(err))]
        assert row[1:4] == want, f"errors.md: {cls.__name__} is {want}"


def test_the_job_state_table_is_the_code_s():
    from engines.jobs.repository import TRANSITIONS as JOB_TRANSITIONS

    documented = {}
    for row in _table_rows(ROOT / "docs" / "jobs.md"):
        if len(row) == 2 and re.fullmatch(r"`[A-Z]+`", row[0]):
            documented[row[0].strip("`")] = set(re.findall(r"`([A-Z]+)`", row[1]))
    assert documented == {state.value: {s.value for s in targets} for state, targets in JOB_TRANSITIONS.items()}
