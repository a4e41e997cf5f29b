"""Promotion gates: rules a version's metadata must meet to enter a stage. Pure; no I/O.

A model keeps its gates per single-holder stage (``enums.SINGLE_HOLDER_STAGES``), for example::

    {"production": ["accuracy >= current", "accuracy >= 0.9", "dataset_hash exists"]}

A rule is ``KEY OP VALUE``, ``KEY exists`` or ``signature compatible``. ``KEY`` names a metadata entry of the version
(nested dictionaries are reached with dots: ``eval.f1``), or the last, min or max of a metric
series logged with ``log_metrics`` (``val_loss.min``, ``auc.last``). ``OP`` is one of ``>= > <= < == !=``.
``VALUE`` is a number, a quoted or bare string, or ``current``: the same entry of the version that
holds the stage now (a rule against ``current`` passes when nobody holds it).
``signature compatible`` refuses a version whose model's input signature (``modelplane.signatures``)
would break the requests clients send the holder's model: a column it needs that the holder's
clients do not send, or a column of a kind it cannot take. The store checks
every gate of the target stage in the transaction that moves the version, so no client — SDK, CLI
or dashboard — can promote past them, and a metric logged a moment earlier is seen.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from modelplane.enums import SINGLE_HOLDER_STAGES
from modelplane.errors import InvalidInputError
from modelplane.signatures import SIGNATURE_KEY, breaks

__all__ = ["Gate", "check_gates", "failed_gates", "flatten", "parse_gate"]

MAX_GATES_PER_STAGE = 50
_RULE = re.compile(
    r"\s*(?P<key>[A-Za-z_][\w.\-]{0,199})\s*"
    r"(?:(?P<exists>exists)|(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>.{1,200}?))\s*"
)
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_SYNTAX_HINT = (
    "Write KEY OP VALUE, KEY exists or signature compatible, e.g. 'accuracy >= current', "
    "'accuracy >= 0.9', 'framework == sklearn', 'dataset_hash exists'."
)
SIGNATURE_RULE = "signature compatible"


@dataclasses.dataclass(frozen=True)
class Gate:
    key: str
    op: str  # one of >= > <= < == != or "exists", or "compatible" (signature compatible)
    value: float | str | None  # None for "exists"; "current" compares with the stage's holder

    @property
    def against_current(self) -> bool:
        return self.value == "current"

    @property
    def reads_signature(self) -> bool:
        return self.op == "compatible"

    def __str__(self) -> str:
        if self.reads_signature:
            return SIGNATURE_RULE
        if self.op == "exists":
            return f"{self.key} exists"
        value = self.value
        shown = _show(value) if isinstance(value, float) or value == "current" else repr(value)
        return f"{self.key} {self.op} {shown}"


def parse_gate(text: str) -> Gate:
    """The rule ``text`` as a ``Gate``; ``InvalidInputError`` naming the rule when malformed."""
    if not isinstance(text, str):
        raise InvalidInputError(f"A gate must be text, not {type(text).__name__}.", hint=_SYNTAX_HINT)
    if " ".join(text.split()) == SIGNATURE_RULE:
        return Gate(SIGNATURE_KEY, "compatible", None)
    match = _RULE.fullmatch(text)
    if match is None:
        raise InvalidInputError(f"The gate {text!r} cannot be read.", hint=_SYNTAX_HINT)
    key = match.group("key")
    if match.group("exists"):
        return Gate(key, "exists", None)
    raw = match.group("value").strip()
    if raw[:1] in ("<", ">", "=", "!"):
        raise InvalidInputError(f"The gate {text!r} cannot be read.", hint=_SYNTAX_HINT)
    value: float | str
    if _NUMBER.fullmatch(raw):
        value = float(raw)
        if not math.isfinite(value):
            raise InvalidInputError(f"The gate {text!r} compares with {raw}.", hint="Use a finite number.")
    elif len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        value = raw[1:-1]
    else:
        value = raw
    op = match.group("op")
    if isinstance(value, str) and value != "current" and op not in ("==", "!="):
        raise InvalidInputError(
            f"The gate {text!r} orders by the text {value!r}.",
            hint="Compare numbers with >= > <= <, or text with == and !=; 'current' means the "
            "stage holder's value.",
        )
    return Gate(key, op, value)


def check_gates(gates: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Validate a model's gates; returns them with each rule in its canonical spelling."""
    if gates is None:
        return {}
    if not isinstance(gates, Mapping):
        raise InvalidInputError(
            f"Gates must map a stage to a list of rules, not {type(gates).__name__}.",
            hint='For example {"production": ["accuracy >= current"]}.',
        )
    allowed = {stage.value for stage in SINGLE_HOLDER_STAGES}
    checked: dict[str, list[str]] = {}
    for stage, rules in gates.items():
        if stage not in allowed:
            raise InvalidInputError(
                f"Gates cannot be set for stage {stage!r}.",
                hint=f"Set them for {', '.join(sorted(allowed))}.",
            )
        if isinstance(rules, str) or not isinstance(rules, (list, tuple)):
            raise InvalidInputError(
                f"The gates of stage {stage!r} must be a list of rules.", hint=_SYNTAX_HINT
            )
        if len(rules) > MAX_GATES_PER_STAGE:
            raise InvalidInputError(
                f"Stage {stage!r} has {len(rules)} gates.",
                hint=f"Use at most {MAX_GATES_PER_STAGE}.",
            )
        canonical = [str(parse_gate(rule)) for rule in rules]
        if canonical:
            checked[stage] = list(dict.fromkeys(canonical))  # a repeated rule counts once
    return checked


