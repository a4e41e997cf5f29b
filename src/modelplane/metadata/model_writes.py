"""The writes that tie a pipeline run to a model, written once over a ``run_writes.Transaction``.

A run that names a model gets (or creates) its version once, then links each step's outputs to
it; a cache hit links the outputs it reuses. These are the model's writes a pipeline makes, so,
like ``run_writes``, each is its argument checks (run before any query) and then its work, a
function of one transaction. The SQL store runs them on every dialect, and the local SQLite store
(``metadata.local_store``) runs them without SQLAlchemy. The rows returned are shaped like the
records (``ModelVersionRecord``, ``ArtifactLinkRecord``…); callers make records.

No SQLAlchemy here (an import contract holds it to that).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages
from modelplane.errors import AlreadyExistsError, NotFoundError
from modelplane.metadata import run_writes
from modelplane.metadata.arguments import (
    check_card,
    check_dict,
    check_tags,
    check_text,
    merge_tags,
    parse_kind,
    parse_records,
)
from modelplane.metadata.reads import Row, link_row, looks_like_id
from modelplane.metadata.records import NewArtifactLink, NewArtifactVersion
from modelplane.metadata.run_writes import Transaction, Work, first
from modelplane.metadata.store_types import MODEL_CARD_FIELDS
from modelplane.versioning import check_name, check_version_name, parse_version_spec

__all__ = [
    "complete_step_run",
    "create_model_version",
    "create_step_run_with_links",
    "ensure_model_version",
    "insert_version",
    "link_artifact",
    "version_named",
]


def version_named(tx: Transaction, model_id: str, name: str) -> Row | None:
    """The version of the model named ``name`` (or, if it looks like one, with id ``name``)."""
    row = first(tx, "model_version.named", {"model_id": model_id, "name": name})
    if row is None and looks_like_id(name):
        row = first(tx, "model_version.with_id", {"model_id": model_id, "name": name})
    return row


def insert_version(
    tx: Transaction,
    model_row: Row,
    *,
    name: str | None,
    description: str | None,
    tags: list[str],
    metadata: dict[str, Any],
    created_by: str | None = None,
) -> Row:
    """A new version numbered max-ever + 1 (DESIGN §3 rule 1).

    The UPDATE takes the model row's write lock, so concurrent creators of one model queue up
    here; the unique (model_id, number) key is the backstop that makes a lost race retry.
    """
    if name is not None:
        taken = version_named(tx, model_row["id"], name)
        if taken is not None and taken["name"] == name:
            raise AlreadyExistsError(
                f"Model {model_row['name']!r} already has a version named {name!r} "
                f"(number {taken['number']}).",
                hint=f"Pick another name, or pass version={name!r} to use that version.",
            )
    if tx.update_returning:  # SQLite ≥ 3.35 and PostgreSQL: one statement, not two
        number = tx.rows("model.bump_returning", {"b_id": model_row["id"]})[0]["last_version_number"]
    else:
        tx.execute("model.bump", {"b_id": model_row["id"]})
        number = tx.rows("model.last_number", {"id": model_row["id"]})[0]["last_version_number"]
    number, now = int(number), tx.now()
    values = {
        "id": run_writes.new_id(),
        "model_id": model_row["id"],
        "number": number,
        "name": name if name is not None else str(number),
        "description": description,
        "tags": tags,
        "stage": ModelStages.NONE.value,
        "meta": metadata,
        "created": now,
        "updated": now,
        "created_by": created_by,
    }
    tx.execute("model_version.insert", values)
    row = {key: value for key, value in values.items() if key != "meta"}
    return {**row, "metadata": metadata, "model_name": model_row["name"]}


def create_model_version(
    model: str,
    *,
    name: str | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
    metadata: dict[str, Any] | None = None,
    created_by: str | None = None,
) -> Work:
    """The next version of an existing model."""
    if name is not None:
        check_version_name(name)
    tag_list, meta = check_tags(tags), check_dict(metadata, "version metadata")
    creator = check_text(created_by, "version creator", 255)

    def work(tx: Transaction) -> Row:
        model_row = tx.model(model)
        return insert_version(
            tx, model_row, name=name, description=description, tags=tag_list, metadata=meta,
            created_by=creator,
        )  # fmt: skip

    return work


def ensure_model_version(
    model: str,
    version: Any,
    *,
    model_card: dict[str, Any] | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
    created_by: str | None = None,
) -> Work:
    """The version a run works for, and whether this call created it: a stage, number or
    ``latest`` must exist; a name is found or created; nothing creates the next version. The
    model is created on first use, and the run's ``Model(tags=…)`` are added to it."""
    spec = parse_version_spec(version)
    creator = check_text(created_by, "version creator", 255)
    card = dict(model_card or {})
    model_tags = check_tags(card.pop("tags", None) or ())
    fields = check_card(card)
    tag_list = check_tags(tags)

    def work(tx: Transaction) -> tuple[Row, bool]:
        if spec.kind in ("number", "stage", "latest"):
            # These name a version that must already exist; never create anything for them.
            return tx.version(model, version), False
        model_row = first(tx, "model.by_name", {"key": model}) if isinstance(model, str) else None
        if model_row is None and looks_like_id(model):
            model_row = first(tx, "model.by_id", {"key": model})
        now = tx.now()
        if model_row is None:
            check_name(model)
            model_row = {"id": run_writes.new_id(), "name": model, "tags": model_tags}
            tx.execute(
                "model.insert",
                {**dict.fromkeys(MODEL_CARD_FIELDS), **model_row, **fields, "created": now, "updated": now},
            )
        elif set(model_tags) - set(model_row["tags"] or ()):
            # The run's Model(tags=…) tag the model too: added, never removed.
            merged = merge_tags(model_row["tags"] or [], model_tags, ())
            tx.execute("model.tag", {"b_id": model_row["id"], "tags": merged, "updated": now})
        name = None
        if spec.kind == "name":
            assert spec.name is not None
            existing = version_named(tx, model_row["id"], spec.name)
            if existing is not None:
                return existing, False
            name = check_version_name(spec.name)
        created = insert_version(
            tx, model_row, name=name, description=description, tags=tag_list, metadata={},
            created_by=creator,
        )  # fmt: skip
        return created, True

    return work


