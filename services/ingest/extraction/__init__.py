"""Article text -> typed findings. Pure domain code: no I/O."""
from services.ingest.extraction.rules import EXTRACTOR_VERSION, Finding, extract

__all__ = ["EXTRACTOR_VERSION", "Finding", "extract"]
