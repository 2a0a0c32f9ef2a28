"""One customer's click is one trace through every service it touches.

The services run as processes of their own, so the test receives their spans the way a collector
would: an OTLP/HTTP receiver on loopback decodes the `ExportTraceServiceRequest`s that each
service's exporter sends to `$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces`. The traced services get a
broker and a database of their own: sharing the e2e stack's consumer groups would split the
messages between two sets of processes, only one of which exports spans.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

from contracts.topics import Groups
from deploy.local import infra as local_infra
from deploy.local.infra import free_port
from tests.e2e.conftest import new_tenant
from tests.support.magic_link import open_link
from tests.support.stack import SERVICES, Stack
from tests.support.story import RULE, drawn_signature_png
from tests.support.waiting import eventually

# The first test also pays for starting the services (and here a broker and database of its own).
pytestmark = pytest.mark.timeout(600)
SIGN_ROUTE = "POST /api/v1/actions/{action_id}/signature"
TASK_ROUTE = "GET /api/v1/tasks/{task_id}"
TIMELINE_READ_ROUTE = "GET /internal/v1/tasks/{task_id}/timeline"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: str
    attributes: dict

    def __str__(self) -> str:
        return f"{self.service}: {self.name} ({self.kind}) {self.span_id} <- {self.parent_id or '-'}"


class OtlpReceiver:
    """A minimal OTLP/HTTP trace collector: it keeps every span it is sent."""

    def __init__(self):
        self.spans: list[ReceivedSpan] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver.add(ExportTraceServiceRequest.FromString(body))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, request: ExportTraceServiceRequest) -> None:
        received = []
        for resource_spans in request.resource_spans:
            service = next(
                (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), "?"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {
                        a.key: (a.value.string_value or a.value.int_value or a.value.bool_value)
                        for a in span.attributes
                    }
                    received.append(
                        ReceivedSpan(
                            service,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                            span.name,
                            SpanProto.SpanKind.Name(span.kind),
                            attributes,
                        )
                    )
        with self.lock:
            self.spans.extend(received)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def find(self, service: str, name: str) -> list[ReceivedSpan]:
        with self.lock:
            return [s for s in self.spans if s.service == service and s.name == name]


@pytest.fixture(scope="module")
def receiver():
    receiver = OtlpReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def traced(receiver, smtp, tmp_path_factory):
    """Every service exporting their spans to the receiver, on a broker and database of their own."""
    workdir = tmp_path_factory.mktemp("traced")
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }  # milliseconds: spans reach the receiver within moments
    with (
        open(workdir / "infra.log", "ab") as log,
        local_infra.running(workdir, free_port(), free_port(), log_file=log) as infra,
    ):
        stack = Stack(infra=infra, workdir=workdir, smtp=smtp)
        try:
            for name in SERVICES:
                stack.start(name, extra_env=env)
            yield stack
        finally:
            stack.stop_all()


def _ancestors(span: ReceivedSpan, spans: list[ReceivedSpan]) -> set[str]:
    by_id = {s.span_id: s for s in spans}
    found = set()
    while span.parent_id in by_id:
        found.add(span.parent_id)
        span = by_id[span.parent_id]
    return found


def _process_span(service: str, topic: str) -> str:
    return f"akkoord-{service}: {topic} process"


def _group_span(spans: list[ReceivedSpan], service: str, topic: str, group: str) -> ReceivedSpan | None:
    """The span of one consumer group's handling of a message (a service may have several groups on a topic)."""
    return next(
        (
            s
            for s in spans
            if f"{s.service}: {s.name}" == _process_span(service, topic)
            and s.attributes.get("messaging.consumer.group.name") == group
        ),
        None,
    )


