"""The signing form's signature: drawn on the canvas (a PNG data URL), a typed name, or an uploaded picture."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Literal

from starlette.datastructures import UploadFile  # what request.form() yields

Kind = Literal["drawn", "typed", "uploaded"]
KINDS: tuple[Kind, ...] = ("drawn", "typed", "uploaded")
# Where an error about the signature sends the reader: the control of the way they chose.
# A drawing's error leads to the typed-name option: the canvas takes no keyboard input, the option does.
ERROR_TARGETS: dict[str, str] = {"drawn": "kind-typed", "typed": "typed_name", "uploaded": "signature_file"}
ERROR_MESSAGES: dict[str, str] = {
    "drawn": "signature_draw_required",
    "typed": "signature_required",
    "uploaded": "signature_upload_invalid",
}
DRAWN_PREFIX = "data:image/png;base64,"
# What browsers may fill in, by the field's name or label as staff wrote it (Dutch or English).
AUTOCOMPLETE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"\be[-_ ]?mail")),
    ("tel", re.compile(r"\b(tel|telefoon|telephone|phone|mobiel|mobile)")),
    ("name", re.compile(r"^(full[_ ]?name|your[_ ]name|name|naam|volledige naam|uw naam|voor- en achternaam)$")),
)


@dataclass(frozen=True)
class SignatureChoice:
    kind: Kind
    png_base64: str | None
    typed_name: str


async def uploaded_image(upload, max_bytes: int) -> str | None:
    """An uploaded signature image as base64 (the same checks as the API then apply), or None if none was sent."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(max_bytes + 1)
    return base64.b64encode(data).decode() if data else None


def signature_choice(
    chosen: str | None, drawn: str | None, uploaded: str | None, typed_name: str | None
) -> SignatureChoice:
    """The radio group decides. Without script the page offers typing and uploading side by side, so a picture
    sent with no name typed is the upload the signer meant; a form without the group (older pages, scripts)
    keeps the old rule: a picture wins over a name."""
    name = typed_name or ""
    if chosen == "drawn":
        # An empty canvas sends nothing: the shared validation refuses it as an empty signature.
        return SignatureChoice("drawn", (drawn or "").strip() or None, name)
    if chosen == "uploaded" or (uploaded and not (chosen == "typed" and name.strip())):
        return SignatureChoice("uploaded", uploaded, name)
    return SignatureChoice("typed", None, name)


def drawing_to_show_again(choice: SignatureChoice, errors: dict[str, str]) -> str:
    """A valid drawing goes back onto the canvas when the form is shown again for another field's error."""
    if choice.kind != "drawn" or "signature" in errors or not choice.png_base64:
        return ""
    return choice.png_base64 if choice.png_base64.startswith(DRAWN_PREFIX) else ""


def autocomplete(field: dict) -> str | None:
    """The autocomplete token for a text field: `name`, `email` or `tel`, else None."""
    for token, pattern in AUTOCOMPLETE:
        if any(pattern.search(str(field.get(key) or "").strip().lower()) for key in ("name", "label")):
            return token
    return None
