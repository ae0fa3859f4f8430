"""Article text -> typed findings. Pure domain code: no I/O (the spaCy model is a library's data)."""

from services.ingest.extraction.rules import EXTRACTOR_VERSION, Finding, extract, extract_many

__all__ = ["EXTRACTOR_VERSION", "Finding", "extract", "extract_many"]
