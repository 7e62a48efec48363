"""connect(): the RDS secret in, a connection or a named error out, and never the password in a message."""

from __future__ import annotations

import traceback
import uuid
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from deploy_pipeline.errors import ConfigurationError, DatabaseUnreachable
from deploy_pipeline.verify import connect, connection

PASSWORD = f"hunter2-{uuid.uuid4().hex}"
FAKE_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def rds_secret(**overrides: Any) -> dict[str, Any]:
    secret: dict[str, Any] = {
        "engine": "postgres",
        "host": "127.0.0.1",
        "port": 5432,
        "username": "postgres",
        "password": PASSWORD,
        "dbname": f"emd_no_such_db_{uuid.uuid4().hex[:8]}",
        "dbInstanceIdentifier": "app-db",
    }
    secret.update(overrides)
    return secret


@pytest.mark.postgres
def test_failed_connection_names_the_target_but_not_the_password() -> None:
    secret = rds_secret()

    with pytest.raises(DatabaseUnreachable) as caught:
        connect(secret, sslmode="disable")

    message = str(caught.value)
    assert message.startswith(f"cannot connect to 127.0.0.1:5432/{secret['dbname']} as postgres: ")
    assert "does not exist" in message or "refused" in message
    assert PASSWORD not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))


def test_refused_port_is_unreachable_too() -> None:
    with pytest.raises(DatabaseUnreachable, match=r"cannot connect to 127.0.0.1:1/app as postgres: .*refused"):
        connect(rds_secret(port="1", dbname="app"), sslmode="disable", connect_timeout=2)


def test_password_is_masked_should_a_driver_ever_echo_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def echoing_connect(**kwargs: Any) -> None:
        raise psycopg2.OperationalError(f"FATAL: bad password {kwargs['password']}\nDETAIL: more")

    monkeypatch.setattr(psycopg2, "connect", echoing_connect)

    with pytest.raises(DatabaseUnreachable) as caught:
        connect(rds_secret(), sslmode="disable")

    assert str(caught.value).endswith("FATAL: bad password ***")


def test_keyword_arguments_not_a_dsn_and_rds_extras_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(psycopg2, "connect", lambda *args, **kwargs: seen.append((args, kwargs)))

    connect(rds_secret(dbname=None, database="ignored", port="6543"), sslmode="require", application_name="verify")

    assert seen == [
        (
            (),
            {
                "host": "127.0.0.1",
                "port": 6543,
                "dbname": "postgres",
                "user": "postgres",
                "password": PASSWORD,
                "connect_timeout": 5,
                "application_name": "verify",
                "sslmode": "require",
            },
        )
    ]


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({"host": "h", "username": "u"}, "lacks password"),
        ({"password": PASSWORD}, "lacks username, host"),
        ({"host": "h", "username": "u", "password": PASSWORD, "port": "five"}, "port is not a number"),
        ({"host": "h", "username": "u", "password": PASSWORD, "port": 70000}, "port 70000 is out of range"),
    ],
)
def test_malformed_secret_is_a_configuration_error_without_values(secret: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        connect(secret, sslmode="require")
    assert PASSWORD not in str(caught.value)


def test_unknown_sslmode_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="sslmode 'strict' is not one of"):
        connect(rds_secret(), sslmode="strict")


@pytest.mark.parametrize("sslmode", ["verify-full", "verify-ca"])
def test_verifying_modes_need_a_bundle_with_certificates(
    sslmode: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    placeholder = tmp_path / "bundle.pem"
    placeholder.write_text("# a header only, no certificate\n")
    monkeypatch.setattr(connection, "RDS_CA_BUNDLE", placeholder)
    with pytest.raises(ConfigurationError, match=r"holds no certificate.*truststore\.pki\.rds\.amazonaws\.com"):
        connect(rds_secret(), sslmode=sslmode)


def test_shipped_bundle_holds_the_rds_root_cas() -> None:
    import ssl

    context = ssl.create_default_context(cafile=str(connection.RDS_CA_BUNDLE))
    assert context.cert_store_stats()["x509_ca"] >= 100
    subjects = {
        value for cert in context.get_ca_certs() for rdn in cert["subject"] for key, value in rdn if key == "commonName"
    }
    assert {"Amazon RDS us-east-1 Root CA RSA2048 G1", "Amazon RDS eu-west-1 Root CA ECC384 G1"} <= subjects


def test_verify_full_passes_the_bundle_to_libpq(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(FAKE_PEM)
    monkeypatch.setattr(connection, "RDS_CA_BUNDLE", bundle)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(psycopg2, "connect", lambda **kwargs: seen.update(kwargs))

    connect(rds_secret(), sslmode="verify-full")

    assert (seen["sslmode"], seen["sslrootcert"]) == ("verify-full", str(bundle))


def test_missing_bundle_file_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(connection, "RDS_CA_BUNDLE", tmp_path / "gone.pem")
    with pytest.raises(ConfigurationError, match="missing from the package"):
        connect(rds_secret(), sslmode="verify-ca")


def test_shipped_bundle_says_where_the_real_one_comes_from() -> None:
    header = connection.RDS_CA_BUNDLE.read_text()
    assert "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem" in header
    assert "curl" in header
