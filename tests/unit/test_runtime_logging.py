"""Logs stay readable while the broker is away: aiokafka's reconnect errors are throttled, nothing else is."""

from __future__ import annotations

import logging

import pytest
from aiokafka.errors import LeaderNotAvailableError, NotLeaderForPartitionError, TopicAuthorizationFailedError

from services.runtime.telemetry import SettlingMetadata, Throttle

pytestmark = pytest.mark.unit


def record(name: str, msg: str, *args) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_repeated_reconnect_errors_show_once_per_period_with_the_count_held_back():
    # given a throttle of one line per 30 s
    clock = Clock()
    throttle = Throttle(every=30, clock=clock)
    template = "Unable connect to node with id %s: %s"
    # when aiokafka logs the same failure 50 times within 10 s
    shown = []
    for i in range(50):
        clock.now = i * 0.2
        r = record("aiokafka.client", template, 1, "Connection refused")
        if throttle.filter(r):
            shown.append(r.getMessage())
    # then only the first one is shown
    assert shown == ["Unable connect to node with id 1: Connection refused"]
    # and the next one after the period says how many were held back
    clock.now = 40
    r = record("aiokafka.client", template, 1, "Connection refused")
    assert throttle.filter(r)
    assert r.getMessage() == "Unable connect to node with id 1: Connection refused (49 more like this in the last 40 s)"


def test_other_loggers_and_other_aiokafka_messages_are_never_held_back():
    throttle = Throttle(every=30, clock=Clock())
    assert all(throttle.filter(record("akkoord.timeline", "entry %s", i)) for i in range(5))
    assert throttle.filter(record("aiokafka.client", "Unable connect to node with id %s: %s", 1, "x"))
    assert throttle.filter(record("aiokafka.consumer", "Heartbeat failed for group %s", "g"))


def test_a_partition_leader_still_settling_is_logged_as_a_warning_and_other_kafka_errors_stay_errors():
    settling = SettlingMetadata()
    template = "Failed fetch offsets from %s: %s"
    not_leader = record("aiokafka.consumer.fetcher", template, 1, NotLeaderForPartitionError())
    assert settling.filter(not_leader) and not_leader.levelname == "WARNING"
    assert not_leader.getMessage().startswith("Failed fetch offsets from 1: [Error 6] NotLeaderForPartitionError")
    no_leader = record("aiokafka.consumer.fetcher", template, 1, LeaderNotAvailableError())
    assert settling.filter(no_leader) and no_leader.levelno == logging.WARNING
    # an error that is not about moving leadership, or not aiokafka's, keeps its level
    denied = record("aiokafka.consumer.fetcher", template, 1, TopicAuthorizationFailedError())
    ours = record("akkoord.tasks", "handler failed: %s", NotLeaderForPartitionError())
    assert settling.filter(denied) and settling.filter(ours)
    assert denied.levelname == ours.levelname == "ERROR"
