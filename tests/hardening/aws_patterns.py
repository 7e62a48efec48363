"""AWS's own rules for the identifiers the pipeline sends, written from the API references, not from our
models, so the tests compare our validation against an independent statement of what AWS accepts."""

from __future__ import annotations

import re

# ECR / OCI distribution spec: tag, digest (ECR computes sha256), repository name (2-256 characters).
IMAGE_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
IMAGE_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
REPOSITORY_NAME = re.compile(r"(?=.{2,256}\Z)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
# RDS: DBSnapshotIdentifier (1-255) and DBInstanceIdentifier / DBClusterIdentifier (1-63): a letter
# first, then letters, digits and hyphens, never two hyphens in a row, never a hyphen at the end.
RDS_SNAPSHOT_ID = re.compile(r"(?=.{1,255}\Z)[A-Za-z](?:-?[A-Za-z0-9])*")
RDS_INSTANCE_ID = re.compile(r"(?=.{1,63}\Z)[A-Za-z](?:-?[A-Za-z0-9])*")
# ECS RunTask startedBy: up to 128 letters, digits, hyphens and underscores.
ECS_STARTED_BY = re.compile(r"[A-Za-z0-9_-]{1,128}")
# ECS and RDS tag values: up to 256 of letters, digits, spaces and + - = . _ : / @.
TAG_VALUE = re.compile(r"[\w\s+=.:/@-]{0,256}")


def matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None
