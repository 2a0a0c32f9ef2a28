"""Every service is built the same way: bootstrap.build(settings, **adapter_overrides) -> Service, kept on
app.state.service, its consumers routing message classes to functions of (message, unit of work)."""

from __future__ import annotations

import importlib
import inspect

import pytest

from contracts import Envelope
from services.runtime.registry import Handlers
from services.runtime.service import Service, UnitOfWork
from tests.support.layout import SERVICES


def built(name: str, **overrides) -> Service:
    settings = importlib.import_module(f"services.{name}.config").Settings()
    return importlib.import_module(f"services.{name}.bootstrap").build(settings, **overrides)


@pytest.mark.parametrize("name", SERVICES)
def test_the_service_is_built_by_bootstrap_build_and_kept_on_the_app_as_service(name):
    service = built(name)
    assert isinstance(service, Service) and isinstance(service.uow, UnitOfWork)
    app = importlib.import_module(f"services.{name}.bootstrap").create_app(service)
    assert app.state.service is service


@pytest.mark.parametrize("name", SERVICES)
def test_an_adapter_is_swapped_by_naming_it(name):
    class Outbox:
        async def transaction(self, work):
            return await work(None)

    fake = Outbox()
    assert built(name, outbox=fake).uow.outbox is fake
    with pytest.raises(TypeError, match="no such adapter"):
        built(name, no_such_adapter=object())


@pytest.mark.parametrize("name", SERVICES)
def test_every_consumer_routes_message_classes_to_functions_of_the_message_and_a_unit_of_work(name):
    module = importlib.import_module(f"services.{name}.entrypoints.subscribers")
    tables = [v for k, v in vars(module).items() if k.isupper() and isinstance(v, Handlers)]
    assert tables, f"services/{name}/entrypoints/subscribers.py declares its handler tables"
    for table in tables:
        for message, handler in table.items():
            assert issubclass(message, Envelope), message
            parameters = list(inspect.signature(handler).parameters)
            assert len(parameters) == 2 and parameters[1] == "uow", handler  # (message, uow)


def json_refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from [value] if key == "$ref" else json_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from json_refs(value)


@pytest.mark.parametrize("name", SERVICES)
def test_the_asyncapi_document_carries_the_schema_of_every_message_it_names(name):
    from urllib.parse import unquote

    from services.runtime.asyncapi import document

    service = built(name)
    importlib.import_module(f"services.{name}.bootstrap").create_app(service)
    spec = document(service)
    messages = spec["components"]["messages"]
    assert messages, "the messages the service reads or writes are described"
    assert all(m["payload"]["$ref"].startswith("#/components/schemas/") for m in messages.values())
    for ref in json_refs(spec):
        node = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[unquote(part).replace("~1", "/").replace("~0", "~")]  # every reference resolves
    published = {ch["address"] for key, ch in spec["channels"].items() if ":publishes:" in key}
    assert published == set(service.publishes)
