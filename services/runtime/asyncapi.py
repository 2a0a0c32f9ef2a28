"""A service's AsyncAPI document: faststream's channels for what it consumes, channels for the topics it
publishes, and the JSON Schema of every message on them (from contracts/), so that a consumer of our topics
can generate code from it."""

from __future__ import annotations

from typing import Any

from faststream.specification import AsyncAPI
from pydantic.json_schema import models_json_schema

from contracts import Envelope
from contracts.messages import messages, topic_of, type_name
from services.runtime.service import Service

REF = "#/components/schemas/{model}"


def document(service: Service[Any]) -> dict[str, Any]:
    runtime = service.runtime
    spec: dict[str, Any] = (
        AsyncAPI(runtime.broker, title=f"akkoord-{runtime.name}", version="1.0.0").to_specification().to_jsonable()
    )
    channels, operations = spec.setdefault("channels", {}), spec.setdefault("operations", {})
    used: set[type[Envelope]] = set()

    def refs(classes: list[type[Envelope]]) -> dict[str, Any]:
        used.update(classes)
        return {type_name(c): {"$ref": f"#/components/messages/{type_name(c)}"} for c in classes}

    for consumer in service.consumers:
        title = f"{consumer.group}:{','.join(consumer.topics)}"
        for key, channel in channels.items():
            if key != title and not key.startswith(f"{title}:"):
                continue
            channel["messages"] = refs([c for c in consumer.handlers if topic_of(c) == channel["address"]])
            for operation in operations.values():
                if operation.get("channel", {}).get("$ref") == f"#/channels/{_escaped(key)}":
                    operation["messages"] = [
                        {"$ref": f"#/channels/{_escaped(key)}/messages/{name}"} for name in channel["messages"]
                    ]
    for topic in service.publishes:
        key = f"{runtime.name}:publishes:{topic}"
        channels[key] = {
            "address": topic,
            "description": f"What {runtime.name} publishes on {topic}.",
            "messages": refs(list(messages(topics=(topic,)))),
        }
        operations[f"{key}:send"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_escaped(key)}"},
            "messages": [{"$ref": f"#/channels/{_escaped(key)}/messages/{name}"} for name in channels[key]["messages"]],
        }
    ordered = sorted(used, key=type_name)
    _, schemas = models_json_schema([(c, "serialization") for c in ordered], ref_template=REF)
    components = spec.setdefault("components", {})
    components["schemas"] = schemas.get("$defs", {})
    components["messages"] = {
        type_name(c): {
            "name": type_name(c),
            "title": c.__name__,
            "contentType": "application/json",
            "summary": (c.__doc__ or "").strip().splitlines()[0] if c.__doc__ else type_name(c),
            "payload": {"$ref": REF.format(model=c.__name__)},
        }
        for c in ordered
    }
    return spec


def _escaped(key: str) -> str:
    # A channel key inside a JSON pointer: '~' and '/' are escaped (RFC 6901); faststream escapes ',' too.
    return key.replace("~", "~0").replace("/", "~1").replace(",", "%2C")
