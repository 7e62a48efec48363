"""Open the verifier's connection from the RDS-managed secret, over TLS, without leaking the secret.

psycopg2 gets keyword arguments, never a DSN built from the secret: a DSN string with the password
in it is exactly the kind of value that ends up in a traceback, a log line or the state's JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from deploy_pipeline.errors import ConfigurationError, DatabaseUnreachable
from deploy_pipeline.verify.evidence import first_line

RDS_CA_BUNDLE = Path(__file__).with_name("rds-global-bundle.pem")
"""Shipped in the Lambda bundle; see its header for where it comes from and how to refresh it."""

SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
VERIFYING_SSL_MODES = frozenset({"verify-ca", "verify-full"})
DEFAULT_DBNAME = "postgres"
_PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def connect(
    secret: Mapping[str, Any],
    *,
    sslmode: str,
    connect_timeout: int = 5,
    application_name: str = "ecs-migrate-deploy",
) -> psycopg2.extensions.connection:
    """Connect with the credentials of an RDS secret (username, password, host, port, dbname).

    Keys RDS adds to the secret (engine, dbInstanceIdentifier, ...) are ignored. A missing dbname
    means the server's default database, as for RDS instances created without one.
    """
    host, port, dbname, user, password = _credentials(secret)
    if sslmode not in SSL_MODES:
        raise ConfigurationError(f"sslmode {sslmode!r} is not one of {', '.join(sorted(SSL_MODES))}")
    tls: dict[str, str] = {"sslmode": sslmode}
    if sslmode in VERIFYING_SSL_MODES:
        tls["sslrootcert"] = str(_ca_bundle())
    try:
        return psycopg2.connect(
            host=host,
            port=port,
            dbname=dbname,
            user=user,
            password=password,
            connect_timeout=connect_timeout,
            application_name=application_name,
            **tls,
        )
    except psycopg2.Error as exc:
        reason = first_line(exc)
        if password:
            # libpq does not echo passwords today; this keeps it true if that ever changes.
            reason = reason.replace(password, "***")
        # `from None`: the original exception and its context stay out of the Lambda's error report.
        raise DatabaseUnreachable(f"cannot connect to {host}:{port}/{dbname} as {user}: {reason}") from None


def _credentials(secret: Mapping[str, Any]) -> tuple[str, int, str, str, str]:
    """The connection parameters, validated; errors name the missing keys, never a value."""
    missing = [key for key in ("username", "password", "host") if not secret.get(key)]
    if missing:
        raise ConfigurationError(
            f"the database secret lacks {', '.join(missing)} (expected the RDS secret format: "
            "username, password, host, port, dbname)"
        )
    raw_port = secret.get("port", 5432)
    try:
        port = int(raw_port)
    except (TypeError, ValueError):
        raise ConfigurationError("the database secret's port is not a number") from None
    if not 0 < port < 65536:
        raise ConfigurationError(f"the database secret's port {port} is out of range")
    dbname = str(secret.get("dbname") or DEFAULT_DBNAME)
    return str(secret["host"]), port, dbname, str(secret["username"]), str(secret["password"])


def _ca_bundle() -> Path:
    """The shipped CA bundle, refusing a file without certificates: libpq's own error would be obscure."""
    try:
        text = RDS_CA_BUNDLE.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise ConfigurationError(
            f"the RDS CA bundle {RDS_CA_BUNDLE.name} is missing from the package ({exc.strerror}): "
            "sslmode verify-full/verify-ca needs it; see the file's header to restore it"
        ) from None
    if _PEM_CERTIFICATE not in text:
        raise ConfigurationError(
            f"the RDS CA bundle {RDS_CA_BUNDLE.name} holds no certificate, so sslmode verify-full/verify-ca "
            "cannot check the server: download https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem "
            "into it (see its header), or set the DB sslmode parameter to require"
        )
    return RDS_CA_BUNDLE
