"""A message whose handling kills the process is dead-lettered after the bounded attempts, across restarts."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

from contracts.topics import dlq
from deploy.local.infra import free_port
from tests.integration.runtime_kit import task_created
from tests.support.bus import publish, read_all
from tests.support.crashing_service import POISON
from tests.support.transactions import transaction_lifetime
from tests.support.waiting import eventually

MAX_ATTEMPTS = 2


async def test_a_message_that_kills_its_process_lands_in_the_dlq_after_the_bounded_attempts(infra, tmp_path):
    # given a topic with an innocent message, a poison that ends its consumer's process, and another innocent one
    topic, group = f"test-crash-{uuid.uuid4().hex}", f"test-crash-{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        # (its DLQ too, as ensure_topics declares every DLQ: reading a topic that does not exist yet waits)
        await admin.create_topics([NewTopic(topic, 1, 1), NewTopic(dlq(topic), 1, 1)])
    finally:
        await admin.close()
    tenant = uuid.uuid4().hex
    before, poison, after = task_created(tenant, "fine"), task_created(tenant, POISON), task_created(tenant, "fine")
    await publish(infra.kafka_bootstrap, topic, before, poison, after)
    database = f"crash_{uuid.uuid4().hex[:8]}"
    env = {
        "PATH": "/usr/bin:/bin",
        "AKKOORD_ENV": "development",
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "MONGODB_URI": infra.mongodb_uri,
        "CRASHTEST_TOPIC": topic,
        "CRASHTEST_GROUP": group,
        "CRASHTEST_PORT": str(free_port()),
        "CRASHTEST_OPS_PORT": str(free_port()),
        "CRASHTEST_DATABASE": database,
        "CRASHTEST_CONSUMER_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    }

    async def dead_letters() -> list[dict]:
        return [headers for _, headers in await read_all(infra.kafka_bootstrap, dlq(topic), timeout=20)]

    # when its service runs, and is restarted each time it dies (as the supervisor and Kubernetes do); the
    # transaction a killed process leaves open ends after 10 s instead of the server's 60
    starts, letters, deadline = 0, [], time.monotonic() + 300
    async with transaction_lifetime(infra.mongodb_uri, 10):
        with open(tmp_path / "crashtest.log", "ab") as log:
            process = None
            try:
                while time.monotonic() < deadline:
                    if process is None or process.poll() is not None:
                        starts += 1
                        assert starts <= MAX_ATTEMPTS + 3, f"still dying after {starts - 1} restarts"
                        process = subprocess.Popen(
                            [sys.executable, "-m", "tests.support.crashing_service"],
                            env=env,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    try:
                        process.wait(2)
                        continue  # died: start it again
                    except subprocess.TimeoutExpired:
                        pass
                    if letters := await dead_letters():
                        break
                # then the poison is in the DLQ, saying the process ended while handling it
                assert letters, (tmp_path / "crashtest.log").read_text()[-3000:]
                [letter] = letters
                assert letter["group"] == group
                assert poison.event_id in letter["error"] and "the process ended while handling it" in letter["error"]
                # and it died no more often than the bounded attempts allow
                assert 2 <= starts <= MAX_ATTEMPTS + 2
                # and the messages around it were handled, by a process that now stays up
                client = AsyncMongoClient(infra.mongodb_uri)
                try:

                    async def handled() -> set[str]:
                        return {d["_id"] for d in await client[database]["effects"].find().to_list(None)}

                    assert await eventually(handled, timeout=30, what="the innocent messages handled") == {
                        before.event_id,
                        after.event_id,
                    }
                finally:
                    await client.close()
                assert process.poll() is None
                assert httpx.get(f"http://127.0.0.1:{env['CRASHTEST_PORT']}/healthz").status_code == 200
            finally:
                if process is not None and process.poll() is None:
                    process.terminate()
                    process.wait(15)