def link_artifact(
    model_version_id: str,
    artifact_version_id: str,
    *,
    name: str,
    kind: ArtifactType | str,
    overwrite: bool = False,
) -> Work:
    """Link an artifact version to a model version under ``name``; linking the same artifact
    version under the same name again keeps one link, and ``overwrite`` replaces every link of
    that name."""
    check_name(name, "artifact link")
    parsed = parse_kind(kind).value

    def work(tx: Transaction) -> Row:
        # Locking the version makes concurrent overwrites of one link name take turns, so
        # exactly one link of that name survives.
        if not tx.rows("model_version.locked", {"key": model_version_id}):
            tx.missing("model version", model_version_id)
        artifact_version = first(tx, "artifact_version.by_id", {"id": artifact_version_id})
        if artifact_version is None:
            raise NotFoundError(
                f"Artifact version {artifact_version_id!r} does not exist; nothing was linked.",
                hint="Save the artifact first, or pass the id of a stored artifact version.",
            )
        same = {"mv_id": model_version_id, "name": name}
        if overwrite:
            tx.execute("link.delete_same_name", same)
        else:
            existing = first(tx, "link.same", {**same, "av_id": artifact_version_id, "kind": parsed})
            if existing is not None:
                return link_row(existing)
        link = {
            "id": run_writes.new_id(),
            "model_version_id": model_version_id,
            "name": name,
            "kind": parsed,
            "created": tx.now(),
        }
        tx.execute("link.insert", {**link, "artifact_version_id": artifact_version_id})
        return {**link, "artifact_version": artifact_version}

    return work


def _link_all(links: object) -> list[Work]:
    """The links asked for (``NewArtifactLink`` records or their dicts), checked, to be made."""
    return [
        link_artifact(
            link.model_version_id,
            link.artifact_version_id,
            name=link.name,
            kind=link.kind,
            overwrite=link.overwrite,
        )
        for link in parse_records(links, NewArtifactLink, "links")
    ]


def complete_step_run(
    step_run_id: str,
    *,
    artifacts: object = (),
    links: object = (),
    logs: str | None = None,
) -> Work:
    """A step's outputs, their links to model versions and its completion, as one write.
    ``artifacts`` and ``links`` are ``NewArtifactVersion`` and ``NewArtifactLink`` records (or
    their dicts)."""
    new = parse_records(artifacts, NewArtifactVersion, "step outputs")
    saves = [
        (
            item.output,
            run_writes.create_artifact_version(
                # dict(), not model_dump(): no serializer to build for a pipeline's one call
                **{key: value for key, value in dict(item).items() if key != "output"},
                producer_step_run_id=step_run_id,
            ),
        )
        for item in new
    ]
    makes = _link_all(links)
    finish = run_writes.finish_step_run(
        step_run_id,
        status=ExecutionStatus.COMPLETED,
        outputs={item.output: item.id for item in new},
        logs=logs,
        outputs_created=True,
    )

    def work(tx: Transaction) -> tuple[Row, dict[str, Row]]:
        saved = {output: save(tx) for output, save in saves}
        for make in makes:
            make(tx)
        return finish(tx), saved

    return work


def create_step_run_with_links(links: object, **arguments: Any) -> Work:
    """``run_writes.create_step_run`` and links of what it reuses (a cache hit's outputs)."""
    create, makes = run_writes.create_step_run(**arguments), _link_all(links)

    def work(tx: Transaction) -> Row:
        row = create(tx)
        for make in makes:
            make(tx)
        return row  # type: ignore[no-any-return]

    return work

