"""Documents: standalone PDFs, their immutable versions, placeholder tags, stamping and previews."""
