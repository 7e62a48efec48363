"""The Verify phase: ask the database itself whether the migration did what the release needs.

Imported only by the verification Lambdas (it pulls in psycopg2). The handler calls:
connect() with the RDS secret, capture_fingerprint() before the migration, run_verification()
after it; VERIFIERS lists the migration tools it understands.
"""

from deploy_pipeline.verify.connection import connect
from deploy_pipeline.verify.fingerprint import SchemaFingerprint, capture_fingerprint, diff_fingerprints
from deploy_pipeline.verify.runner import read_progress, run_verification
from deploy_pipeline.verify.verifiers import VERIFIERS, Progress, Verifier

__all__ = [
    "VERIFIERS",
    "Progress",
    "SchemaFingerprint",
    "Verifier",
    "capture_fingerprint",
    "connect",
    "diff_fingerprints",
    "read_progress",
    "run_verification",
]
