"""The local infrastructure shared by `make run` and the test fixtures.

Starts a single-node Apache Kafka broker (KRaft, combined mode) from the Maven artifacts and a
SecantusDB daemon (MongoDB wire protocol on WiredTiger), both on loopback. When
`KAFKA_BOOTSTRAP_SERVERS` / `MONGODB_URI` are set, nothing is started and those are used.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

KAFKA_DIR = Path(__file__).parent / "kafka"
CLASSPATH_DIR = KAFKA_DIR / "target" / "dependency"
JAVA_OPTS = ["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-Djava.awt.headless=true"]


class InfraError(RuntimeError):
    pass


def port_is_taken(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    """A port that is free now, below the kernel's ephemeral range: outgoing connections (which take
    ephemeral ports) cannot grab it between this check and the server binding it."""
    low, _ = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for port in random.sample(range(20000, min(low, 32768)), 200):
        if not port_is_taken(port) and not port_is_taken(port + 1):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise InfraError("no free port found below the ephemeral range")


def ensure_kafka_classpath() -> str:
    """Resolve the broker's jars once; Maven's local repository caches them for later runs."""
    marker = CLASSPATH_DIR / ".complete"
    if not marker.exists():
        subprocess.run(
            ["mvn", "-B", "-q", "dependency:copy-dependencies", "-DincludeScope=runtime"],
            cwd=KAFKA_DIR,
            check=True,
        )
        marker.touch()
    return os.pathsep.join(str(p) for p in sorted(CLASSPATH_DIR.glob("*.jar")))


def _server_properties(data_dir: Path, port: int, controller_port: int) -> str:
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data_dir / "logs"}
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=168
"""


