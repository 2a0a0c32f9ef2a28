"""Fuzz the public HTTP APIs from their own OpenAPI documents (schemathesis): no request gets a 5xx.

Every operation of the staff APIs (with a staff key) and of the portal's JSON API (with a session
cookie and the CSRF header) gets a bounded number of generated requests, valid and invalid ones,
some aimed at ids that exist so the fuzzing reaches past the 404. Runs are derandomized, so a
failure found in CI is found again locally. The fuzzing uses a tenant of its own: the rules and
keys it invents never reach another test's tenant.
"""

from __future__ import annotations

import os
from collections import Counter

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.e2e.conftest import new_tenant
from tests.support.magic_link import open_link
from tests.support.waiting import eventually

# The first test also pays for starting the services.
pytestmark = pytest.mark.timeout(600)
# Enough to stay near a minute in `make test`; set AKKOORD_FUZZ_EXAMPLES higher to dig deeper locally.
EXAMPLES_PER_OPERATION = int(os.environ.get("AKKOORD_FUZZ_EXAMPLES", "10"))
STAFF_APIS = ("tasks", "timeline", "automation", "documents", "signing")
# Logging in and out would spend the login rate limit of the loopback address (that other tests
# share) or end the fuzzing session; the HTML pages are not an API.
PORTAL_PATHS = ("/api/v1/", "/actions/{action_id}/")


def _contact_with_open_action(staff: httpx.Client, tasks_url: str, name: str) -> dict[str, str]:
    contact = staff.post(f"{tasks_url}/v1/contacts", json={"name": name, "email": "fuzz@example.nl"})
    assert contact.status_code == 201, contact.text
    contact_id = contact.json()["id"]
    task = staff.post(
        f"{tasks_url}/v1/tasks", json={"title": "Fuzz", "phase": "Waiting for approval", "contact_id": contact_id}
    )
    assert task.status_code == 201, task.text
    action = staff.post(
        f"{tasks_url}/v1/tasks/{task.json()['id']}/actions",
        json={
            "contact_id": contact_id,
            "kind": "sign_task",
            "fields": [{"name": "full_name", "label": "Name", "required": True}],
        },
    )
    assert action.status_code == 201, action.text
    return {"contact_id": contact_id, "task_id": task.json()["id"], "action_id": action.json()["id"]}


@pytest.fixture(scope="module")
async def fuzz_tenant(running):
    """A tenant with real ids to aim at, and a portal session of a contact whose ids the fuzzer never
    learns: a staff call it invents (a new link, an archived contact) cannot end that session."""
    tenant = new_tenant(running, "Fuzz BV")
    urls = {name: proc.url for name, proc in running.running.items()}
    with httpx.Client(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=10) as staff:
        ids = _contact_with_open_action(staff, urls["tasks"], "Fenna Fuzz")
        rule = staff.post(
            f"{urls['automation']}/v1/rules",
            json={
                "name": "Fuzz rule",
                "trigger": "task.signed",
                "conditions": [],
                "actions": [{"type": "set_phase", "phase": "Approved"}],
            },
        )
        assert rule.status_code == 201, rule.text
        ids["rule_id"] = rule.json()["id"]
        customer_ids = _contact_with_open_action(staff, urls["tasks"], "Karel Klant")
        link = staff.post(f"{urls['tasks']}/v1/contacts/{customer_ids['contact_id']}/portal-links").json()["url"]
    async with httpx.AsyncClient(timeout=10) as customer:
        r = await open_link(customer, link)
        assert r.status_code in (302, 303), r.text

        async def action_is_open():
            r = await customer.get(f"{urls['portal']}/api/v1/actions/{customer_ids['action_id']}")
            return r.status_code == 200

        await eventually(action_is_open, what="the open action in the portal")
        csrf = (await customer.get(f"{urls['portal']}/api/v1/session")).json()["csrf_token"]
        session = dict(customer.cookies), csrf
    return tenant, ids, customer_ids, session


def _operations(ops_url: str, keep):
    raw = httpx.get(f"{ops_url}/openapi.json", timeout=10).json()  # served on the operations port only
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if keep(op.path)]


def _fuzz(operation, ids: dict[str, str], call, statuses: Counter) -> list[str]:
    """Run the generated cases of one operation; the 5xx responses found, as curl commands."""
    known = {name: ids[name] for name in ids if "{" + name + "}" in operation.path}
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if known:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(*strategies))
    def run(case):
        response = call(case)
        statuses[response.status_code // 100 * 100] += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {case.as_curl_command()}\n{response.text[:500]}")

    run()
    return failures


@pytest.mark.parametrize("service", STAFF_APIS)
def test_no_generated_request_to_a_staff_api_gets_a_server_error(running, fuzz_tenant, service):
    tenant, ids, _, _ = fuzz_tenant
    url = running.running[service].url
    headers = {"Authorization": f"Bearer {tenant['staff_key']}"}
    operations = _operations(
        running.running[service].ops_url, keep=lambda path: not path.startswith(("/healthz", "/readyz"))
    )
    assert operations, f"{service} documents no operation"
    statuses: Counter = Counter()
    failures = [
        f
        for op in operations
        for f in _fuzz(op, ids, lambda case: case.call(base_url=url, headers=headers, timeout=10), statuses)
    ]
    assert failures == [], "\n\n".join(failures)
    print(service, dict(statuses))
    assert statuses[200] > 0, f"nothing got past the staff key check: {statuses}"


def test_no_generated_request_to_the_portal_api_gets_a_server_error(running, fuzz_tenant):
    _, _, ids, (cookies, csrf) = fuzz_tenant
    url = running.running["portal"].url
    operations = _operations(running.running["portal"].ops_url, keep=lambda path: path.startswith(PORTAL_PATHS))
    assert any(op.path == "/api/v1/actions/{action_id}/signature" for op in operations)
    statuses: Counter = Counter()
    failures = [
        f
        for op in operations
        for f in _fuzz(
            op,
            ids,
            lambda case: case.call(base_url=url, headers={"X-CSRF-Token": csrf}, cookies=cookies, timeout=10),
            statuses,
        )
    ]
    assert failures == [], "\n\n".join(failures)
    print("portal", dict(statuses))
    assert statuses[200] > 0, f"nothing got past the session check: {statuses}"
