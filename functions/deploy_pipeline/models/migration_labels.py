"""The image labels that make the release's migrations travel with the image.

A migrator that applies part of the migrations and exits 0 looks like a success to ECS. The build
knows better: it has the migrations folder. `ecs-migrate-deploy image-labels` (the CLI) writes two
labels at `docker build --label ...`; Resolve reads them from the pushed image's config, and Verify
requires what they say.

Keys, reverse-DNS as Docker asks of third-party tools ("Authors of third-party tools should prefix
each label key with the reverse DNS notation of a domain they own", Docker docs, "Docker object
labels"):

- `io.github.ecs-migrate-deploy.expected-migration`: the newest migration's name (a Prisma folder
  name); Verify then requires it applied.
- `io.github.ecs-migrate-deploy.migration-checksums`: `v1:<count>:<base64url entries>`, one 10-byte
  entry per migration in name order: the first 4 bytes of sha256(name) (a tag that finds the entry
  without carrying the name) and the first 6 bytes of the migration's checksum (sha256 of the raw
  migration.sql bytes, what Prisma stores in `_prisma_migrations.checksum`). 1,000 migrations make
  13,342 characters (10,000 bytes base64-encoded plus the header), where names and full checksums
  would take about 100 KB. What it gives up: a modified migration goes unnoticed only if its new
  checksum shares 48 bits with the old one (1 in 2.8e14); two names whose tags collide (about 1 in
  8,600 for a project of 1,000 migrations) are both accepted under either checksum.
- `io.github.ecs-migrate-deploy.lint-summary` (optional, `image-labels --lint`): what `lint` said of
  the release's pending migrations, one line ("1 error, 3 warnings in 3 pending migrations (...);
  errors: require-concurrent-index-creation in 20250310083000_order_status"). Advisory: the record,
  the notification and `history` carry it, so a reviewer sees after the fact that a release was known
  to take an exclusive lock; nothing is decided by it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from deploy_pipeline.errors import InvalidImageLabel
from deploy_pipeline.models.state import MigrationExpectation

EXPECTED_MIGRATION_LABEL = "io.github.ecs-migrate-deploy.expected-migration"
MIGRATION_CHECKSUMS_LABEL = "io.github.ecs-migrate-deploy.migration-checksums"
LINT_SUMMARY_LABEL = "io.github.ecs-migrate-deploy.lint-summary"
LINT_SUMMARY_LIMIT = 400  # characters kept: it travels in the state, the record and the notification
CHECKSUMS_FORMAT = "v1"
NAME_TAG_BYTES = 4
CHECKSUM_PREFIX_BYTES = 6
ENTRY_BYTES = NAME_TAG_BYTES + CHECKSUM_PREFIX_BYTES

# models.inputs.MigrationName, as a pattern (the label must name a migration as the manual option would).
# Matched whole (fullmatch): `$` would accept a trailing newline.
_MIGRATION_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,255}")
_CHECKSUMS = re.compile(r"v1:(0|[1-9][0-9]{0,6}):([A-Za-z0-9_-]*)")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class MalformedLabel(ValueError):
    """A label is there but its value is not in the documented format."""


def name_tag(name: str) -> bytes:
    return hashlib.sha256(name.encode("utf-8")).digest()[:NAME_TAG_BYTES]


def encode_checksums(migrations: Iterable[tuple[str, str]]) -> str:
    """The checksums label for (name, sha256 hex of migration.sql) pairs, in name order."""
    ordered = sorted(migrations)
    entries = b"".join(name_tag(name) + bytes.fromhex(checksum)[:CHECKSUM_PREFIX_BYTES] for name, checksum in ordered)
    encoded = base64.urlsafe_b64encode(entries).rstrip(b"=").decode("ascii")
    return f"{CHECKSUMS_FORMAT}:{len(ordered)}:{encoded}"


@dataclass(frozen=True)
class LabelChecksums:
    """The checksums label, decoded: name tag -> the checksum prefixes listed under it."""

    count: int
    by_tag: Mapping[bytes, frozenset[bytes]]

    def matches(self, name: str, checksum: str) -> bool | None:
        """Whether the applied `checksum` of `name` is the image's; None when the image lists no such name."""
        listed = self.by_tag.get(name_tag(name))
        if listed is None:
            return None
        if not _SHA256_HEX.fullmatch(checksum):
            return False
        return bytes.fromhex(checksum)[:CHECKSUM_PREFIX_BYTES] in listed


