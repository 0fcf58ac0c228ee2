"""TLS on a real broker: a local KRaft node with an SSL listener and a certificate made for this run (keytool,
from the JDK the broker needs anyway). The worker connects when told which CA to trust (kafka.ssl_cafile)
and fails clearly when it is not."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import command_env, enriched, publish_over
from ticket_enricher.config.settings import Settings, load_settings
from ticket_enricher.localkafka import LocalBroker
from ticket_enricher.samples import generate

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]
CLI = str(Path(sys.executable).with_name("ticket-enricher"))


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalBroker, Path]]:
    """A broker whose certificate (for 127.0.0.1) is self-signed: its PEM is the CA a client must trust."""
    keys = tmp_path_factory.mktemp("tls")
    password = secrets.token_urlsafe(18)
    keystore, ca = keys / "broker.p12", keys / "ca.pem"
    subprocess.run(["keytool", "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048",
                    "-validity", "2", "-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1,DNS:localhost",
                    "-storetype", "PKCS12", "-keystore", str(keystore), "-storepass", password,
                    "-keypass", password], check=True, capture_output=True)
    subprocess.run(["keytool", "-exportcert", "-rfc", "-alias", "broker", "-keystore", str(keystore),
                    "-storepass", password, "-file", str(ca)], check=True, capture_output=True)
    broker = LocalBroker(tmp_path_factory.mktemp("tls-broker"), heap="512m", tls=(keystore, password))
    broker.start(say=lambda message: None)
    try:
        yield broker, ca
    finally:
        broker.stop()


def tls_settings(broker: LocalBroker, ca: Path | None, tmp_path: Path) -> Settings:
    run = uuid.uuid4().hex[:8]
    return load_settings(
        kafka={"bootstrap_servers": broker.ssl_bootstrap, "security_protocol": "SSL", "group_id": f"g-{run}",
               "ssl_cafile": str(ca) if ca else ""},
        topics={"tickets": f"t-{run}", "enriched": f"e-{run}", "dlq": f"d-{run}",
                "deletion_requests": f"f-{run}", "deletion_completed": f"fc-{run}"},
        memory={"path": tmp_path / "memory.db"}, ops={"http_port": 0},
    )


async def test_the_worker_connects_over_tls_trusting_the_given_ca(
    tls_broker: tuple[LocalBroker, Path], tmp_path: Path
) -> None:
    broker, ca = tls_broker
    settings = tls_settings(broker, ca, tmp_path)
    env = command_env(settings, **{"KAFKA__SECURITY_PROTOCOL": "SSL", "KAFKA__SSL_CAFILE": str(ca)})
    created = subprocess.run([CLI, "topics", "create"], env=env, capture_output=True, text=True, timeout=90)
    assert created.returncode == 0, created.stderr
    stream = generate(seed=8, accounts=3)
    await publish_over(settings, stream.events)
    worker = subprocess.Popen([CLI, "run", "--log-level", "WARNING"], env=env, stderr=subprocess.PIPE, text=True,
                              stdout=subprocess.DEVNULL)
    try:
        assert await enriched(settings, len(stream.events)) == len(stream.events)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err[-2000:]


def test_an_untrusted_certificate_fails_clearly(tls_broker: tuple[LocalBroker, Path], tmp_path: Path) -> None:
    broker, _ = tls_broker
    settings = tls_settings(broker, None, tmp_path)
    env = command_env(settings, **{"KAFKA__SECURITY_PROTOCOL": "SSL"})  # the system's CAs only
    result = subprocess.run([CLI, "status"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-1500:]
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr or "certificate verify failed" in result.stderr, \
        result.stderr[-1500:]
    assert "Traceback" not in result.stderr
