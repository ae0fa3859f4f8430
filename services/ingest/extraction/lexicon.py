"""Cue lexicons, by base form, and the inflections the parse shows them in.

General English only: no word here comes from a particular article. The lemmatizer is
left out of the pipeline (it costs a third of the parse), so `forms()` spells out the
inflections of each base form and `lemma()` maps a token back to its base.
"""

from __future__ import annotations

from spacy.tokens import Token

from services.ingest.extraction import names

_IRREGULAR = {
    "make": ("made",),
    "bring": ("brought",),
    "take": ("took", "taken"),
    "hit": ("hit",),
    "send": ("sent",),
    "put": ("put",),
    "push": ("pushed",),
    "give": ("gave", "given"),
    "tell": ("told",),
    "say": ("said",),
    "write": ("wrote", "written"),
    "lay": ("laid",),
    "sue": ("sued", "suing"),
    "file": ("filed", "filing"),
    "issue": ("issued", "issuing"),
    "level": ("levelled", "leveled", "levelling", "leveling"),
    "rebut": ("rebutted", "rebutting"),
    "pull": ("pulled",),
    "lodge": ("lodged", "lodging"),
    "submit": ("submitted", "submitting"),
    "scrub": ("scrubbed", "scrubbing"),
    "refer": ("referred", "referring"),
    "criticise": ("criticised", "criticising"),
    "criticize": ("criticized", "criticizing"),
    "rubbish": ("rubbished", "rubbishes", "rubbishing"),
    "brush": ("brushed", "brushes", "brushing"),
    "deny": ("denied", "denies", "denying"),
    "play": ("played", "plays", "playing"),
    "dispute": ("disputed", "disputing"),
    "refute": ("refuted", "refuting"),
}


def forms(*bases: str) -> dict[str, str]:
    """Inflected form -> base form for each base (regular English inflection plus the irregulars above)."""
    out: dict[str, str] = {}
    for base in bases:
        extra = _IRREGULAR.get(base, ())
        if base.endswith("e"):
            regular = (base + "s", base + "d", base[:-1] + "ing")
        elif base.endswith("y") and base[-2:-1] not in "aeiou":
            regular = (base[:-1] + "ies", base[:-1] + "ied", base + "ing")
        elif base.endswith(("s", "sh", "ch", "x")):
            regular = (base + "es", base + "ed", base + "ing")
        else:
            regular = (base + "s", base + "ed", base + "ing")
        for f in (base, *regular, *extra):
            out.setdefault(f, base)
    return out


def noun_forms(*bases: str) -> dict[str, str]:
    out = {}
    for b in bases:
        out[b] = b
        out[b + ("es" if b.endswith(("s", "sh", "ch", "x")) else "s")] = b
    return out


def lemma(tok: Token, table: dict[str, str]) -> str | None:
    return table.get(tok.lower_)


# --- allegations -------------------------------------------------------------------------
ACCUSE = forms("accuse", "blame")
# need a reported clause ("claimed that ...", "alleged that ...", "charged that ...")
ASSERT = forms("claim", "allege", "charge")
# need a named party as object ("criticised the council for ...")
CRITICISE = forms(
    "criticise",
    "criticize",
    "condemn",
    "slam",
    "blast",
    "attack",
    "denounce",
    "lambast",
    "lambaste",
    "berate",
    "castigate",
)
ALLEGATION_NOUNS = noun_forms("allegation", "accusation", "claim", "charge", "assertion")
# "made the claim", "raised allegations", "repeated the accusation"
LIGHT_ALLEGE = forms("make", "raise", "level", "repeat", "voice", "publish", "air", "lay", "put", "bring")

