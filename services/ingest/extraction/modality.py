"""Did the cue's event happen? Negation and modality read from the cue's own clause.

The walk goes up from the cue through the words that embed it without reporting it
(xcomp, pcomp, prep, conj): "refused to deny", "did not commit to filing one",
"is considering a lawsuit", "declined to confirm or deny". It stops at a clause of its
own (ccomp, relcl, ROOT), where only a denying verb ("denied that she had accused ...")
still cancels the event.
"""

from __future__ import annotations

from spacy.tokens import Token

from services.ingest.extraction import lexicon as lx

_CLIMB = {"xcomp", "pcomp", "prep", "pobj", "acomp", "conj", "dobj", "advcl", "oprd", "attr"}


def _own(tok: Token) -> str | None:
    for c in tok.children:
        if (
            c.dep_ == "neg"
            or c.lower_ in ("never", "neither", "nor")
            and c.dep_ in ("neg", "advmod", "preconj", "cc", "dep")
        ):
            return "negated"
        if c.dep_ == "aux" and c.lower_ in lx.MODAL_AUX:
            return "modal"
        if c.dep_ == "mark" and c.lower_ in lx.CONDITIONAL:
            return "conditional"
        if c.dep_ == "advmod" and c.lower_ in ("yet",) and any(x.lower_ == "not" for x in tok.children):
            return "negated"
        # "No one has filed", "nobody denied"
        if c.dep_ in ("nsubj", "nsubjpass") and c.lower_ in ("nobody", "none", "nothing"):
            return "negated"
        if c.dep_ in ("nsubj", "nsubjpass") and any(d.dep_ == "det" and d.lower_ == "no" for d in c.children):
            return "negated"
    return None


def unreal(cue: Token) -> str | None:
    """Why the cue's event did not happen (negated, modal, conditional, intended ...), or None."""
    why = _own(cue)
    if why:
        return why
    tok = cue
    for _ in range(6):
        dep = tok.dep_
        head = tok.head
        if head.i == tok.i:
            return None
        if dep == "advcl":
            # "If X files ...": the condition is on the cue; a participle ("..., accusing X of")
            # shares its main clause's reality
            if any(c.dep_ == "mark" and c.lower_ in lx.CONDITIONAL for c in tok.children):
                return "conditional"
        if dep == "ccomp":
            if head.lower_ in lx.NEGATING_HEADS:
                return "denied"
            if any(c.dep_ == "mark" and c.lower_ in lx.CONDITIONAL for c in tok.children):
                return "conditional"
            return None
        if dep not in _CLIMB:
            return None
        if dep == "conj" and any(c.dep_ in ("nsubj", "nsubjpass") for c in tok.children):
            return None  # a clause of its own
        if head.lower_ in lx.UNREAL_HEADS and dep in ("xcomp", "prep", "pcomp", "dobj", "conj", "advcl"):
            if dep != "conj" or _own(head):
                return "intended"
        if (
            head.pos_ == "NOUN"
            and head.lower_ in lx.UNREAL_NOUNS
            and dep in ("acl", "prep", "xcomp", "pcomp", "relcl", "pobj")
        ):
            return "intended"
        why = _own(head)
        if why and dep in ("xcomp", "prep", "pcomp", "pobj", "conj", "dobj", "acomp", "oprd"):
            return why
        tok = head
    return None
