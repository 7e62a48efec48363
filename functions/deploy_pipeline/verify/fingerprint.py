"""A schema fingerprint: every table, column, index and constraint of the user schemas, hashed.

Captured before the migration (stored in DynamoDB) and after it, the difference tells a reviewer
what the migration really changed, by name, without storing the schema itself. Objects are keyed
by name and each keeps only a short hash of its definition (as the catalog records it, see
CATALOG_QUERY): enough to see "changed", small enough that 2,000 tables fit a DynamoDB item once
gzipped (~170 KiB for 30,000 objects).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg2.extensions

from deploy_pipeline.errors import SchemaVerificationFailed
from deploy_pipeline.verify.read_only import QueryFailed, ReadOnlySession

FORMAT_VERSION = 1
HASH_BYTES = 6
"""48 bits: a changed definition goes unnoticed with odds of 1 in 2.8e14 per object."""
DIFF_LIMIT = 50
"""Keys listed per diff category: the diff rides in the Step Functions state and an SNS message."""

# One catalog query, whatever the number of tables: pg_catalog only (information_schema views
# are slow on large schemas and hide objects the role does not own). Keys quote identifiers only
# when PostgreSQL would (`%I`), so `public."User".email` and `public.user.email` stay distinct.
#
# A definition is the catalog's own record of the object: type oid and modifier, attribute
# numbers, operator classes, stored expression trees. Deparsing with pg_get_indexdef() and
# pg_get_constraintdef() reads the same thing but costs 5-8x more (78 ms instead of 9 ms for 6,000
# indexes), which a 250 ms budget on 2,000 tables cannot afford. The stored form is stable while
# an object is untouched and changes when the migration alters it; an object the migration drops
# and re-creates identically may show as changed, which is still true of what the migration did.
# Oids are only compared within one database over time, never across databases.
CATALOG_QUERY = """
WITH rel AS (
    SELECT c.oid, c.relkind, c.relpersistence, c.relpartbound, format('%I.%I', n.nspname, c.relname) AS qualified
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')
      AND n.nspname <> 'information_schema'
      AND n.nspname !~ '^pg_(catalog|toast|temp_)'
)
SELECT 'table:' || rel.qualified,
       concat_ws(' ', rel.relkind::text, rel.relpersistence::text, pt.partstrat::text, pt.partattrs::text,
                 pt.partexprs::text, rel.relpartbound::text)
FROM rel
LEFT JOIN pg_partitioned_table AS pt ON pt.partrelid = rel.oid
WHERE rel.relkind IN ('r', 'p', 'f')
UNION ALL
SELECT 'view:' || rel.qualified, rel.relkind::text || ' ' || pg_get_viewdef(rel.oid)
FROM rel
WHERE rel.relkind IN ('v', 'm')
UNION ALL
SELECT 'column:' || rel.qualified || '.' || quote_ident(a.attname),
       concat_ws(' ', a.atttypid, a.atttypmod, a.attndims, a.attnotnull, a.attcollation,
                 nullif(a.attidentity::text, ''), nullif(a.attgenerated::text, ''), d.adbin::text)
FROM rel
JOIN pg_attribute AS a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE rel.relkind IN ('r', 'p', 'f')
UNION ALL
SELECT 'index:' || format('%I.%I', n.nspname, ic.relname),
       concat_ws(' ', ic.relam, rel.qualified, i.indisunique, i.indisprimary, i.indisexclusion, i.indimmediate,
                 i.indkey::text, i.indclass::text, i.indcollation::text, i.indoption::text,
                 i.indexprs::text, i.indpred::text, ic.reloptions::text)
FROM pg_index AS i
JOIN rel ON rel.oid = i.indrelid
JOIN pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_namespace AS n ON n.oid = ic.relnamespace
UNION ALL
SELECT 'constraint:' || rel.qualified || '.' || quote_ident(con.conname),
       concat_ws(' ', con.contype::text, con.condeferrable, con.condeferred, con.convalidated, con.conkey::text,
                 con.confrelid, con.confkey::text, con.confupdtype::text, con.confdeltype::text,
                 con.confmatchtype::text, con.conexclop::text, con.conbin::text)
