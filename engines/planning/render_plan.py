"""The render plan's schema (what a plan holds: inputs, one filter graph, output arguments, chunks and
meta) and its hash: the plan is the contract between planning and every runner."""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from engines.model.project import Project

from .chunks import Chunk
from .filtergraph import graph_parts

PLAN_VERSION = "cutlite.plan/1"


class PlanInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    index: int
    clip: str
    asset: str
    path: str
    kind: str
    args: list[str]  # input options, before "-i path"


class RenderPlan(BaseModel):
    model_config = ConfigDict(frozen=True)
    version: str = PLAN_VERSION
    project_id: str
    tenant: str
    env: str
    profile: str
    width: int
    height: int
    fps: str
    frames: int
    duration: str  # exact seconds, rational text
    sample_rate: int
    samples: int
    inputs: list[PlanInput]
    filter_graph: str
    files: dict[str, str]  # name -> text written into the work folder (drawtext texts)
    links: dict[str, str]  # absolute file -> its name in the work folder (fonts)
    global_args: list[str]
    output_args: list[str]
    chunks: list[Chunk]
    window: list[int] | None = None  # [a, b) output frames of the full timeline, when not all
    streams: str = "both"
    meta: dict[str, Any]
    plan_hash: str = ""

    GRAPH_FILE: ClassVar[str] = "filter_graph.txt"

    def argv(self, output: str) -> list[str]:
        """ffmpeg arguments (without the binary) to run inside the work folder."""
        args = list(self.global_args)
        for inp in self.inputs:
            args += [*inp.args, "-i", inp.path]
        # "-/filter_complex FILE" reads a graph from a file: no argv length limit, no quoting
        for name in self.graph_files():
            args += ["-/filter_complex", name]
        return args + [*self.output_args, output]

    def graph_files(self) -> dict[str, str]:
        """The filter graph as ffmpeg is given it: one file per independent part (picture, sound),
        each its own ``-filter_complex`` (``filtergraph.graph_parts`` says why)."""
        parts = graph_parts(self.filter_graph)
        if len(parts) == 1:
            return {self.GRAPH_FILE: self.filter_graph}
        stem = self.GRAPH_FILE.removesuffix(".txt")
        return {f"{stem}_{i}.txt": part for i, part in enumerate(parts)}

    def work_files(self) -> dict[str, str]:
        return {**self.files, **self.graph_files()}


def hash_plan(plan: RenderPlan, sources: dict[str, str] | None = None) -> str:
    """sha256 of the plan's canonical JSON. With ``sources`` (asset name -> a machine-independent
    identity, e.g. its asset id), inputs are named by it instead of by their local file and the
    hardware decision's wording is left out: the same job planned on another machine (another
    cache folder for the same object, another probe report) hashes the same."""
    doc = plan.model_dump(exclude={"plan_hash"})
    doc["links"] = portable_links(doc["links"])
    # warnings say something about the output, they are not part of it: damage found in a source
    # after a job was submitted must not make its plan "changed"
    doc["meta"].pop("warnings", None)
    if sources is not None:
        for inp in doc["inputs"]:
            inp["path"] = sources.get(inp["asset"], inp["path"])
        # how the encoder was chosen (requested, reason, probe details) is not the output: the
        # encoder and its arguments, which are, stay in the hash
        doc["meta"].pop("hardware", None)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def portable_links(links: dict[str, str]) -> dict[str, str]:
    """Linked files by file name: where a font lives on this machine does not change the output
    (and server paths stay on the server)."""
    return {k.rsplit("/", 1)[-1]: v for k, v in links.items()}


def source_identities(project: Project) -> dict[str, str]:
    """Asset name -> identity that holds on every machine: the asset id, or the project's path."""
    return {name: ref.asset_id or f"path:{ref.path}" for name, ref in project.assets.items()}
