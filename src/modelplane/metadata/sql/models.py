"""Models and model versions in the SQL store: numbering, get-or-create, lookups, listings.

Stage moves live in ``stages.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelplane.enums import SINGLE_HOLDER_STAGES, ModelStages
from modelplane.errors import AlreadyExistsError, InvalidInputError
from modelplane.metadata import reads
from modelplane.metadata.records import EnsuredVersion, ModelRecord, ModelVersionRecord, Page
from modelplane.metadata.arguments import (
    check_card,
    check_dict,
    check_text,
    check_tags,
    merge_tags,
)
from modelplane.metadata.sql.resolve import (
    find_model,
    find_version,
    find_version_by_id,
    looks_like_id,
)
from modelplane.metadata.sql.rows import (
    MODEL_VERSION_SELECT,
    model_records,
    model_version_record,
    new_id,
    records_page,
    utcnow,
)
from modelplane.metadata.sql.tables import model_versions, models
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store import VersionRef
from modelplane.gates import check_gates
from modelplane.versioning import (
    check_name,
    check_version_name,
    parse_version_spec,
)

__all__ = ["ModelsMixin", "insert_version"]

# Built once with bind parameters (see resolve.py for why).
_MODEL_BY_NAME = sa.select(models).where(models.c.name == sa.bindparam("name"))
_BUMP = (
    models.update()
    .where(models.c.id == sa.bindparam("b_id"))
    .values(last_version_number=models.c.last_version_number + 1)
)
_BUMP_RETURNING = _BUMP.returning(models.c.last_version_number)
_LAST_NUMBER = sa.select(models.c.last_version_number).where(models.c.id == sa.bindparam("id"))
_VERSIONS_OF = MODEL_VERSION_SELECT.where(model_versions.c.model_id == sa.bindparam("model_id"))
_VERSION_NAMED = _VERSIONS_OF.where(model_versions.c.name == sa.bindparam("name"))
_VERSION_WITH_ID = _VERSIONS_OF.where(model_versions.c.id == sa.bindparam("name"))
def _insert_model(
    conn: Connection, name: str, tags: list[str], card: dict[str, Any], now: datetime
) -> Row[Any]:
    values = {"id": new_id(), "name": name, "tags": tags, "created": now, "updated": now, **card}
    conn.execute(models.insert(), values)
    return conn.execute(_MODEL_BY_NAME, {"name": name}).one()


def _model_named(conn: Connection, name: str) -> Row[Any] | None:
    return conn.execute(_MODEL_BY_NAME, {"name": name}).first()


def _version_named(conn: Connection, model_id: str, name: str) -> Row[Any] | None:
    row = conn.execute(_VERSION_NAMED, {"model_id": model_id, "name": name}).first()
    if row is None and looks_like_id(name):
        row = conn.execute(_VERSION_WITH_ID, {"model_id": model_id, "name": name}).first()
    return row


def insert_version(
    conn: Connection,
    model_row: Row[Any],
    *,
    name: str | None,
    description: str | None,
    tags: list[str],
    metadata: dict[str, Any],
    created_by: str | None = None,
) -> ModelVersionRecord:
    """A new version numbered max-ever + 1 (DESIGN §3 rule 1), inside the caller's transaction.

    The UPDATE takes the model row's write lock, so concurrent creators of one model queue up
    here; the unique (model_id, number) key is the backstop that makes a lost race retry.
    """
    if name is not None:
        taken = _version_named(conn, model_row.id, name)
        if taken is not None and taken.name == name:
            raise AlreadyExistsError(
                f"Model {model_row.name!r} already has a version named {name!r} "
                f"(number {taken.number}).",
                hint=f"Pick another name, or pass version={name!r} to use that version.",
            )
    if conn.dialect.update_returning:  # SQLite ≥ 3.35 and PostgreSQL: one statement, not two
        number = conn.execute(_BUMP_RETURNING, {"b_id": model_row.id}).scalar_one()
    else:
        conn.execute(_BUMP, {"b_id": model_row.id})
        number = conn.execute(_LAST_NUMBER, {"id": model_row.id}).scalar_one()
    now = utcnow()
    values = {
        "id": new_id(),
        "model_id": model_row.id,
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
    conn.execute(model_versions.insert(), values)
    return ModelVersionRecord(
        **{key: value for key, value in values.items() if key != "meta"},
        metadata=metadata,
        model_name=model_row.name,
    )


class ModelsMixin(StoreCore):
    # -- models -------------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        tags: Sequence[str] = (),
        gates: dict[str, list[str]] | None = None,
        **card: str | None,
    ) -> ModelRecord:
        check_name(name)
        tag_list = check_tags(tags)
        fields = {**check_card(card), "gates": check_gates(gates) or None}

        def work(conn: Connection) -> ModelRecord:
            if _model_named(conn, name) is not None:
                raise AlreadyExistsError(
                    f"A model named {name!r} already exists.",
                    hint="Pick another name, or update the existing model with update_model.",
                )
            return model_records(conn, [_insert_model(conn, name, tag_list, fields, utcnow())])[0]

        return self.write(work)

    def get_model(self, model: str) -> ModelRecord:
        found = self.reading(lambda run: reads.get_model(run, model), lambda c: find_model(c, model))
        return ModelRecord.model_validate(found)

    def list_models(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        sort: str = "name",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ModelRecord]:
        found = self.reading(
            lambda run: reads.list_models(
                run, name=name, tag=tag, sort=sort, limit=limit, offset=offset
            )
        )
        return records_page(ModelRecord, found)

    def update_model(
        self,
        model: str,
        *,
        new_name: str | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        gates: dict[str, list[str]] | None = None,
        **card: str | None,
    ) -> ModelRecord:
        if new_name is not None:
            check_name(new_name)
        fields: dict[str, Any] = {
            key: value for key, value in check_card(card).items() if value is not None
        }
        if gates is not None:
            fields["gates"] = check_gates(gates) or None
        add, remove = check_tags(add_tags), check_tags(remove_tags)

        def work(conn: Connection) -> ModelRecord:
            row = find_model(conn, model, lock=True)
            values: dict[str, Any] = {
                **fields,
                "updated": utcnow(),
                "tags": merge_tags(row.tags, add, remove),
            }
            if new_name is not None and new_name != row.name:
                if _model_named(conn, new_name) is not None:
                    raise AlreadyExistsError(
                        f"Cannot rename model {row.name!r}: a model named {new_name!r} "
                        "already exists.",
                        hint="Pick another name.",
                    )
                values["name"] = new_name
            conn.execute(models.update().where(models.c.id == row.id).values(**values))
            return model_records(
                conn, [conn.execute(sa.select(models).where(models.c.id == row.id)).one()]
            )[0]

        return self.write(work)

    def delete_model(self, model: str) -> None:
        def work(conn: Connection) -> None:
            row = find_model(conn, model, lock=True)
            # Versions, their links and the stage history go by ON DELETE CASCADE.
            conn.execute(models.delete().where(models.c.id == row.id))

        self.write(work)

    # -- versions -----------------------------------------------------------------------------

    def create_model_version(
        self,
        model: str,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
        created_by: str | None = None,
    ) -> ModelVersionRecord:
        if name is not None:
            check_version_name(name)
        tag_list, meta = check_tags(tags), check_dict(metadata, "version metadata")
        creator = check_text(created_by, "version creator", 255)

        def work(conn: Connection) -> ModelVersionRecord:
            model_row = find_model(conn, model)
            return insert_version(
                conn,
                model_row,
                name=name,
                description=description,
                tags=tag_list,
                metadata=meta,
                created_by=creator,
            )

        return self.write(work)

    def ensure_model_version(
        self,
        model: str,
        version: VersionRef | None,
        *,
        model_card: dict[str, Any] | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        created_by: str | None = None,
    ) -> EnsuredVersion:
        spec = parse_version_spec(version)
        creator = check_text(created_by, "version creator", 255)
        card = dict(model_card or {})
        model_tags = check_tags(card.pop("tags", None) or ())
        fields = check_card(card)
        tag_list = check_tags(tags)

        def work(conn: Connection) -> EnsuredVersion:
            if spec.kind in ("number", "stage", "latest"):
                # These name a version that must already exist; never create anything for them.
                found = find_version(conn, find_model(conn, model), version)
                return EnsuredVersion(model_version_record(found), False)
            model_row = _model_named(conn, model) if isinstance(model, str) else None
            if model_row is None and looks_like_id(model):
                model_row = conn.execute(sa.select(models).where(models.c.id == model)).first()
            if model_row is None:
                check_name(model)
                model_row = _insert_model(conn, model, model_tags, fields, utcnow())
            elif set(model_tags) - set(model_row.tags or ()):
                # The run's Model(tags=…) tag the model too: added, never removed.
                conn.execute(
                    models.update()
                    .where(models.c.id == model_row.id)
                    .values(tags=merge_tags(model_row.tags or [], model_tags, ()), updated=utcnow())
                )
            name = None
            if spec.kind == "name":
                assert spec.name is not None
                existing = _version_named(conn, model_row.id, spec.name)
                if existing is not None:
                    return EnsuredVersion(model_version_record(existing), False)
                name = check_version_name(spec.name)
            record = insert_version(
                conn,
                model_row,
                name=name,
                description=description,
                tags=tag_list,
                metadata={},
                created_by=creator,
            )
            return EnsuredVersion(record, True)

        return self.write(work)

    def get_model_version(self, model: str, version: VersionRef) -> ModelVersionRecord:
        def slow(conn: Connection) -> Any:
            # A model id, a version id, or nothing found: the full lookup explains what exists.
            return find_version(conn, find_model(conn, model), version)._mapping

        found = self.reading(lambda run: reads.get_model_version(run, model, version), slow)
        return ModelVersionRecord.model_validate(found)

    def get_model_version_by_id(self, model_version_id: str) -> ModelVersionRecord:
        return self.read(
            lambda conn: model_version_record(find_version_by_id(conn, model_version_id))
        )

    def list_model_versions(
        self,
        model: str,
        *,
        stage: ModelStages | str | None = None,
        tag: str | None = None,
        name: str | None = None,
        sort: str = "-number",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ModelVersionRecord]:
        found = self.reading(
            lambda run: reads.list_model_versions(
                run, model, stage=stage, tag=tag, name=name, sort=sort, limit=limit, offset=offset
            ),
            lambda conn: find_model(conn, model),
        )
        return records_page(ModelVersionRecord, found)

    def update_model_version(
        self,
        model: str,
        version: VersionRef,
        *,
        name: str | None = None,
        description: str | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
    ) -> ModelVersionRecord:
        add, remove = check_tags(add_tags), check_tags(remove_tags)

        def work(conn: Connection) -> ModelVersionRecord:
            model_row = find_model(conn, model)
            row = find_version(conn, model_row, version, lock=True)
            values: dict[str, Any] = {
                "updated": utcnow(),
                "tags": merge_tags(row.tags, add, remove),
            }
            if description is not None:
                values["description"] = description
            if name is not None and name != row.name:
                check_version_name(name)
                taken = _version_named(conn, model_row.id, name)
                if taken is not None and taken.name == name:
                    raise AlreadyExistsError(
                        f"Model {model_row.name!r} already has a version named {name!r} "
                        f"(number {taken.number}).",
                        hint="Pick another name.",
                    )
                values["name"] = name
            conn.execute(
                model_versions.update().where(model_versions.c.id == row.id).values(**values)
            )
            return model_version_record(find_version_by_id(conn, row.id))

        return self.write(work)

    def delete_model_version(self, model: str, version: VersionRef, *, force: bool = False) -> None:
        def work(conn: Connection) -> None:
            model_row = find_model(conn, model, lock=True)
            row = find_version(conn, model_row, version)
            if not force and row.stage in SINGLE_HOLDER_STAGES:
                raise InvalidInputError(
                    f"Version {row.number} of model {model_row.name!r} is in stage '{row.stage}' "
                    "and was not deleted.",
                    hint="Move another version into that stage first, or pass force=True to "
                    "delete it anyway.",
                )
            # Links go by CASCADE; stage history stays with model_version_id set NULL.
            conn.execute(model_versions.delete().where(model_versions.c.id == row.id))

        self.write(work)