@dataclass
class Process:
    name: str
    popen: subprocess.Popen

    def stop(self, timeout: float = 20) -> None:
        if self.popen.poll() is not None:
            return
        signal_group(self.popen, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            signal_group(self.popen, signal.SIGKILL)
            self.popen.wait(5)


def signal_group(popen: subprocess.Popen, sig: int) -> None:
    """Signal a process started in a session of its own, and whatever it started in turn."""
    try:
        if os.getpgid(popen.pid) == popen.pid:
            os.killpg(popen.pid, sig)
        else:
            popen.send_signal(sig)
    except ProcessLookupError:
        pass  # it is gone already


def _wait_until(check, what: str, deadline_s: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise InfraError(f"{what} exited with code {proc.returncode} before it was ready")
        if check():
            return
        time.sleep(0.2)
    raise InfraError(f"{what} was not ready within {deadline_s:.0f}s")


def kafka_ready(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    host, _, port = bootstrap.rpartition(":")
    if not port_is_taken(int(port), host):
        return False

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.describe_cluster()
            # Consumers join groups right away: wait until the group coordinator is up too.
            await admin.find_coordinator("akkoord.readiness")
            return True
        except Exception:
            return False
        finally:
            await admin.close()

    return asyncio.run(probe())


def mongo_ready(uri: str) -> bool:
    from pymongo import MongoClient

    client = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


def start_kafka(data_dir: Path, port: int, log_file=None) -> Process:
    classpath = ensure_kafka_classpath()
    data_dir.mkdir(parents=True, exist_ok=True)
    controller_port = port + 1 if not port_is_taken(port + 1) else free_port()
    props = data_dir / "server.properties"
    props.write_text(_server_properties(data_dir, port, controller_port))
    java = [
        shutil.which("java") or "java",
        *JAVA_OPTS,
        f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
        "-cp",
        classpath,
    ]
    if not (data_dir / "logs" / "meta.properties").exists():
        cluster_id = data_dir / "cluster-id"
        if not cluster_id.exists():
            cluster_id.write_text(_kafka_cluster_id())
        subprocess.run(
            [
                *java,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id.read_text().strip(),
                "-c",
                str(props),
                "--ignore-formatted",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    popen = subprocess.Popen(
        [*java, "kafka.Kafka", str(props)], stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
    )
    bootstrap = f"127.0.0.1:{port}"
    return _started(Process("kafka", popen), lambda: kafka_ready(bootstrap), "Kafka", 90)


def _started(proc: Process, ready, what: str, deadline_s: float) -> Process:
    """`proc` once `ready`; stopped if the wait ends any other way (an error, Ctrl-C), never left behind."""
    try:
        _wait_until(ready, what, deadline_s, proc.popen)
    except BaseException:
        proc.stop()
        raise
    return proc


def _kafka_cluster_id() -> str:
    import base64

    # Like Kafka's own Uuid: base64url without padding, never starting with "-" (a command-line flag).
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))[0] == "-":
        pass
    return cluster_id


# SecantusDB's Rust server, built once from crates.io by `make secantusd` and cached outside the work tree.
SECANTUSD_VERSION = "0.5.3-beta.196"
SECANTUSD_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "akkoord" / f"secantusd-{SECANTUSD_VERSION}"
)
MONGODB_CACHE_SIZE = os.environ.get("AKKOORD_MONGODB_CACHE_SIZE", "512M")


def secantusd_rs() -> Path:
    return SECANTUSD_CACHE / "bin" / "secantusd-rs"


def mongo_server() -> str:
    """Which local MongoDB-protocol server runs: `rust` (secantusd-rs, the default where it is built) or
    `python` (SecantusDB's Python server, the fallback where cargo is missing); AKKOORD_MONGODB_SERVER picks."""
    chosen = os.environ.get("AKKOORD_MONGODB_SERVER", "").strip().lower()
    if chosen not in ("", "rust", "python"):
        raise InfraError(f"AKKOORD_MONGODB_SERVER must be 'rust' or 'python', not {chosen!r}")
    if chosen == "rust" and not secantusd_rs().exists():
        raise InfraError(f"AKKOORD_MONGODB_SERVER=rust but {secantusd_rs()} is not built: run `make secantusd`")
    return chosen or ("rust" if secantusd_rs().exists() else "python")


def start_mongo(data_dir: Path, port: int, log_file=None) -> Process:
    data_dir.mkdir(parents=True, exist_ok=True)
    server = mongo_server()
    daemon = secantusd_rs() if server == "rust" else Path(sys.executable).with_name("secantusd-py")
    popen = subprocess.Popen(
        [
            str(daemon),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            str(data_dir),
            "--cache-size",
            MONGODB_CACHE_SIZE,
            "--log-level",
            "WARNING",
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return _started(
        Process("mongodb", popen), lambda: mongo_ready(mongo_uri(port)), f"SecantusDB ({server} server)", 60
    )


def mongo_uri(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


@dataclass
class Infra:
    kafka_bootstrap: str
    mongodb_uri: str
    processes: list[Process] = field(default_factory=list)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()


def start(data_dir: Path, kafka_port: int, mongo_port: int, log_file=None) -> Infra:
    """Start what the environment does not already provide."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    uri = os.environ.get("MONGODB_URI")
    infra = Infra(kafka_bootstrap=bootstrap or f"127.0.0.1:{kafka_port}", mongodb_uri=uri or mongo_uri(mongo_port))
    try:
        if not uri:
            if port_is_taken(mongo_port):
                raise InfraError(f"port {mongo_port} is taken: is another Akkoord (make run) already running?")
            infra.processes.append(start_mongo(data_dir / "mongodb", mongo_port, log_file))
        if not bootstrap:
            if port_is_taken(kafka_port):
                raise InfraError(f"port {kafka_port} is taken: is another Akkoord (make run) already running?")
            infra.processes.append(start_kafka(data_dir / "kafka", kafka_port, log_file))
    except BaseException:
        infra.stop()
        raise
    return infra


@contextmanager
def running(data_dir: Path, kafka_port: int, mongo_port: int, log_file=None) -> Iterator[Infra]:
    infra = start(data_dir, kafka_port, mongo_port, log_file)
    try:
        yield infra
    finally:
        infra.stop()
