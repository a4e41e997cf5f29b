"""Checks on argument values, run before any query so that bad input changes nothing: by the SQL
store and by the writes of ``run_writes``, which a store without SQLAlchemy runs too."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from modelplane.enums import ExecutionStatus
from modelplane.errors import InvalidInputError
from modelplane.metadata.json_depth import MAX_JSON_DEPTH, format_json_path, too_deep_path
from modelplane.metadata.reads import parse_kind, parse_status  # parse_kind: for this module's users
from modelplane.metadata.record_base import Record, well_typed
from modelplane.metadata.store import MODEL_CARD_FIELDS
from modelplane.versioning import check_name

__all__ = [
    "check_card",
    "check_dict",
    "check_ids",
    "check_json",
    "check_tags",
    "check_text",
    "merge_tags",
    "parse_finished_status",
    "parse_kind",
    "parse_records",
]

R = TypeVar("R", bound=Record)


def check_text(value: str | None, what: str, limit: int) -> str | None:
    """``value`` if it is None or text of at most ``limit`` characters (the column's size)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(
            f"The {what} must be text, not {type(value).__name__}.", hint="Pass a string."
        )
    if len(value) > limit:
        raise InvalidInputError(
            f"The {what} is {len(value)} characters long.", hint=f"Use at most {limit} characters."
        )
    return value


def check_json(value: Any, what: str) -> Any:
    """``value`` if every dialect can store it as JSON (no NaN, string keys, at most
    ``MAX_JSON_DEPTH`` levels deep) and every client can read it back; else a clear error."""
    if isinstance(value, Mapping) and any(not isinstance(key, str) for key in value):
        raise InvalidInputError(
            f"The {what} has keys that are not strings.", hint="Use string keys."
        )
    too_deep = too_deep_path(value)
    if too_deep is not None:
        raise InvalidInputError(
            f"The {what} nests deeper than {MAX_JSON_DEPTH} levels (the limit for stored JSON) "
            f"at {format_json_path(too_deep)}; nothing was stored.",
            hint="Flatten it (e.g. one key 'eval.auc' instead of nested dicts) or save the deep "
            "part as an artifact.",
        )
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"The {what} cannot be stored as JSON: {exc}.",
            hint="Use dicts with string keys, lists, strings, numbers, booleans and None; "
            "write NaN or infinity as a string or None.",
        ) from None
    return value


def check_dict(value: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"The {what} must be a dict, not {type(value).__name__}.", hint="Pass a dict."
        )
    return dict(check_json(dict(value), what))


def check_tags(tags: Iterable[str], what: str = "tag") -> list[str]:
    """Distinct tags in the order given."""
    if isinstance(tags, str):
        raise InvalidInputError(
            f"Tags must be a list of strings, not the string {tags!r}.", hint=f"Pass [{tags!r}]."
        )
    if not isinstance(tags, (list, tuple, set, frozenset)):
        raise InvalidInputError(
            f"Tags must be a list of strings, not {type(tags).__name__}.",
            hint="Pass a list of strings ([] for none).",
        )
    result: list[str] = []
    for tag in tags:
        check_name(tag, what)
        if tag not in result:
            result.append(tag)
    return result


def merge_tags(current: list[str], add: Iterable[str], remove: Iterable[str]) -> list[str]:
    dropped = set(check_tags(remove))
    return [tag for tag in check_tags([*current, *check_tags(add)]) if tag not in dropped]


def check_card(card: Mapping[str, Any]) -> dict[str, str | None]:
    """The model card fields in ``card``; unknown fields or non-text values are errors."""
    unknown = sorted(set(card) - set(MODEL_CARD_FIELDS))
    if unknown:
        raise InvalidInputError(
            f"Unknown model card field {unknown[0]!r}.",
            hint=f"Use: {', '.join(MODEL_CARD_FIELDS)}.",
        )
    for field, value in card.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(
                f"The model card field {field!r} must be text, not {type(value).__name__}.",
                hint="Pass a string (or None to leave it as it is).",
            )
    return dict(card)


def parse_finished_status(status: object) -> ExecutionStatus:
    parsed = parse_status(status)
    if not parsed.is_finished:
        raise InvalidInputError(
            "A run or step cannot finish in status 'running'.",
            hint="Use completed, failed or cached.",
        )
    return parsed


def check_ids(values: object, what: str) -> list[str]:
    """A list of record ids (text); a lone string is refused rather than read letter by letter."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, set, frozenset)):
        raise InvalidInputError(
            f"The {what} must be a list of ids, not {values!r}.", hint="Pass a list of strings."
        )
    for value in values:
        if not isinstance(value, str):
            raise InvalidInputError(
                f"The {what} must be ids (text), not {value!r}.", hint="Pass a list of strings."
            )
    return list(dict.fromkeys(values))


def parse_records(values: object, kind: type[R], what: str) -> list[R]:
    """A list of ``kind`` records from records or their JSON-like dicts."""
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, (list, tuple)):
        raise InvalidInputError(f"The {what} must be a list, not {values!r}.", hint="Pass a list.")
    parsed = []
    for value in values:
        if isinstance(value, kind) and well_typed(value):  # as validating it would give
            parsed.append(value)
            continue
        from pydantic import ValidationError  # not for a pipeline's records: they are well typed

        try:
            given = dataclasses.asdict(value) if isinstance(value, kind) else value
            parsed.append(kind.model_validate(given))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem.get("loc", ()))
            raise InvalidInputError(
                f"One of the {what} is invalid: {where} {problem.get('msg', 'is invalid')}.",
                hint=f"Pass {kind.__name__} records.",
            ) from None
    return parsed
