"""Resolve, format, start and stop a local KRaft broker with plain `java`, no Docker.

State lives in one data directory: `server.properties`, the log dirs, `logs/server.log` and `broker.json`
(pid and ports), so `status` and `stop` work from another process, and a crashed run can be cleaned up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ticket_enricher.core.errors import BrokerError

KAFKA_VERSION = "4.3.1"
READY_MARKER = "Kafka Server started"


def default_lib_dir() -> Path:
    override = os.environ.get("TICKET_ENRICHER_KAFKA_LIB")
    if override:
        return Path(override)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "ticket-enricher" / f"kafka-{KAFKA_VERSION}" / "lib"


def ensure_jars(lib_dir: Path | None = None, say: Callable[[str], None] = print) -> Path:
    """Copy the broker's runtime jars from Maven Central into `lib_dir` once; later calls return at once."""
    lib = lib_dir or default_lib_dir()
    done = lib / ".complete"
    if done.exists():
        return lib
    for tool in ("mvn", "java"):
        if shutil.which(tool) is None:
            raise BrokerError(f"`{tool}` is not on PATH: the local broker needs Java 17+ and Maven 3.8+.")
    pom = files(__package__ or "ticket_enricher.localkafka").joinpath("pom.xml")
    staging = lib.with_name(lib.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    say(f"Resolving Apache Kafka {KAFKA_VERSION} from Maven Central into {lib} (first use only)…")
    cmd = [
        "mvn", "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise BrokerError("Maven could not resolve the Kafka broker jars:\n" + "\n".join(tail))
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    done.write_text(KAFKA_VERSION + "\n")
    return lib


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    bootstrap: str | None
    pid: int | None
    data_dir: Path

    def describe(self) -> str:
        if self.running:
            return f"running at {self.bootstrap} (pid {self.pid}, data {self.data_dir})"
        return f"not running (data {self.data_dir})"


_LOG4J = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.state.name = state.change.logger
logger.state.level = WARN
"""


class LocalBroker:
    """One KRaft node (broker + controller) on loopback, owned by a data directory."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        lib_dir: Path | None = None,
        heap: str = "512m",
        partitions: int = 3,
        scram: tuple[str, dict[str, str]] | None = None,
        tls: tuple[Path, str] | None = None,
        super_users: tuple[str, ...] | None = None,
    ) -> None:
        """`scram`: (mechanism, {user: password}) adds a SASL_PLAINTEXT listener with those SCRAM users, whose
        credentials KRaft stores when the data directory is formatted (first start only). `tls`: (PKCS12
        keystore, its password) adds an SSL listener serving that key and certificate. `super_users`: turn on
        KRaft's StandardAuthorizer (no ACL, no access) with these SCRAM users as super users; the loopback
        PLAINTEXT and controller listeners, which the node uses to talk to itself, stay unauthenticated
        (User:ANONYMOUS is a super user too), so clients under test must use the SASL listener."""
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.port = port
        self.lib_dir = lib_dir
        self.heap = heap
        self.partitions = partitions
        self.scram = scram
        self.sasl_port: int | None = None
        self.tls = tls
        self.ssl_port: int | None = None
        self.super_users = super_users
        self._state = self.data_dir / "broker.json"
        self._proc: subprocess.Popen[bytes] | None = None  # kept so that stop() can reap a child of ours

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ssl_bootstrap(self) -> str:
        """The SSL listener's address (only with `tls`)."""
        assert self.ssl_port is not None, "start a broker with tls=... first"
        return f"{self.host}:{self.ssl_port}"

    @property
    def sasl_bootstrap(self) -> str:
        """The SASL_PLAINTEXT listener's address (only with `scram`)."""
        assert self.sasl_port is not None, "start a broker with scram=... first"
        return f"{self.host}:{self.sasl_port}"

    def status(self) -> BrokerStatus:
        if not self._state.exists():
            return BrokerStatus(False, None, None, self.data_dir)
        state = json.loads(self._state.read_text())
        pid = int(state["pid"])
        running = _alive(pid) and _port_open(state["host"], int(state["port"]))
        return BrokerStatus(running, f"{state['host']}:{state['port']}", pid, self.data_dir)

    def start(self, timeout: float = 90.0, say: Callable[[str], None] = print) -> str:
        """Format the store on first use, start the node and return its bootstrap address once it serves."""
        current = self.status()
        if current.running:
            assert current.bootstrap is not None
            say(f"Broker already {current.describe()}")
            return current.bootstrap
        lib = ensure_jars(self.lib_dir, say=say)
        ports_file = self.data_dir / "ports.json"
        saved = json.loads(ports_file.read_text()) if ports_file.exists() else {}
        if self.port is None:
            self.port = saved.get("port") or free_port(self.host)
        # The KRaft voter set records the controller endpoint at format time: keep it across restarts.
        controller_port = saved.get("controller_port") or free_port(self.host)
        if self.scram is not None:
            self.sasl_port = saved.get("sasl_port") or free_port(self.host)
        if self.tls is not None:
            self.ssl_port = saved.get("ssl_port") or free_port(self.host)
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        props.write_text(self._properties(controller_port))
        (self.data_dir / "log4j2.properties").write_text(_LOG4J)
        classpath = f"{lib}/*"
        if not (self.data_dir / "kraft" / "meta.properties").exists():
            cluster_id = subprocess.run(
                ["java", "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"],
                capture_output=True, text=True, check=True,
            ).stdout.strip()
            scram = []
            if self.scram is not None:
                mechanism, users = self.scram
                for user, password in users.items():
                    scram += ["--add-scram", f"{mechanism}=[name={user},password={password}]"]
            fmt = subprocess.run(
                ["java", "-cp", classpath, "kafka.tools.StorageTool", "format", "--standalone",
                 "-t", cluster_id, "-c", str(props), *scram],
                capture_output=True, text=True,
            )
            if fmt.returncode != 0:
                raise BrokerError(f"formatting {self.data_dir} failed:\n{fmt.stdout}{fmt.stderr}")
        ports_file.write_text(json.dumps({"port": self.port, "controller_port": controller_port,
                                          "sasl_port": self.sasl_port, "ssl_port": self.ssl_port}))
        log_file = logs / "server.log"
        log_file.unlink(missing_ok=True)
        with open(logs / "java.out", "wb") as out:  # the broker keeps its own copy of the descriptor
            proc = subprocess.Popen(
                ["java", "-Xms128m", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-XX:TieredStopAtLevel=1",
                 f"-Dkafka.logs.dir={logs}",
                 f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                 "-cp", classpath, "kafka.Kafka", str(props)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self._proc = proc
        self._state.write_text(json.dumps(
            {"pid": proc.pid, "host": self.host, "port": self.port, "controller_port": controller_port}
        ))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BrokerError(f"the broker exited with {proc.returncode}:\n{self._log_tail()}")
            if log_file.exists() and READY_MARKER in log_file.read_text(errors="replace") \
                    and _port_open(self.host, self.port):
                return self.bootstrap
            time.sleep(0.2)
        self.stop()
        raise BrokerError(f"the broker did not start within {timeout:.0f}s:\n{self._log_tail()}")

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM the node and wait for a clean shutdown; SIGKILL after `timeout`. True if one was running."""
        if not self._state.exists():
            return False
        pid = int(json.loads(self._state.read_text())["pid"])
        was_running = _alive(pid)
        if was_running:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
                while _alive(pid):
                    time.sleep(0.05)
        if self._proc is not None and self._proc.pid == pid:
            self._proc.wait()
            self._proc = None
        self._state.unlink(missing_ok=True)
        return was_running

    def _log_tail(self, lines: int = 25) -> str:
        texts = []
        for name in ("server.log", "java.out"):
            path = self.data_dir / "logs" / name
            if path.exists():
                texts.extend(path.read_text(errors="replace").splitlines()[-lines:])
        return "\n".join(texts)

    def _properties(self, controller_port: int) -> str:
        h = self.host
        listeners = f"PLAINTEXT://{h}:{self.port},CONTROLLER://{h}:{controller_port}"
        protocols = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
        sasl: list[str] = []
        if self.scram is not None:
            mechanism = self.scram[0]
            listeners += f",SASL_PLAINTEXT://{h}:{self.sasl_port}"
            protocols += ",SASL_PLAINTEXT:SASL_PLAINTEXT"
            sasl = [
                f"sasl.enabled.mechanisms={mechanism}",
                f"listener.name.sasl_plaintext.{mechanism.lower()}.sasl.jaas.config="
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            ]
        if self.tls is not None:
            keystore, password = self.tls
            listeners += f",SSL://{h}:{self.ssl_port}"
            protocols += ",SSL:SSL"
            sasl += [f"ssl.keystore.location={keystore}", "ssl.keystore.type=PKCS12",
                     f"ssl.keystore.password={password}", f"ssl.key.password={password}"]
        if self.super_users is not None:
            sasl += ["authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                     "allow.everyone.if.no.acl.found=false",
                     "super.users=" + ";".join(["User:ANONYMOUS", *(f"User:{u}" for u in self.super_users)])]
        return "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers={h}:{controller_port}",
            f"listeners={listeners}",
            f"advertised.listeners={listeners}",
            "inter.broker.listener.name=PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            f"listener.security.protocol.map={protocols}",
            *sasl,
            f"log.dirs={self.data_dir / 'kraft'}",
            f"num.partitions={self.partitions}",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "transaction.state.log.num.partitions=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "log.cleaner.dedupe.buffer.size=2097152",
            "auto.create.topics.enable=false",
            "",
        ])