def flatten(metadata: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"eval": {"f1": 0.8}}`` as ``{"eval.f1": 0.8}`` (and the nested dict under ``eval``)."""
    flat: dict[str, Any] = {}
    for key, value in metadata.items():
        flat[f"{prefix}{key}"] = value
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
    return flat


def failed_gates(
    rules: list[str],
    candidate: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    *,
    current_label: str = "the current holder",
) -> list[str]:
    """Why the version with ``candidate`` metadata may not enter a stage guarded by ``rules``
    (empty when it may); ``current`` is the metadata of the stage's holder, if any."""
    mine, theirs = flatten(candidate), flatten(current) if current is not None else None
    failures = []
    for gate in map(parse_gate, rules):
        problem = _check(gate, mine, theirs, current_label)
        if problem is not None:
            failures.append(f"{gate}: {problem}")
    return failures


def _check(gate: Gate, mine: dict[str, Any], theirs: dict[str, Any] | None, label: str) -> str | None:
    if gate.reads_signature:
        return _check_signature(mine.get(SIGNATURE_KEY), (theirs or {}).get(SIGNATURE_KEY), label)
    if gate.key not in mine or mine[gate.key] is None:
        return f"this version has no metadata '{gate.key}'"
    if gate.op == "exists":
        return None
    value = mine[gate.key]
    target: Any = gate.value
    source = ""
    if gate.against_current:
        if theirs is None:
            return None  # nothing holds the stage: nothing to beat
        if gate.key not in theirs or theirs[gate.key] is None:
            return None  # the holder never recorded it: nothing to beat
        target, source = theirs[gate.key], f" ({label})"
    if gate.op in ("==", "!="):
        equal = _same(value, target)
        if equal == (gate.op == "=="):
            return None
        return f"it is {_show(value)}, {'not ' if gate.op == '==' else ''}{_show(target)}{source}"
    if not _is_number(value):
        return f"'{gate.key}' is {_show(value)}, not a number"
    if not _is_number(target):
        return f"{label} has '{gate.key}' = {_show(target)}, not a number"
    if _compare(float(value), gate.op, float(target)):
        return None
    return f"it is {_show(value)}, not {gate.op} {_show(target)}{source}"


def _check_signature(mine: Any, theirs: Any, label: str) -> str | None:
    if not isinstance(mine, Mapping):
        return (
            "this version's model has no input signature (one is recorded when a model is "
            "fitted on a DataFrame, or declared with ArtifactConfig(input_signature=...))"
        )
    if not isinstance(theirs, Mapping):
        return None  # nothing holds the stage, or its model has no signature: no clients to break
    problems = breaks(mine, theirs)
    return f"{'; '.join(problems)} ({label})" if problems else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _same(value: Any, target: Any) -> bool:
    if _is_number(value) and _is_number(target):
        return float(value) == float(target)
    return str(value) == str(target)


def _compare(left: float, op: str, right: float) -> bool:
    return {
        ">=": left >= right,
        ">": left > right,
        "<=": left <= right,
        "<": left < right,
    }[op]


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value) if not isinstance(value, str) or value == "current" else repr(value)