@pytest.fixture(scope="module")
async def signed(traced):
    """A customer signed a task through the portal, and the rule moved its phase."""
    urls = {name: proc.url for name, proc in traced.running.items()}
    tenant = new_tenant(traced, "Traced BV")
    staff = httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=10)
    customer = httpx.AsyncClient(timeout=10)

    # Given a rule, and a task waiting for approval with a signature request the customer can see
    assert (await staff.post(f"{urls['automation']}/v1/rules", json=RULE)).status_code == 201
    contact = (
        await staff.post(f"{urls['tasks']}/v1/contacts", json={"name": "Tom Trace", "email": "tom@example.nl"})
    ).json()
    task = (
        await staff.post(
            f"{urls['tasks']}/v1/tasks",
            json={"title": "Ketel vervangen", "phase": "Waiting for approval", "contact_id": contact["id"]},
        )
    ).json()
    action = (
        await staff.post(
            f"{urls['tasks']}/v1/tasks/{task['id']}/actions",
            json={
                "contact_id": contact["id"],
                "kind": "sign_task",
                "fields": [{"name": "full_name", "label": "Name", "required": True}],
            },
        )
    ).json()
    link = (await staff.post(f"{urls['tasks']}/v1/contacts/{contact['id']}/portal-links")).json()
    assert (await open_link(customer, link["url"])).status_code in (302, 303)

    async def action_is_open():
        return (await customer.get(f"{urls['portal']}/api/v1/actions/{action['id']}")).status_code == 200

    await eventually(action_is_open, what="the open action in the portal")
    csrf = (await customer.get(f"{urls['portal']}/api/v1/session")).json()["csrf_token"]

    # When the customer signs it
    r = await customer.post(
        f"{urls['portal']}/api/v1/actions/{action['id']}/signature",
        headers={"X-CSRF-Token": csrf},
        json={
            "fields": {"full_name": "Tom Trace"},
            "consent": True,
            "signature": {"kind": "drawn", "png_base64": drawn_signature_png()},
        },
    )
    assert r.status_code == 201, r.text

    async def approved():
        return (await staff.get(f"{urls['tasks']}/v1/tasks/{task['id']}")).json()["phase"] == "Approved"

    await eventually(approved, timeout=60, what="the phase changed by the rule")
    yield urls, customer, task
    await staff.aclose()
    await customer.aclose()


async def test_one_trace_links_the_portal_signing_to_timeline_automation_and_the_phase_change(signed, receiver):
    # Then the portal request's trace holds tasks accepting the signing, the timeline's, automation's and
    # signing's handling of that acceptance (they act on the signing tasks accepted), tasks applying the phase
    # change, every span linked to its parent
    wanted = {
        _process_span("tasks", "portal.events"),
        _process_span("timeline", "tasks.events"),
        _process_span("automation", "tasks.events"),
        _process_span("tasks", "tasks.commands"),
        _process_span("signing", "tasks.events"),
    }

    async def one_linked_trace():
        requests = receiver.find("akkoord-portal", SIGN_ROUTE)
        assert requests, "the portal's request span was not exported"
        spans = receiver.trace(requests[0].trace_id)
        names = {f"{s.service}: {s.name}" for s in spans}
        ids = {s.span_id for s in spans}
        orphans = [str(s) for s in spans if s.parent_id and s.parent_id not in ids]
        assert wanted <= names and not orphans, (
            f"missing {sorted(wanted - names)}; orphans {orphans}; trace has:\n" + "\n".join(map(str, spans))
        )
        return spans

    spans = await eventually(one_linked_trace, timeout=60, what="one trace through every service")
    roots = [s for s in spans if not s.parent_id]
    assert [(r.service, r.name) for r in roots] == [("akkoord-portal", SIGN_ROUTE)]
    assert {s.service for s in spans} >= {
        f"akkoord-{name}" for name in ("portal", "tasks", "timeline", "automation", "signing")
    }
    # The phase change descends from the rule run, which descends from the customer's request. (Automation's
    # webhook group handles the signing too, under the same span name, and may finish it before or after the
    # rules: the rule run is the span of the rules' group.)
    applied = _group_span(spans, "tasks", "tasks.commands", Groups.TASKS)
    assert applied, "\n".join(map(str, spans))
    rule_runs = [
        s
        for s in spans
        if f"{s.service}: {s.name}" == _process_span("automation", "tasks.events")
        and s.attributes.get("messaging.consumer.group.name") == Groups.AUTOMATION
        and s.span_id in _ancestors(applied, spans)
    ]
    assert rule_runs, "\n".join(map(str, spans))
    assert roots[0].span_id in _ancestors(rule_runs[0], spans)


async def test_the_portal_reading_the_timeline_over_http_is_one_trace(signed, receiver):
    urls, customer, task = signed
    # When the customer opens the task, the portal reads its timeline from the timeline service
    assert (await customer.get(f"{urls['portal']}/api/v1/tasks/{task['id']}")).status_code == 200

    # Then the timeline's request span is a descendant of the portal's (outgoing HTTP carries the context)
    async def linked():
        reads = receiver.find("akkoord-timeline", TIMELINE_READ_ROUTE)
        portal = receiver.find("akkoord-portal", TASK_ROUTE)
        assert reads and portal, "both request spans are exported"
        spans = receiver.trace(portal[-1].trace_id)
        read = next((s for s in spans if s.service == "akkoord-timeline" and s.name == TIMELINE_READ_ROUTE), None)
        assert read, f"the timeline read is not in the portal request's trace: {[str(s) for s in spans]}"
        return portal[-1].span_id in _ancestors(read, spans)

    await eventually(linked, timeout=60, what="the timeline read inside the portal request's trace")
