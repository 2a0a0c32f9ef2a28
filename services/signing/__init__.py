"""Signing: evidence records, approval certificates, PAdES seals and public verification."""