def parse_checksums(value: str) -> LabelChecksums:
    """Decode the checksums label; MalformedLabel says what is wrong with it."""
    match = _CHECKSUMS.fullmatch(value)
    if match is None:
        raise MalformedLabel(f"{MIGRATION_CHECKSUMS_LABEL} is not of the form {CHECKSUMS_FORMAT}:<count>:<base64url>")
    count, encoded = int(match.group(1)), match.group(2)
    try:
        entries = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise MalformedLabel(f"{MIGRATION_CHECKSUMS_LABEL} is not valid base64url") from None
    if len(entries) != count * ENTRY_BYTES:
        raise MalformedLabel(
            f"{MIGRATION_CHECKSUMS_LABEL} announces {count} migrations but holds {len(entries)} bytes "
            f"({ENTRY_BYTES} per migration)"
        )
    by_tag: dict[bytes, set[bytes]] = {}
    for start in range(0, len(entries), ENTRY_BYTES):
        tag = entries[start : start + NAME_TAG_BYTES]
        by_tag.setdefault(tag, set()).add(entries[start + NAME_TAG_BYTES : start + ENTRY_BYTES])
    return LabelChecksums(count, {tag: frozenset(prefixes) for tag, prefixes in by_tag.items()})


def parse_expected_migration(value: str) -> str:
    if not _MIGRATION_NAME.fullmatch(value):
        raise MalformedLabel(
            f"{EXPECTED_MIGRATION_LABEL}={_shown(value)} is not a migration name (1-255 letters, digits, _ . : -)"
        )
    return value


def expectation(labels: Mapping[str, str], unreadable: str | None, manual: str | None) -> MigrationExpectation:
    """What Verify must require, from the image's labels and the manual `options.expected_migration`.

    `unreadable`: why the labels could not be read (then `labels` is empty). The manual option wins
    over the label. A label that cannot be read skips the checks, with the reason kept for the
    record: reading it is extra evidence, and ECR or S3 having a bad minute must not block a release
    that would have deployed before labels existed. A label that IS there but malformed is refused
    (InvalidImageLabel, nothing touched), unless the manual option overrides it: it means the build
    that wrote it is broken, and deploying on would silently turn the check off exactly then. A
    malformed checksums label only skips the drift comparison, which is advisory (see
    verify.runner.CHECKSUMS_CHECK).
    """
    expected_value = labels.get(EXPECTED_MIGRATION_LABEL)
    checksums_value = labels.get(MIGRATION_CHECKSUMS_LABEL)
    checksums, checksums_reason = False, None
    if unreadable is not None:
        checksums_reason = f"the image's labels could not be read: {unreadable}"
    elif checksums_value is None:
        checksums_reason = f"the image has no {MIGRATION_CHECKSUMS_LABEL} label"
    else:
        try:
            parse_checksums(checksums_value)
            checksums = True
        except MalformedLabel as exc:
            checksums_reason = f"{exc}: the comparison is skipped"
    if manual is not None:
        overridden = (
            f"options.expected_migration overrides the image's label {EXPECTED_MIGRATION_LABEL}={_shown(expected_value)}"
            if expected_value is not None and expected_value != manual
            else None
        )
        return MigrationExpectation(
            expected_migration=manual,
            source="manual",
            reason=overridden,
            checksums=checksums,
            checksums_reason=checksums_reason,
        )
    if unreadable is not None:
        reason = f"the image's labels could not be read ({unreadable}): the expected-migration check is skipped"
        return MigrationExpectation(reason=reason, checksums_reason=checksums_reason)
    if expected_value is None:
        return MigrationExpectation(
            reason=f"the image has no {EXPECTED_MIGRATION_LABEL} label: the expected-migration check is skipped",
            checksums=checksums,
            checksums_reason=checksums_reason,
        )
    try:
        name = parse_expected_migration(expected_value)
    except MalformedLabel as exc:
        raise InvalidImageLabel(
            f"{exc}. Rebuild the image with `ecs-migrate-deploy image-labels`, or start the deployment by hand "
            'with {"options": {"expected_migration": "<name>"}}, which overrides the label'
        ) from None
    return MigrationExpectation(
        expected_migration=name, source="label", checksums=checksums, checksums_reason=checksums_reason
    )


def lint_summary(labels: Mapping[str, str]) -> str | None:
    """The lint-summary label as the record carries it (it comes from whoever built the image), or
    None without one."""
    value = labels.get(LINT_SUMMARY_LABEL)
    return summary_line(value) if value and value.strip() else None


def summary_line(text: str) -> str:
    """`text` on one printable line of at most LINT_SUMMARY_LIMIT characters: what the label holds."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= LINT_SUMMARY_LIMIT else flat[: LINT_SUMMARY_LIMIT - 1] + "…"


def _shown(value: str | None, limit: int = 80) -> str:
    """A label value quoted on one line, bounded (it comes from whoever built the image)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
