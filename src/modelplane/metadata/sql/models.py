"""Models and model versions in the SQL store: lookups, listings, edits.

Numbering and get-or-create are written once in ``metadata.model_writes``; stage moves live in
``stages.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelplane.enums import SINGLE_HOLDER_STAGES, ModelStages
from modelplane.errors import AlreadyExistsError, InvalidInputError
from modelplane.metadata import model_writes, reads
from modelplane.metadata.records import EnsuredVersion, ModelRecord, ModelVersionRecord, Page
from modelplane.metadata.arguments import (
    check_card,
    check_tags,
    merge_tags,
)
from modelplane.metadata.sql.resolve import (
    find_model,
    find_version,
    find_version_by_id,
)
from modelplane.metadata.sql.rows import (
    model_records,
    model_version_record,
    new_id,
    records_page,
    utcnow,
)
from modelplane.metadata.sql.run_statements import STATEMENTS, SqlTransaction, in_transaction
from modelplane.metadata.sql.tables import model_versions, models
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store import VersionRef
from modelplane.gates import check_gates
from modelplane.versioning import check_name, check_version_name

__all__ = ["ModelsMixin"]


def _model_named(conn: Connection, name: str) -> Row[Any] | None:
    return conn.execute(STATEMENTS["model.by_name"], {"key": name}).first()


def _insert_model(
    conn: Connection, name: str, tags: list[str], card: dict[str, Any], now: datetime
) -> Row[Any]:
    values = {"id": new_id(), "name": name, "tags": tags, "created": now, "updated": now, **card}
    conn.execute(models.insert(), values)
    return conn.execute(STATEMENTS["model.by_name"], {"key": name}).one()


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

    def create_model_version(self, model: str, **arguments: Any) -> ModelVersionRecord:
        # The arguments are the protocol's (``MetadataStore.create_model_version``).
        work = model_writes.create_model_version(model, **arguments)
        return ModelVersionRecord.model_validate(self.write(in_transaction(work)))

    def ensure_model_version(
        self, model: str, version: VersionRef | None, **arguments: Any
    ) -> EnsuredVersion:
        # The arguments are the protocol's (``MetadataStore.ensure_model_version``).
        work = model_writes.ensure_model_version(model, version, **arguments)
        row, created = self.write(in_transaction(work))
        return EnsuredVersion(ModelVersionRecord.model_validate(row), created)

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
                taken = model_writes.version_named(SqlTransaction(conn), model_row.id, name)
                if taken is not None and taken["name"] == name:
                    raise AlreadyExistsError(
                        f"Model {model_row.name!r} already has a version named {name!r} "
                        f"(number {taken['number']}).",
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
