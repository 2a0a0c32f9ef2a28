"""Test tiers: unit (no I/O), integration and e2e (real Kafka broker and MongoDB-protocol server).

The infrastructure is started once per test session on free loopback ports, with its data in a
temporary directory; when KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI are set, those are used instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.local import infra as local_infra
from deploy.local.infra import free_port
from tests.support.smtp import SmtpServer
from tests.support.stack import Stack

# The tests are a development environment: settings built in this process (unit tests, helpers) may use the
# development placeholders, which an unset AKKOORD_ENV refuses. Services started by tests get it from Stack.env.
os.environ.setdefault("AKKOORD_ENV", "development")


def pytest_collection_modifyitems(items):
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in ("unit", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def infra(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("infra")
    with (
        open(workdir / "infra.log", "ab") as log,
        local_infra.running(workdir, free_port(), free_port(), log_file=log) as running,
    ):
        os.environ.setdefault("AKKOORD_TEST_KAFKA", running.kafka_bootstrap)
        yield running


@pytest.fixture(scope="session")
def smtp():
    """A real SMTP server on loopback that receives every service's mail in this test session."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(infra, smtp, tmp_path_factory):
    stack = Stack(infra=infra, workdir=tmp_path_factory.mktemp("services"), smtp=smtp)
    yield stack
    stack.stop_all()
