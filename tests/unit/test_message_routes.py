"""contracts/ says once where each message travels and what it is; every table of handlers follows it."""

from __future__ import annotations

import pytest

from contracts import messages as m
from contracts.topics import ALL_TOPICS, EVENT_TOPICS, TASKS_COMMANDS
from services.automation.domain import TRIGGERS
from services.automation.webhooks import SUBSCRIBABLE
from services.timeline.entrypoints.subscribers import PROJECTED


def test_every_message_class_has_one_route_on_a_declared_topic():
    assert set(m.ROUTES) == set(m.MESSAGE_TYPES)
    assert {route.topic for route in m.ROUTES.values()} <= set(ALL_TOPICS)
    assert len(m.BY_TYPE) == len(m.MESSAGE_TYPES), "two classes share a type name"


def test_commands_travel_on_the_command_topic_and_events_on_event_topics():
    for message, route in m.ROUTES.items():
        if route.kind is m.Kind.COMMAND:
            assert route.topic == TASKS_COMMANDS, message
        elif route.kind is m.Kind.EVENT:
            assert route.topic in EVENT_TOPICS, message


def test_webhooks_offer_events_only():
    assert "task.change_phase" not in SUBSCRIBABLE and "staff_key.issued" not in SUBSCRIBABLE
    assert SUBSCRIBABLE == {m.type_name(c) for c in m.messages(kinds=(m.Kind.EVENT,))}


def test_timeline_projects_no_command_and_not_its_own_chain_log():
    assert m.ChangeTaskPhase not in PROJECTED and m.RequestTaskAction not in PROJECTED
    assert m.TimelineEntryAppended not in PROJECTED
    assert m.TaskActionCompleted in PROJECTED and m.TimelineNoteAdded in PROJECTED


def test_the_portals_signings_are_projected_only_once_tasks_accepted_them():
    # the proof comes with task.action_completed (which carries the signing); a refused one is signing.rejected
    assert m.TaskSigned not in PROJECTED and m.DocumentSigned not in PROJECTED
    assert m.SigningRejected in PROJECTED


def test_the_portals_declines_are_projected_only_once_tasks_accepted_them():
    # "Declined by" comes with task.action_declined (which carries the decline); a refused one is decline.rejected
    assert m.ActionDeclined not in PROJECTED
    assert m.TaskActionDeclined in PROJECTED and m.DeclineRejected in PROJECTED


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_rule_trigger_is_a_known_event(trigger):
    assert m.ROUTES[m.BY_TYPE[trigger]].kind is m.Kind.EVENT


def test_a_message_knows_its_topic():
    assert m.topic_of(m.TaskSigned) == "portal.events"
    assert m.topics_of([m.SignatureSealed, m.TaskCreated]) == ("tasks.events", "signing.events")
