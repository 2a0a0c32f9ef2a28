"""The portal's server-rendered pages against the real broker and database."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import httpx
from PIL import Image, ImageDraw

from contracts.messages import TaskUpdated, TenantRegistered
from contracts.models import TaskSnapshot
from contracts.topics import TASKS_EVENTS
from tests.integration.portal_steps import (
    blank_png,
    csrf,
    given_open_action,
    link_token,
    open_actions,
    png_with_ink,
    portal,
    portal_events,
    sign_body,
    signed_in,
)
from tests.support.bus import publish
from tests.support.magic_link import open_link
from tests.support.waiting import eventually

__all__ = ["portal"]  # the module-scoped fixture

SCRIPT = "<script>alert('x')</script>"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def test_my_tasks_shows_open_actions_with_sign_buttons_under_a_strict_csp(infra, portal):
    task = await given_open_action(infra, title="Paint the fence")
    doc = await given_open_action(
        infra,
        tenant_id=task["tenant_id"],
        contact_id=task["contact_id"],
        kind="sign_document",
        digest="d" * 64,
        title="Work order",
    )
    async with signed_in(portal, task["tenant_id"], task["contact_id"]) as client:
        await eventually(lambda: _count(client, 2), what="both open actions")
        page = await client.get("/")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    # real buttons (Space activates them, as it does not a link), each described by its card's heading
    assert (
        f'<form method="get" action="/actions/{task["action_id"]}/sign"><button type="submit" class="button" '
        f'aria-describedby="card-{task["action_id"]}">Sign</button></form>' in page.text
    )
    assert (
        f'<form method="get" action="/actions/{doc["action_id"]}/sign"><button type="submit" '
        f'class="button primary" aria-describedby="card-{doc["action_id"]}">Sign document</button>' in page.text
    )
    assert "Open actions" in page.text


async def _count(client, n: int) -> bool:
    return len(await open_actions(client)) == n


async def test_script_in_a_field_stays_text_on_the_page(infra, portal):
    given = await given_open_action(infra, title=SCRIPT, description=SCRIPT)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        for path in ("/", f"/tasks/{given['task_id']}", f"/actions/{given['action_id']}/sign"):
            page = await client.get(path)
            assert page.status_code == 200
            assert SCRIPT not in page.text and "&lt;script&gt;" in page.text
        # A submitted value comes back escaped too (the form is re-shown because the name is missing).
        sign_page = await client.get(f"/actions/{given['action_id']}/sign")
        refused = await client.post(
            f"/actions/{given['action_id']}/sign",
            data={"csrf_token": csrf_of(sign_page.text), "field.approved_by": SCRIPT, "consent": "yes"},
        )
    assert refused.status_code == 422
    assert SCRIPT not in refused.text and "&lt;script&gt;" in refused.text
    assert 'aria-invalid="true"' in refused.text


async def test_signing_through_the_form_with_a_typed_name_shows_the_confirmation(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        form = await client.get(f"/actions/{given['action_id']}/sign")
        assert 'for="typed_name"' in form.text and 'for="consent"' in form.text and 'for="f-approved_by"' in form.text
        response = await client.post(
            f"/actions/{given['action_id']}/sign",
            data={
                "csrf_token": csrf_of(form.text),
                "field.approved_by": "Jan",
                "typed_name": "Jan de Vries",
                "consent": "yes",
            },
        )
        assert response.status_code == 303
        confirmation = await client.get(response.headers["location"])
        assert "Your signature has been recorded" in confirmation.text
        assert await open_actions(client) == []
    [event] = await eventually(lambda: portal_events(infra, "task.signed", given["action_id"]), what="task.signed")
    assert event["payload"]["signature"]["kind"] == "typed"


async def test_a_form_post_without_the_csrf_token_is_forbidden(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        response = await client.post(
            f"/actions/{given['action_id']}/sign",
            data={"field.approved_by": "Jan", "typed_name": "Jan", "consent": "yes"},
        )
        assert response.status_code == 403
        assert len(await open_actions(client)) == 1


async def test_declining_through_the_form_needs_a_reason(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        form = await client.get(f"/actions/{given['action_id']}/decline")
        url = f"/actions/{given['action_id']}/decline"
        empty = await client.post(url, data={"csrf_token": csrf_of(form.text), "reason": " "})
        assert empty.status_code == 422 and 'id="reason-error"' in empty.text
        done = await client.post(url, data={"csrf_token": csrf_of(form.text), "reason": "The fence is green"})
        assert done.status_code == 303
        assert "We have let the team know" in (await client.get(done.headers["location"])).text
    await eventually(lambda: portal_events(infra, "action.declined", given["action_id"]), what="action.declined")


async def test_an_actions_forms_need_a_session_lead_to_its_task_once_closed_and_are_not_found_for_unknown_ids(
    infra, portal
):
    given = await given_open_action(infra)
    # Without a session, neither form is shown
    async with httpx.AsyncClient(base_url=portal.url, timeout=10) as anonymous:
        for verb in ("sign", "decline"):
            assert (await anonymous.get(f"/actions/{given['action_id']}/{verb}")).status_code == 401
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        # Given the contact declined the action
        form = await client.get(f"/actions/{given['action_id']}/decline")
        declined = await client.post(
            f"/actions/{given['action_id']}/decline", data={"csrf_token": csrf_of(form.text), "reason": "Not now"}
        )
        assert declined.status_code == 303
        await eventually(lambda: _count(client, 0), what="no open action")
        for verb in ("sign", "decline"):
            # When either form of the closed action is asked for, then it leads to the task instead
            closed = await client.get(f"/actions/{given['action_id']}/{verb}")
            assert closed.status_code == 303 and closed.headers["location"] == f"/tasks/{given['task_id']}"
            # and an action id the contact does not have is not found
            assert (await client.get(f"/actions/no-such-action/{verb}")).status_code == 404


async def test_the_portal_speaks_the_contacts_language_and_can_switch(infra, portal):
    given = await given_open_action(infra, language="nl")
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        dutch = await client.get("/")
        assert (
            '<html lang="nl">' in dutch.text and "Mijn taken" in dutch.text and ">Ondertekenen</button>" in dutch.text
        )
        switched = await client.post(
            "/language", data={"csrf_token": csrf_of(dutch.text), "language": "en", "back": "/"}
        )
        assert switched.status_code == 303
        english = await client.get("/")
        assert '<html lang="en">' in english.text and "My tasks" in english.text


async def test_without_a_session_the_pages_ask_for_the_link(portal):
    page = httpx.get(f"{portal.url}/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 401 and "open the link from your email" in page.text
    assert "content-security-policy" in page.headers


async def test_an_uploaded_picture_of_a_signature_can_be_used_and_a_blank_one_is_refused(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        form = await client.get(f"/actions/{given['action_id']}/sign")
        data = {"csrf_token": csrf_of(form.text), "field.approved_by": "Jan", "consent": "yes"}
        url = f"/actions/{given['action_id']}/sign"
        blank = await client.post(url, data=data, files={"signature_file": ("s.png", _png(ink=False), "image/png")})
        assert blank.status_code == 422 and "This picture cannot be used" in blank.text
        done = await client.post(url, data=data, files={"signature_file": ("s.png", _png(ink=True), "image/png")})
        assert done.status_code == 303
    [event] = await eventually(lambda: portal_events(infra, "task.signed", given["action_id"]), what="task.signed")
    assert event["payload"]["signature"]["kind"] == "uploaded"


def _png(ink: bool) -> bytes:
    image = Image.new("RGBA", (240, 80), (255, 255, 255, 0))
    if ink:
        ImageDraw.Draw(image).line((10, 60, 230, 20), fill=(0, 0, 80, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def test_opening_the_same_link_again_in_the_browser_that_used_it_goes_to_my_tasks(infra, portal):
    given = await given_open_action(infra)
    token = link_token(given["tenant_id"], given["contact_id"])
    async with httpx.AsyncClient(base_url=portal.url) as browser:
        assert (await open_link(browser, f"/login?token={token}")).status_code == 303
        again = await browser.get("/login", params={"token": token})
        assert again.status_code == 303 and again.headers["location"] == "/"
    assert httpx.get(f"{portal.url}/login", params={"token": token}).status_code == 410  # any other browser


async def test_a_used_link_is_explained_in_the_browsers_language_with_a_switch(infra, portal):
    given = await given_open_action(infra, language="nl")
    token = link_token(given["tenant_id"], given["contact_id"])
    async with httpx.AsyncClient(base_url=portal.url) as browser:
        assert (await open_link(browser, f"/login?token={token}")).status_code == 303
    # the contact speaks Dutch, but whoever opens the used link in an English browser reads English
    english = httpx.get(f"{portal.url}/login", params={"token": token}, headers={"Accept-Language": "en-GB,en"})
    assert english.status_code == 410 and '<html lang="en">' in english.text
    assert f'href="/login?token={token}&amp;lang=nl"' in english.text and ">Nederlands</a>" in english.text
    dutch = httpx.get(
        f"{portal.url}/login", params={"token": token, "lang": "nl"}, headers={"Accept-Language": "en-GB,en"}
    )
    assert '<html lang="nl">' in dutch.text


async def test_a_drawing_from_the_form_is_signed_as_drawn_and_an_empty_one_is_refused_at_the_canvas(infra, portal):
    given = await given_open_action(infra)
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        form = await client.get(f"/actions/{given['action_id']}/sign")
        assert 'id="signature-pad"' in form.text and 'src="/static/sign.js"' in form.text
        assert 'value="typed" checked' in form.text  # without script, typing is the default
        url = f"/actions/{given['action_id']}/sign"
        data = {
            "csrf_token": csrf_of(form.text),
            "field.approved_by": "Jan",
            "consent": "yes",
            "signature_kind": "drawn",
            "typed_name": "Jan de Vries",
        }

        # An empty canvas sends no image; a blank PNG (a canvas exported untouched) is refused just the same.
        for drawn in ("", "data:image/png;base64," + blank_png()):
            refused = await client.post(url, data={**data, "signature_drawn": drawn})
            assert refused.status_code == 422
            assert 'id="typed_name-error"' not in refused.text  # the error is at the canvas, not the name
            assert 'id="signature-pad-error">Please draw your signature in the box' in refused.text
            assert 'aria-describedby="signature-pad-hint signature-pad-error" aria-invalid="true"' in refused.text
            # the summary leads to the typed-name option: the canvas takes no keyboard input
            assert 'href="#kind-typed"' in refused.text and 'value="drawn" checked' in refused.text
        assert await portal_events(infra, "task.signed", given["action_id"]) == []

        # Another field's error keeps a good drawing, to be put back on the canvas.
        drawing = "data:image/png;base64," + png_with_ink()
        kept = await client.post(url, data={**data, "consent": "", "signature_drawn": drawing})
        assert kept.status_code == 422 and f'value="{drawing}"' in kept.text

        done = await client.post(url, data={**data, "signature_drawn": drawing})
        assert done.status_code == 303
    [event] = await eventually(lambda: portal_events(infra, "task.signed", given["action_id"]), what="task.signed")
    assert event["payload"]["signature"]["kind"] == "drawn"


def digest_of(html: str) -> str:
    return re.search(r'name="task_digest" value="([^"]+)"', html).group(1)


async def test_a_task_that_changed_after_the_form_was_shown_must_be_reviewed_again(infra, portal):
    # Given a Dutch contact looking at the signing form of a task
    given = await given_open_action(infra, language="nl", title="Dak vervangen", description="Heel het dak")
    async with signed_in(portal, given["tenant_id"], given["contact_id"]) as client:
        await eventually(lambda: open_actions(client), what="the open action")
        form = await client.get(f"/actions/{given['action_id']}/sign")
        shown = digest_of(form.text)
        # When staff change the task's description before the contact submits
        await publish(
            infra.kafka_bootstrap,
            TASKS_EVENTS,
            TaskUpdated(
                tenant_id=given["tenant_id"],
                task_id=given["task_id"],
                payload={
                    "task": TaskSnapshot(
                        task_id=given["task_id"],
                        title="Dak vervangen",
                        description="Alleen de voorkant",
                        phase="Waiting for approval",
                        contact_id=given["contact_id"],
                    )
                },
            ),
        )

        async def changed():
            return (await client.get(f"/api/v1/tasks/{given['task_id']}")).json()["description"] == "Alleen de voorkant"

        await eventually(changed, what="the change in the portal")
        submitted = await client.post(
            f"/actions/{given['action_id']}/sign",
            data={
                "csrf_token": csrf_of(form.text),
                "task_digest": shown,
                "field.approved_by": "Jan",
                "typed_name": "Jan de Vries",
                "consent": "yes",
            },
        )
        # Then the approval is refused in their language, and the form shows the new content to review
        assert submitted.status_code == 409
        assert "Deze taak is gewijzigd, bekijk hem opnieuw." in submitted.text
        assert "Alleen de voorkant" in submitted.text and digest_of(submitted.text) != shown
        assert await portal_events(infra, "task.signed", given["action_id"]) == []
        # And the API says the same in English, then signs the content shown now, which the evidence records
        action = (await client.get(f"/api/v1/actions/{given['action_id']}")).json()
        stale = await client.post(
            f"/api/v1/actions/{given['action_id']}/signature",
            json=sign_body(task_digest=shown),
            headers=await csrf(client),
        )
        assert stale.status_code == 409 and stale.json()["code"] == "task_changed"
        assert stale.json()["detail"] == "This task changed, please review it again."
        signed = await client.post(
            f"/api/v1/actions/{given['action_id']}/signature",
            json=sign_body(task_digest=action["task_digest"]),
            headers=await csrf(client),
        )
        assert signed.status_code == 201
    [event] = await eventually(lambda: portal_events(infra, "task.signed", given["action_id"]), what="task.signed")
    assert event["payload"]["evidence"]["task_digest"] == action["task_digest"] == digest_of(submitted.text)


async def test_the_sign_in_confirmation_can_be_read_in_the_other_language_without_using_the_link(infra, portal):
    given = await given_open_action(infra, language="nl")
    token = link_token(given["tenant_id"], given["contact_id"])
    async with httpx.AsyncClient(base_url=portal.url) as browser:
        dutch = await browser.get("/login", params={"token": token})
        assert '<html lang="nl">' in dutch.text and f'href="/login?token={token}&amp;lang=en"' in dutch.text
        english = await browser.get("/login", params={"token": token, "lang": "en"})
        assert english.status_code == 200 and '<html lang="en">' in english.text and ">Nederlands</a>" in english.text
        # and the link still works: reading it in either language used nothing
        assert (await open_link(browser, f"/login?token={token}")).status_code == 303


async def test_times_show_in_the_tenants_time_zone_and_in_the_configured_zone_while_the_portal_knows_none(
    infra, portal
):
    # Given a tenant in New York, as tasks registered it, and a tenant the portal has not heard of
    deadline = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
    in_new_york = await given_open_action(infra, title="Fix the porch", expires_at=deadline)
    await publish(
        infra.kafka_bootstrap,
        TASKS_EVENTS,
        TenantRegistered(
            tenant_id=in_new_york["tenant_id"],
            payload={"name": "Porch & Co", "plan": "basic", "time_zone": "America/New_York"},
        ),
    )
    unknown = await given_open_action(infra, title="Fix the gate", expires_at=deadline)

    # When each tenant's contact reads their open action's deadline
    async with signed_in(portal, in_new_york["tenant_id"], in_new_york["contact_id"]) as client:

        async def in_their_zone():
            page = await client.get("/")
            return page.text if "15 January 2030, 07:00 EST" in page.text else None

        # Then the New Yorker reads it in New York time (noon UTC is 07:00 there)
        page = await eventually(in_their_zone, what="the deadline in the tenant's zone")
        assert "13:00" not in page
    async with signed_in(portal, unknown["tenant_id"], unknown["contact_id"]) as client:
        await eventually(lambda: _count(client, 1), what="the other tenant's open action")
        other = (await client.get("/")).text
    # And the other contact reads it in the portal's display zone (PORTAL_DISPLAY_TIMEZONE, Europe/Amsterdam)
    assert "15 January 2030, 13:00 CET" in other
