"""Signing by drawing: a customer draws with the mouse on the signature_pad canvas in Debian's Chromium, and the
stored image carries the ink; an empty canvas is refused at the canvas; without script the page still signs."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from services.runtime.config import DEV_SECRET
from tests.support.magic_link import press_sign_in
from tests.support.portal_browser import ARTIFACTS, PHONE, a_signature_request, sign_form_ready
from tests.support.waiting import eventually

DESKTOP = {"width": 1280, "height": 800}
INKED_PIXELS = (
    "c => { const a = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
    " for (let i = 3; i < a.length; i += 4) { if (a[i] > 128) n++; } return n > 500 ? n : 0; }"
)
# A hand-like stroke across the box, as fractions of its width and height.
STROKE = [(0.08, 0.65), (0.2, 0.25), (0.3, 0.75), (0.45, 0.3), (0.55, 0.7), (0.7, 0.35), (0.92, 0.55)]


async def open_the_sign_page(page, given: dict, *, script: bool = True) -> None:
    await page.goto(given["link"])
    await press_sign_in(page)
    sign = f'form[action="/actions/{given["action"]["id"]}/sign"] button'

    async def open_action_shown():
        await page.goto(given["portal"] + "/")
        return await page.locator(sign).count() == 1

    await eventually(open_action_shown, what="the open action on My tasks", interval=0.5)
    await page.click(sign)
    if script:
        await sign_form_ready(page)
    else:
        await page.locator("#typed_name").wait_for()


async def draw_a_signature(page) -> None:
    """The mouse pressed, moved across the canvas in small steps, and released: one stroke."""
    canvas = page.locator("#signature-pad")
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    at = [(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy) for fx, fy in STROKE]
    await page.mouse.move(*at[0])
    await page.mouse.down()
    for x, y in at[1:]:
        await page.mouse.move(x, y, steps=15)
    await page.mouse.up()


async def staff_signed_entry(running, tenant, task_id: str) -> dict | None:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {tenant['staff_key']}"}, timeout=10) as staff:
        r = await staff.get(
            f"{running.running['timeline'].url}/v1/tasks/{task_id}/timeline",
            params={"audience": "staff", "kind": "task.signed"},
        )
    assert r.status_code == 200, r.text
    return (r.json()["entries"] or [None])[0]


def stored_signature(running, signature_id: str) -> Image.Image:
    """The image as the portal stored it, read the way Akkoord's own services read it."""
    token = running.env("portal").get("AKKOORD_INTERNAL_TOKEN", DEV_SECRET)
    r = httpx.get(
        f"{running.running['portal'].url}/internal/v1/signatures/{signature_id}",
        headers={"X-Internal-Token": token},
        timeout=10,
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
    return Image.open(io.BytesIO(r.content))


def ink_of(image: Image.Image) -> tuple[int, tuple[int, int, int, int] | None]:
    """How many pixels are dark on white paper, and the box they span."""
    rgba = image.convert("RGBA")
    grey = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("L")
    dark = grey.point(lambda v: 255 if v < 128 else 0)
    return dark.histogram()[255], dark.getbbox()


async def test_a_customer_draws_their_signature_with_the_mouse_on_a_phone(running, tenant, browser):
    given = await a_signature_request(running, tenant, language="en", title="Gutter repair")
    page = await browser.new_page(viewport=PHONE, device_scale_factor=3)

    # Given the customer opened the magic link and the sign page
    await open_the_sign_page(page, given)

    # Then drawing is the default way to sign, in a labelled box sized for the phone's pixels
    assert await page.is_checked("#kind-drawn")
    assert await page.is_visible("#signature-pad") and not await page.is_visible("#typed_name")
    assert await page.get_by_role("img", name="Draw your signature in the box").count() == 1
    size = await page.eval_on_selector("#signature-pad", "c => [c.width, c.height, c.clientWidth, c.clientHeight]")
    box = await page.locator("#signature-pad").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert size[0] == round(box["width"] * 3) and size[1] == round(box["height"] * 3)

    # When they draw with the mouse, fill in the field, agree and submit
    await draw_a_signature(page)
    await page.fill("#f-full_name", "Jan de Vries")
    await page.check("#consent")
    await page.screenshot(path=str(ARTIFACTS / "sign-drawn-en.png"), full_page=True)
    await page.click("main button[type=submit]")

    # Then they see the confirmation and the signing in the portal timeline
    await page.wait_for_url(f"**/tasks/{given['task']['id']}?done=signed")
    assert "Your signature has been recorded" in await page.inner_text("main")

    async def signing_in_timeline():
        await page.reload()
        return "You signed" in await page.inner_text("main")

    await eventually(signing_in_timeline, what="the signing in the portal timeline", interval=0.5)
    await page.screenshot(path=str(ARTIFACTS / "signed-drawn-en.png"), full_page=True)

    # And staff see a drawn signature whose stored image carries the stroke, at the phone's resolution
    entry = await eventually(
        lambda: staff_signed_entry(running, tenant, given["task"]["id"]),
        what="task.signed in the staff timeline",
        interval=0.5,
    )
    assert entry["data"]["signature_kind"] == "drawn"
    image = stored_signature(running, entry["data"]["signature_id"])
    assert image.size == (size[0], size[1])
    dark, (left, _, right, _) = ink_of(image)
    assert dark > 1500, f"only {dark} dark pixels"
    assert right - left > image.width * 0.7  # the stroke spans the box as drawn


async def test_an_empty_canvas_is_refused_at_the_canvas_and_a_drawing_survives_a_resize(running, tenant, browser):
    given = await a_signature_request(running, tenant, language="nl", title="Dakgoot")
    page = await browser.new_page(viewport=DESKTOP, device_scale_factor=2)
    await open_the_sign_page(page, given)

    # Given the customer drew, then cleared the box
    await draw_a_signature(page)
    await page.click("#signature-clear")
    assert await page.inner_text("#signature-pad-status") == "Het vak is weer leeg."

    # When they submit with the box empty
    await page.fill("#f-full_name", "Jan de Vries")
    await page.check("#consent")
    await page.click("main button[type=submit]")

    # Then the error is tied to the canvas, drawing stays chosen, and nothing was signed
    error = page.locator("#signature-pad-error")
    await error.wait_for()
    assert "Teken uw handtekening in het vak" in await error.inner_text()
    canvas = page.locator("#signature-pad")
    assert await canvas.get_attribute("aria-invalid") == "true"
    assert "signature-pad-error" in await canvas.get_attribute("aria-describedby")
    assert await page.locator('#error-summary a[href="#kind-typed"]').count() == 1
    assert await page.is_checked("#kind-drawn")
    await page.screenshot(path=str(ARTIFACTS / "sign-drawn-empty-nl.png"), full_page=True)
    action = await page.request.get(f"{given['portal']}/api/v1/actions/{given['action']['id']}")
    assert (await action.json())["status"] == "open"

    # When they draw, the window narrows (the box is resized and redrawn), and they submit again
    await draw_a_signature(page)
    await page.set_viewport_size({"width": 600, "height": 800})
    await eventually(
        lambda: page.eval_on_selector("#signature-pad", "c => c.width === 2 * c.clientWidth"),
        what="the canvas refitted to its new width",
        interval=0.1,
    )
    width = await page.eval_on_selector("#signature-pad", "c => c.width")

    # And they forget the consent: the form comes back with the drawing put back on the canvas
    await page.click("main button[type=submit]")
    await page.locator("#consent-error").wait_for()
    await eventually(
        lambda: page.eval_on_selector("#signature-pad", INKED_PIXELS),
        what="the drawing back on the canvas",
        interval=0.1,
    )
    await page.check("#consent")
    await page.click("main button[type=submit]")

    # Then it is signed with the drawing as it was after the resize
    await page.wait_for_url(f"**/tasks/{given['task']['id']}?done=signed")
    entry = await eventually(
        lambda: staff_signed_entry(running, tenant, given["task"]["id"]),
        what="task.signed in the staff timeline",
        interval=0.5,
    )
    assert entry["data"]["signature_kind"] == "drawn"
    image = stored_signature(running, entry["data"]["signature_id"])
    assert image.width == width
    dark, _ = ink_of(image)
    assert dark > 800, f"only {dark} dark pixels"


async def test_without_script_the_page_offers_typing_and_uploading_and_signs(running, tenant, browser):
    given = await a_signature_request(running, tenant, language="en", title="Window cleaning")
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await open_the_sign_page(page, given, script=False)

    # The drawing option needs script, so it is not offered; typing is chosen, uploading is there
    assert not await page.is_visible("#kind-drawn") and not await page.is_visible("#signature-pad")
    assert await page.is_checked("#kind-typed") and await page.is_visible("#signature_file")
    await page.fill("#f-full_name", "Jan de Vries")
    await page.fill("#typed_name", "Jan de Vries")
    await page.check("#consent")
    await page.screenshot(path=str(ARTIFACTS / "sign-no-script-en.png"), full_page=True)
    await page.click("main button[type=submit]")

    await page.wait_for_url(f"**/tasks/{given['task']['id']}?done=signed")
    entry = await eventually(
        lambda: staff_signed_entry(running, tenant, given["task"]["id"]),
        what="task.signed in the staff timeline",
        interval=0.5,
    )
    assert entry["data"]["signature_kind"] == "typed"
    await context.close()
