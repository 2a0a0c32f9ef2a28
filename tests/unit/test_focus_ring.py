"""The portal's and the console's stylesheets: the focus ring stands out (WCAG 1.4.11, 3:1) against every
background it lies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
STYLESHEETS = {
    "portal": SERVICES / "portal" / "static" / "portal.css",
    "console": SERVICES / "tasks" / "entrypoints" / "console" / "static" / "console.css",
}


@pytest.fixture(params=sorted(STYLESHEETS))
def css(request) -> str:
    return STYLESHEETS[request.param].read_text()


def rules(css: str) -> list[tuple[str, str]]:
    return re.findall(r"([^{}]+)\{([^{}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL))


def variables(css: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))


def colour(css: str, value: str) -> str:
    value = value.strip()
    if value.startswith("var("):
        return variables(css)[value[6:-1]]
    return {"#fff": "#ffffff", "#000": "#000000", "white": "#ffffff"}.get(value, value)


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_focus_ring_is_3_to_1_against_every_background_a_focused_control_sits_on(css):
    # The ring is drawn 2 px outside the control, so it lies on the background of what holds the control:
    # every background in the stylesheet except a button's own fill.
    backgrounds = {
        colour(css, value)
        for selector, body in rules(css)
        if "button" not in selector
        for value in re.findall(r"background(?:-color)?:\s*(#[0-9a-fA-F]{3,6}|var\(--[\w-]+\)|white)", body)
    }
    focus = variables(css)["focus"]
    assert backgrounds and all(contrast(focus, bg) >= 3 for bg in backgrounds), {
        bg: round(contrast(focus, bg), 2) for bg in backgrounds
    }
    # and beside the coloured controls and boxes it may touch, still 3:1
    for name in ("blue", "red", "green"):
        assert contrast(focus, variables(css)[name]) >= 3, name


def test_every_focus_outline_uses_the_ring_colour_outside_the_control(css):
    outlines = [body for _, body in rules(css) if "outline:" in body and "outline: none" not in body]
    assert outlines and all("var(--focus)" in body and "outline-offset: 2px" in body for body in outlines)
