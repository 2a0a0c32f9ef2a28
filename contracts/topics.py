"""Kafka topic and consumer-group names: the only place they are spelled out."""

TASKS_EVENTS = "tasks.events"
TASKS_COMMANDS = "tasks.commands"
PORTAL_EVENTS = "portal.events"
DOCUMENTS_EVENTS = "documents.events"
SIGNING_EVENTS = "signing.events"
AUTOMATION_EVENTS = "automation.events"  # what rules did beyond commands (e.g. a staff timeline note)

# The order in which timeline appended entries to each task's hash chain: timeline's own log, which only
# its rebuild reads (so it is not one of the event topics that timeline and webhooks consume).
TIMELINE_CHAIN = "timeline.chain"

EVENT_TOPICS = (TASKS_EVENTS, PORTAL_EVENTS, DOCUMENTS_EVENTS, SIGNING_EVENTS, AUTOMATION_EVENTS)
ALL_TOPICS = (*EVENT_TOPICS, TASKS_COMMANDS, TIMELINE_CHAIN)


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


class Groups:
    TASKS = "akkoord.tasks"
    PORTAL = "akkoord.portal"
    DOCUMENTS = "akkoord.documents"
    SIGNING = "akkoord.signing"
    TIMELINE = "akkoord.timeline"
    AUTOMATION = "akkoord.automation"
    AUTOMATION_WEBHOOKS = "akkoord.automation.webhooks"
    NOTIFICATIONS = "akkoord.notifications"

    @staticmethod
    def staff_keys(service: str) -> str:
        """Each staff-facing service keeps its own projection of tasks' API keys."""
        return f"akkoord.{service}.staff-keys"
