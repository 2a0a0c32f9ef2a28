"""Drawing one PDF page over another: the overlay becomes a form XObject the page draws last.

Cheaper and safer than pypdf's merge_page, which re-serialises the page's content uncompressed and
renames resources: the page's own content streams keep their bytes, wrapped in q/Q so whatever
state they leave behind does not move the overlay.
"""

from __future__ import annotations

from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

NAME = "/AkkoordStamp"


def draw_over(page, writer, overlay) -> None:
    """Draw `overlay` (a page of another reader) over `page` of `writer`, in the page's user space."""
    form = _form(overlay, page).clone(writer)
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, DictionaryObject):
        resources = DictionaryObject()
        page[NameObject("/Resources")] = resources
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, DictionaryObject):
        xobjects = DictionaryObject()
        resources[NameObject("/XObject")] = xobjects
    name, n = NAME, 0
    while name in xobjects:
        n += 1
        name = f"{NAME}{n}"
    xobjects[NameObject(name)] = writer._add_object(form)
    parts = _content_parts(page, writer)
    page[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(_stream(b"q\n")), *parts, writer._add_object(_stream(f"\nQ\nq {name} Do Q\n".encode()))]
    )


def _form(overlay, page) -> StreamObject:
    contents = overlay["/Contents"].get_object()
    if isinstance(contents, ArrayObject):
        form = _stream(b"\n".join(part.get_object().get_data() for part in contents))
    else:
        form = contents  # still encoded as the overlay wrote it: no need to inflate it here
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(list(page.mediabox))
    form[NameObject("/Resources")] = overlay.get("/Resources", DictionaryObject())
    return form


def _content_parts(page, writer) -> list:
    contents = page.get("/Contents")
    if contents is None:
        return []
    resolved = contents.get_object()
    if isinstance(resolved, ArrayObject):
        return list(resolved)
    return [contents if isinstance(contents, IndirectObject) else writer._add_object(resolved)]


def _stream(data: bytes) -> StreamObject:
    stream = StreamObject()
    stream.set_data(data)
    return stream