# --- rebuttals ---------------------------------------------------------------------------
DENY = forms("deny")
# need a claim-like object, a reported clause or "as ..." ("dismissed the report as ...")
REJECT = forms(
    "reject",
    "dismiss",
    "refute",
    "rebut",
    "dispute",
    "contest",
    "rubbish",
    "rebuff",
    "challenge",
    "counter",
    "debunk",
    "contradict",
    "repudiate",
)
# any object except the sporting or electoral senses ("defended the title")
DEFEND = forms("defend", "downplay")
PHRASAL_REBUT = {
    ("play", "down"),
    ("hit", "back"),
    ("push", "back"),
    ("brush", "aside"),
    ("brush", "off"),
    ("shrug", "off"),
    ("fire", "back"),
    ("wave", "away"),
    ("laugh", "off"),
}
PHRASAL_VERBS = forms("play", "hit", "push", "brush", "shrug", "fire", "wave", "laugh")
# "insisted it had done nothing wrong", "maintained that no rules were broken"
INSIST = forms("insist", "maintain", "stress", "counter", "respond", "reply", "retort")
SAY = forms(
    "say",
    "tell",
    "state",
    "add",
    "argue",
    "insist",
    "maintain",
    "stress",
    "counter",
    "respond",
    "reply",
    "retort",
    "write",
    "explain",
    "claim",
)
# "called the complaint 'a stunt'", "described the claims as false"
CALL = forms("call", "describe", "label", "brand", "characterise", "characterize", "term")
OWN_WORDS = noun_forms(
    "word",
    "reporting",
    "report",
    "story",
    "comment",
    "remark",
    "statement",
    "account",
    "decision",
    "position",
    "article",
    "journalism",
    "coverage",
    "finding",
    "view",
    "claim",
    "allegation",
    "post",
    "tweet",
    "video",
    "assessment",
    "figure",
    "analysis",
)
STAND = forms("stand") | {"stood": "stand"}
ACCEPT = forms("accept", "agree", "recognise", "recognize", "acknowledge")
CLAIM_OBJECTS = noun_forms(
    "allegation",
    "accusation",
    "claim",
    "charge",
    "suggestion",
    "report",
    "criticism",
    "assertion",
    "account",
    "characterisation",
    "characterization",
    "wrongdoing",
    "impropriety",
    "misconduct",
    "story",
    "rumour",
    "rumor",
    "idea",
    "notion",
    "finding",
    "conclusion",
    "complaint",
    "description",
    "portrayal",
    "interpretation",
    "version",
    "insinuation",
    "implication",
    "theory",
    "premise",
    "narrative",
    "framing",
    "concern",
    "figure",
    "statement",
    "remark",
    "comment",
    "lawsuit",
    "case",
    "petition",
    "grievance",
    "link",
    "involvement",
    "responsibility",
    "knowledge",
    "breach",
    "suggestion",
    "attack",
    "wrong",
    "inference",
    "picture",
    "depiction",
    "reading",
    "analysis",
    "number",
    "estimate",
    "data",
)
CLAIM_PRONOUNS = {"it", "this", "that", "them", "these", "those", "any", "everything", "all"}
# the sporting or electoral objects of "defend" and the refusals of "deny"
NOT_DEFENDED = noun_forms(
    "title",
    "championship",
    "crown",
    "seat",
    "goal",
    "lead",
    "belt",
    "record",
    "trophy",
    "majority",
    "line",
    "position",
    "border",
    "city",
    "territory",
)
NOT_DENIED = noun_forms(
    "access",
    "entry",
    "bail",
    "permission",
    "request",
    "application",
    "visa",
    "loan",
    "penalty",
    "chance",
    "opportunity",
    "right",
    "service",
    "treatment",
    "benefit",
    "place",
    "goal",
    "victory",
    "win",
    "point",
    "vote",
    "funding",
    "licence",
    "license",
    "parole",
    "asylum",
    "admission",
    "boarding",
)
# a party in error ("said the mayor was mistaken", "had the facts backwards", "got it wrong")
IN_ERROR = {"wrong", "mistaken", "misinformed", "misguided"}
WRONG_WAY = {"wrong", "backwards", "backward"}
BE = {"is", "was", "were", "are", "be", "been", "'s", "'re"}
HAVE_GOT = {"have", "has", "had", "having", "get", "gets", "got", "gotten", "getting"}
FALSE_WORDS = {
    "false",
    "untrue",
    "wrong",
    "baseless",
    "unfounded",
    "inaccurate",
    "misleading",
    "groundless",
    "incorrect",
    "ridiculous",
    "absurd",
    "nonsense",
    "rubbish",
    "fabricated",
    "defamatory",
    "mistaken",
    "spurious",
    "bogus",
    "fiction",
    "fantasy",
    "lie",
    "lies",
    "smear",
    "stunt",
    "drama",
    "shakedown",
    "politically",
    "unsubstantiated",
    "reckless",
    "malicious",
    "meritless",
    "garbage",
    "distortion",
    "misrepresentation",
    "exaggerated",
    "overblown",
    "hysterical",
    "categorically",
    "disingenuous",
    "outrageous",
    "nothing",
    "unfair",
    "selective",
    "invented",
    "fake",
}

# "the claim was without foundation", "the allegations have no basis in fact"
NO_BASIS = {"foundation", "basis", "merit", "substance", "truth", "evidence"}
# "said it was disappointed by her comments": dismay at what was said is an answer to it
DISMAYED = {
    "disappointed",
    "saddened",
    "dismayed",
    "surprised",
    "astonished",
    "baffled",
    "bemused",
    "puzzled",
    "shocked",
    "appalled",
    "hurt",
}