FROM pg_constraint AS con
JOIN rel ON rel.oid = con.conrelid
"""


@dataclass(frozen=True)
class SchemaFingerprint:
    """Object key ("table:public.orders", "column:public.orders.id", ...) -> short hash of its definition."""

    objects: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_definitions(cls, definitions: Iterable[tuple[str, str]]) -> SchemaFingerprint:
        """Hash here, not in SQL: md5() is refused on FIPS-mode servers and sha256() needs PostgreSQL 11."""
        return cls({key: _short_hash(definition) for key, definition in definitions})

    @property
    def object_count(self) -> int:
        return len(self.objects)

    def to_bytes(self) -> bytes:
        """Compact JSON, gzipped with a fixed mtime so the same schema always gives the same bytes."""
        document = {"v": FORMAT_VERSION, "objects": self.objects}
        text = json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)

    @classmethod
    def from_bytes(cls, blob: bytes) -> SchemaFingerprint:
        """Read what to_bytes wrote; anything else is a ValueError saying so, not a half-read fingerprint."""
        try:
            document = json.loads(gzip.decompress(blob).decode("utf-8"))
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a schema fingerprint (gzipped JSON expected): {exc}") from None
        if not isinstance(document, dict) or document.get("v") != FORMAT_VERSION:
            raise ValueError(f"not a version {FORMAT_VERSION} schema fingerprint")
        objects = document.get("objects")
        if not isinstance(objects, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in objects.items()
        ):
            raise ValueError("schema fingerprint objects must map strings to strings")
        return cls(dict(objects))


def capture_fingerprint(
    connection: psycopg2.extensions.connection, *, statement_timeout_ms: int = 30_000
) -> SchemaFingerprint:
    """The fingerprint of the database's user schemas, read in one read-only catalog query."""
    try:
        with ReadOnlySession(connection, statement_timeout_ms=statement_timeout_ms) as session:
            return read_fingerprint(session)
    except QueryFailed as exc:
        raise SchemaVerificationFailed(f"could not read the schema catalog: {exc}") from None


def read_fingerprint(session: ReadOnlySession) -> SchemaFingerprint:
    """Within a caller's session, so a verification reads the schema in the same snapshot as the rest."""
    rows = session.fetch(CATALOG_QUERY)
    return SchemaFingerprint.from_definitions(rows)


def diff_fingerprints(
    before: SchemaFingerprint, after: SchemaFingerprint, *, limit: int | None = DIFF_LIMIT
) -> dict[str, list[str]]:
    """Keys added, removed and changed between two fingerprints: sorted, each list capped at `limit`
    (None: uncapped, for counting)."""
    old, new = before.objects, after.objects
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    changed = sorted(key for key in old.keys() & new.keys() if old[key] != new[key])
    full = {"added": added, "removed": removed, "changed": changed}
    return full if limit is None else {direction: cap(keys, limit) for direction, keys in full.items()}


def count_changes(diff_keys: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """Per direction, how many objects of each kind (`table`, `column`, `index`, ...) changed.

    Computed from the uncapped key lists: the lists kept for the record stop at DIFF_LIMIT, the
    counts are the real ones.
    """
    counts: dict[str, dict[str, int]] = {}
    for direction, keys in diff_keys.items():
        per_kind: dict[str, int] = {}
        for key in keys:
            kind = key.partition(":")[0]
            per_kind[kind] = per_kind.get(kind, 0) + 1
        if per_kind:
            counts[direction] = per_kind
    return counts


def cap(keys: list[str], limit: int) -> list[str]:
    """The first `limit` keys, then one "... and N more" entry so the reader knows the list was cut."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    if len(keys) <= limit:
        return keys
    return [*keys[:limit], f"... and {len(keys) - limit} more"]


def _short_hash(definition: str) -> str:
    return hashlib.blake2b(definition.encode("utf-8"), digest_size=HASH_BYTES).hexdigest()
