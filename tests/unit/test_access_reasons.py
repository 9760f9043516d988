"""The four ways a client is kept out each get a reason of their own: no one's sentence
contains the setting another one names as the fix (the broker-backed cases are in
tests/integration/test_sasl_ssl_and_acls.py)."""

from __future__ import annotations

import ssl

from aiokafka.errors import SaslAuthenticationFailed, TopicAuthorizationFailedError

from workers.kafka.access import explain
from workers.settings import Settings

SETTINGS = Settings(
    bootstrap_servers="kafka-1.example:9093",
    security_protocol="SASL_SSL",
    sasl_mechanism="SCRAM-SHA-512",
    sasl_username="newsflow-clean",
    sasl_password="secret",
    ssl_cafile="/etc/kafka/ca.pem",
)


def _verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    error.verify_code, error.verify_message = code, message
    return error


def test_each_way_in_names_its_own_fix() -> None:
    # OpenSSL's codes: 20 (unable to get local issuer certificate), 62 (hostname mismatch).
    reasons = {
        "NEWSFLOW_SASL_PASSWORD": explain(SaslAuthenticationFailed("bad"), SETTINGS),
        "NEWSFLOW_SSL_CAFILE": explain(
            _verify_error(20, "unable to get local issuer certificate"), SETTINGS
        ),
        "NEWSFLOW_BOOTSTRAP_SERVERS": explain(
            _verify_error(62, "Hostname mismatch, certificate is not valid for 'kafka-1'."),
            SETTINGS,
        ),
        "deploy/kafka-acls.sh": explain(TopicAuthorizationFailedError("raw"), SETTINGS),
    }
    for fix, reason in reasons.items():
        assert reason is not None
        named = [other for other in reasons if other in reason]
        assert named == [fix], f"{reason!r} names {named}"
    assert "secret" not in "".join(str(r) for r in reasons.values())
