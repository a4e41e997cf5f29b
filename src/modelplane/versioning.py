"""Pure rules of the Model Control Plane: names, version specs and stage moves. No I/O."""

from __future__ import annotations

import dataclasses
from typing import Literal

from modelplane.enums import SINGLE_HOLDER_STAGES, ModelStages
from modelplane.errors import InvalidInputError

__all__ = [
    "VersionSpec",
    "check_name",
    "check_target_stage",
    "check_version_name",
    "parse_stage",
    "parse_version_spec",
]

MAX_NAME_LENGTH = 255
_STAGE_NAMES = {s.value for s in ModelStages}


@dataclasses.dataclass(frozen=True)
class VersionSpec:
    """How a user named a version: a new one, a number, a stage, or a name."""

    kind: Literal["new", "number", "stage", "latest", "name"]
    number: int | None = None
    stage: ModelStages | None = None
    name: str | None = None

    def describe(self) -> str:
        if self.kind == "number":
            return f"version {self.number}"
        if self.kind == "stage":
            return f"the version in stage '{self.stage}'"
        if self.kind == "latest":
            return "the latest version"
        if self.kind == "name":
            return f"version named '{self.name}'"
        return "a new version"


def check_name(name: object, what: str = "model") -> str:
    """A valid name for a model, artifact or pipeline, or a clear error."""
    if not isinstance(name, str):
        raise InvalidInputError(
            f"The {what} name must be a string, not {type(name).__name__}.",
            hint=f"Pass the {what} name as text.",
        )
    if not name.strip():
        raise InvalidInputError(
            f"The {what} name is empty.", hint=f"Give the {what} a name with at least one visible character."
        )
    if name != name.strip():
        raise InvalidInputError(
            f"The {what} name {name!r} starts or ends with spaces.", hint="Remove the surrounding spaces."
        )
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"The {what} name is {len(name)} characters long.",
            hint=f"Use at most {MAX_NAME_LENGTH} characters.",
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidInputError(
            f"The {what} name {name!r} contains control characters.",
            hint="Use printable characters only.",
        )
    return name


def check_version_name(name: str) -> str:
    """A name a user may give a version: not a number (numbers are assigned) and not a stage."""
    check_name(name, "model version")
    if name.isdigit():
        raise InvalidInputError(
            f"The version name {name!r} is a number; numbers are assigned by modelplane.",
            hint="Leave the name out to get the number as the name, or use a name with a letter in it.",
        )
    if name.lower() in _STAGE_NAMES:
        raise InvalidInputError(
            f"The version name {name!r} is a stage name and would be ambiguous.",
            hint=f"Pick a name other than {', '.join(sorted(_STAGE_NAMES))}.",
        )
    return name


def parse_stage(stage: object) -> ModelStages:
    if isinstance(stage, ModelStages):
        return stage
    if isinstance(stage, str) and stage.lower() in _STAGE_NAMES:
        return ModelStages(stage.lower())
    raise InvalidInputError(
        f"Unknown stage {stage!r}.",
        hint=f"Use one of: {', '.join(s.value for s in ModelStages if s is not ModelStages.LATEST)}.",
    )


def check_target_stage(stage: object) -> ModelStages:
    """A stage a version can be moved to (``latest`` is virtual and cannot be set)."""
    parsed = parse_stage(stage)
    if parsed is ModelStages.LATEST:
        raise InvalidInputError(
            "A version cannot be moved to stage 'latest': it always means the highest version number.",
            hint="Use staging, production, archived or none.",
        )
    return parsed


def parse_version_spec(spec: object) -> VersionSpec:
    """DESIGN §3 rule 3: None → new; int/digits → number; stage → holder; other text → name."""
    if spec is None:
        return VersionSpec("new")
    if isinstance(spec, bool):
        raise InvalidInputError(f"{spec!r} is not a version.", hint="Use a number, a name or a stage.")
    if isinstance(spec, int):
        if spec < 1:
            raise InvalidInputError(f"Version numbers start at 1; got {spec}.", hint="Use a number ≥ 1.")
        return VersionSpec("number", number=spec)
    if isinstance(spec, ModelStages):
        if spec is ModelStages.LATEST:
            return VersionSpec("latest")
        if spec not in SINGLE_HOLDER_STAGES:
            raise InvalidInputError(
                f"Stage '{spec}' can hold many versions, so it does not name one.",
                hint="Use a version number or name, or the stage staging, production or latest.",
            )
        return VersionSpec("stage", stage=spec)
    if isinstance(spec, str):
        text = spec.strip()
        if text.isdigit():
            return parse_version_spec(int(text))
        if text.lower() in _STAGE_NAMES:
            return parse_version_spec(ModelStages(text.lower()))
        check_name(spec, "model version")
        return VersionSpec("name", name=spec)
    raise InvalidInputError(
        f"{spec!r} ({type(spec).__name__}) is not a version.", hint="Use a number, a name or a stage."
    )

