"""The fingerprint's stored form: gzipped compact JSON that reads back equal, and refuses anything else."""

from __future__ import annotations

import gzip
import json

import pytest
from deploy_pipeline.verify import SchemaFingerprint
from hypothesis import given
from hypothesis import strategies as st

objects = st.dictionaries(
    st.text(min_size=1, max_size=80), st.text(alphabet="0123456789abcdef", min_size=12, max_size=12)
)


@given(objects)
def test_round_trip(items: dict[str, str]) -> None:
    fingerprint = SchemaFingerprint(items)

    restored = SchemaFingerprint.from_bytes(fingerprint.to_bytes())

    assert restored == fingerprint
    assert restored.object_count == len(items)


def test_bytes_are_deterministic_compact_gzipped_json() -> None:
    fingerprint = SchemaFingerprint({"table:public.b": "0123456789ab", "table:public.a": "ba9876543210"})

    blob = fingerprint.to_bytes()

    assert blob == SchemaFingerprint(dict(reversed(fingerprint.objects.items()))).to_bytes()
    assert blob[:2] == b"\x1f\x8b"
    assert (
        gzip.decompress(blob) == b'{"objects":{"table:public.a":"ba9876543210","table:public.b":"0123456789ab"},"v":1}'
    )


def test_two_thousand_tables_fit_a_dynamodb_item() -> None:
    fingerprint = SchemaFingerprint.from_definitions(
        (f"{kind}:public.table_{t:04}.{name}", f"{kind} {t} {name}")
        for t in range(2_000)
        for kind, name in [
            ("table", ""),
            ("column", "id"),
            ("column", "name"),
            ("column", "created_at"),
            ("column", "tenant_id"),
            ("index", "pkey"),
            ("index", "tenant_idx"),
            ("constraint", "pkey"),
        ]
    )

    assert fingerprint.object_count == 16_000
    assert len(fingerprint.to_bytes()) < 400_000 // 2  # DynamoDB's item limit, with room to spare


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"not gzip", "not a schema fingerprint"),
        (gzip.compress(b"{not json"), "not a schema fingerprint"),
        (gzip.compress(json.dumps({"v": 2, "objects": {}}).encode()), "not a version 1 schema fingerprint"),
        (gzip.compress(json.dumps([1, 2]).encode()), "not a version 1 schema fingerprint"),
        (gzip.compress(json.dumps({"v": 1, "objects": {"a": 1}}).encode()), "must map strings to strings"),
        (gzip.compress(json.dumps({"v": 1}).encode()), "must map strings to strings"),
    ],
    ids=["not-gzip", "not-json", "version-2", "a-list", "non-string-hash", "no-objects"],  # stable for xdist
)
def test_anything_else_is_refused(blob: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SchemaFingerprint.from_bytes(blob)