# --- complaints --------------------------------------------------------------------------
FILE = forms(
    "file",
    "lodge",
    "submit",
    "launch",
    "make",
    "bring",
    "send",
    "issue",
    "register",
    "hand",
    "present",
    "deliver",
    "raise",
    "take",
    "start",
    "begin",
    "initiate",
    "mount",
    "refile",
)
COMPLAINT_NOUNS = noun_forms(
    "complaint",
    "grievance",
    "petition",
    "lawsuit",
    "suit",
    "objection",
    "appeal",
    "challenge",
    "action",
    "case",
    "claim",
    "application",
    "referral",
)
# these need a legal word beside them: "legal action", "a defamation claim", "a court case"
COMPLAINT_NEEDS_LEGAL = {"action", "case", "claim", "challenge", "application", "appeal"}
LEGAL_WORDS = {
    "legal",
    "court",
    "civil",
    "defamation",
    "libel",
    "damages",
    "judicial",
    "lawsuit",
    "formal",
    "injunction",
    "urgent",
    "class",
    "tribunal",
    "discrimination",
    "negligence",
    "employment",
}
# the forums a claim is brought before ("a claim at the tribunal", "a case in the High Court")
COURT_NOUNS = noun_forms("court", "tribunal")
SUE = forms("sue")
COMPLAIN = forms("complain", "report", "refer", "petition")
AUTHORITY_PREPS = {"with", "to", "at", "before", "in"}

# --- deleted posts -----------------------------------------------------------------------
DELETE = forms("delete", "remove", "scrub", "pull", "wipe", "erase", "withdraw", "retract", "unpublish", "hide")
TAKE_DOWN = forms("take")
POST_NOUNS = noun_forms(
    "post",
    "tweet",
    "video",
    "clip",
    "message",
    "photo",
    "image",
    "comment",
    "page",
    "thread",
    "blog",
    "article",
    "advert",
    "ad",
    "reel",
    "story",
    "update",
    "picture",
    "photomontage",
    "montage",
    "meme",
    "caption",
    "status",
    "upload",
    "livestream",
    "stream",
    "footage",
    "entry",
    "listing",
    "announcement",
    "statement",
    "remark",
)
REMAIN = forms("remain", "stay", "be")
STILL_UP = {"online", "up", "live", "visible", "available", "accessible"}
# what a publisher puts out, that a lawsuit "over an article that alleged ..." is about
PUBLISHED_PIECES = {
    **POST_NOUNS,
    **noun_forms("report", "column", "broadcast", "programme", "program", "documentary", "piece", "segment", "book"),
}
DELETED_ADJ = {"now-deleted", "since-deleted", "now-removed", "since-removed", "deleted", "removed"}
PLATFORMS = (
    "LinkedIn",
    "Twitter",
    "X",
    "Facebook",
    "Instagram",
    "TikTok",
    "YouTube",
    "Threads",
    "Bluesky",
    "Reddit",
    "Telegram",
    "WhatsApp",
    "Snapchat",
    "Substack",
    "Mastodon",
    "website",
    "blog",
)

# --- modality ----------------------------------------------------------------------------
MODAL_AUX = {"may", "might", "could", "would", "should", "can", "will", "shall", "must", "'ll", "ca", "wo"}
# a cue under one of these did not (yet) happen: "refused to", "threatened to", "is considering"
UNREAL_HEADS = forms(
    "refuse",
    "decline",
    "threaten",
    "consider",
    "plan",
    "intend",
    "want",
    "hope",
    "seek",
    "expect",
    "prepare",
    "vow",
    "promise",
    "pledge",
    "propose",
    "aim",
    "ask",
    "urge",
    "demand",
    "call",
    "commit",
    "need",
    "weigh",
    "mull",
    "discuss",
    "explore",
    "reserve",
    "warn",
    "fail",
    "wish",
    "try",
    "attempt",
    "debate",
    "contemplate",
    "rule",
    "encourage",
    "invite",
    "press",
    "tell",
    "advise",
    "allow",
    "permit",
    "require",
    "order",
    "force",
)
UNREAL_NOUNS = noun_forms(
    "plan",
    "threat",
    "right",
    "option",
    "possibility",
    "intention",
    "decision",
    "call",
    "bid",
    "attempt",
    "refusal",
    "pressure",
    "demand",
    "failure",
    "need",
)
CONDITIONAL = {"if", "unless", "whether", "until", "should", "lest"}
NEGATING_HEADS = forms("deny", "reject", "refute")
# subjects that name nobody: one list with the resolver's
VAGUE = names.VAGUE
