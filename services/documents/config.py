from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.documents.adapters.pdf_limits import MAX_IMAGE_PIXELS, MAX_PAGE_POINTS, MAX_RENDER_BYTES
from services.runtime.config import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCUMENTS_", extra="ignore")

    port: int = 8003
    database: str = "akkoord_documents"
    # Uploads past this many bytes are refused with 413 before any parsing.
    max_upload_bytes: int = 25 * 1024 * 1024
    # A PDF with more pages than this is refused: nobody signs it, and it ties up the CPU.
    max_pages: int = 2000
    # Page content may inflate to at most this much in total; past it, the file is a decompression bomb.
    max_inflated_bytes: int = 200 * 1024 * 1024
    # A page whose MediaBox or CropBox (times UserUnit) is wider or taller than this is refused (100 inches).
    max_page_points: float = MAX_PAGE_POINTS
    # An image that declares more pixels than this is refused: rendering decodes it whole.
    max_image_pixels: int = MAX_IMAGE_PIXELS
    # A preview's bitmap may take at most this much memory; a larger page is rendered at a smaller scale.
    max_render_bytes: int = MAX_RENDER_BYTES
    # Fetching the signature image from the portal while stamping.
    fetch_timeout_seconds: float = 10.0

    @property
    def route_body_limits(self) -> dict[str, int]:
        # The file plus the multipart framing and the title field.
        upload = self.max_upload_bytes + 64 * 1024
        return {"/v1/documents": upload, "/v1/documents/{document_id}/versions": upload}
