"""Fingerprint diffs: exact below the cap, and bounded above it so they fit a state and an SNS message."""

from __future__ import annotations

import json

from deploy_pipeline.verify import SchemaFingerprint, diff_fingerprints
from deploy_pipeline.verify.fingerprint import DIFF_LIMIT, cap, count_changes
from hypothesis import given
from hypothesis import strategies as st

keys = st.text(alphabet="abcdefghij.:_", min_size=1, max_size=12)
fingerprints = st.dictionaries(keys, st.sampled_from(["aaaaaaaaaaaa", "bbbbbbbbbbbb"]), max_size=40)


def test_added_removed_changed_sorted() -> None:
    before = SchemaFingerprint({"table:b": "1", "table:a": "1", "column:a.x": "1"})
    after = SchemaFingerprint({"table:a": "2", "table:c": "1", "column:a.x": "1", "index:z": "1"})

    assert diff_fingerprints(before, after) == {
        "added": ["index:z", "table:c"],
        "removed": ["table:b"],
        "changed": ["table:a"],
    }


def test_identical_fingerprints_have_an_empty_diff() -> None:
    same = SchemaFingerprint({"table:a": "1"})
    assert diff_fingerprints(same, same) == {"added": [], "removed": [], "changed": []}


def test_cap_keeps_the_first_keys_and_counts_the_rest() -> None:
    keys_ = [f"table:t{i:04}" for i in range(120)]

    assert cap(keys_, 50) == [*keys_[:50], "... and 70 more"]
    assert cap(keys_[:50], 50) == keys_[:50]  # exactly at the cap: nothing cut, no marker
    assert cap([], 50) == []


def test_a_huge_migration_still_gives_a_small_diff() -> None:
    before = SchemaFingerprint({f"column:public.t{i:05}.{'c' * 63}": "0" for i in range(20_000)})
    after = SchemaFingerprint(
        {
            **{f"column:public.t{i:05}.{'c' * 63}": "1" for i in range(10_000)},
            **{f"table:public.n{i}": "1" for i in range(5_000)},
        }
    )

    diff = diff_fingerprints(before, after)

    assert [len(diff[k]) for k in ("added", "removed", "changed")] == [DIFF_LIMIT + 1] * 3
    assert diff["removed"][-1] == "... and 9950 more"
    assert len(json.dumps(diff)) < 16_000  # far below the 256 KB state and SNS limits


@given(fingerprints, fingerprints)
def test_uncapped_diff_partitions_the_keys(before: dict[str, str], after: dict[str, str]) -> None:
    diff = diff_fingerprints(SchemaFingerprint(before), SchemaFingerprint(after), limit=1_000)

    assert set(diff["added"]) == after.keys() - before.keys()
    assert set(diff["removed"]) == before.keys() - after.keys()
    assert set(diff["changed"]) == {k for k in before.keys() & after.keys() if before[k] != after[k]}
    assert all(diff[k] == sorted(diff[k]) for k in diff)


@given(st.lists(keys, unique=True, max_size=80), st.integers(min_value=0, max_value=60))
def test_cap_is_bounded_and_says_how_many_were_cut(items: list[str], limit: int) -> None:
    capped = cap(items, limit)

    assert len(capped) <= limit + 1
    if len(items) > limit:
        assert capped[:limit] == items[:limit]
        assert capped[-1] == f"... and {len(items) - limit} more"
    else:
        assert capped == items


def test_counts_are_real_where_the_lists_are_capped() -> None:
    before = SchemaFingerprint({})
    after = SchemaFingerprint({**{f"table:public.t{i}": "1" for i in range(70)}, "index:public.i": "1"})

    full = diff_fingerprints(before, after, limit=None)

    assert count_changes(full) == {"added": {"table": 70, "index": 1}}
    assert len(diff_fingerprints(before, after)["added"]) == DIFF_LIMIT + 1  # the marker is not an object
