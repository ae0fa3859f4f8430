"""Test-only variants of the extractor, chosen by STORYLINE_EXTRACTOR_VARIANT.

An extractor upgrade has to be testable without waiting for a real one: a variant changes one
rule and the version string, so a test can ingest with version A, switch to version B and
re-extract (tests/test_reextract.py). It is never on by default and no deployment should set
it. Read at each call (cheap), so a test can switch it in a running process.
"""

from __future__ import annotations

import os

from services.ingest.extraction import EXTRACTOR_VERSION, Finding
from shared.config import ConfigError

ENV = "STORYLINE_EXTRACTOR_VARIANT"


def _drop_rebuttals(findings: list[Finding]) -> list[Finding]:
    """Version B of the tests: rebuttals are not recognised. Links to a dropped finding go too."""
    kept = [i for i, f in enumerate(findings) if f.event_type != "rebuttal_given"]
    new_index = {old: new for new, old in enumerate(kept)}
    out = []
    for i in kept:
        f = findings[i]
        f.responds_to = [new_index[r] for r in f.responds_to if r in new_index]
        out.append(f)
    return out


VARIANTS = {"test-drop-rebuttals": _drop_rebuttals}


def variant(env=None) -> str | None:
    name = (os.environ if env is None else env).get(ENV) or None
    if name is not None and name not in VARIANTS:
        raise ConfigError(f"{ENV}={name!r}: test-only; use one of {', '.join(VARIANTS)} or leave it unset")
    return name


def version() -> str:
    name = variant()
    return EXTRACTOR_VERSION if name is None else f"{EXTRACTOR_VERSION}+{name}"


def adjust(findings: list[Finding]) -> list[Finding]:
    name = variant()
    return findings if name is None else VARIANTS[name](findings)
