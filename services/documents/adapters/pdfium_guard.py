"""PDFium is not thread-safe: every call into it, from any worker thread, holds this lock."""

import threading

PDFIUM = threading.Lock()
