"""Rule-based extraction: cue verbs per event type, the named subject as actor.

Transparent (every finding names its cue) and offline. One real-world event per
(type, actor) in an article; later mentions become provenance of the first.

Pipeline per sentence:
  * cue patterns per event type (active verbs, passives, "now-deleted X post by Y",
    "the allegation was made by Y", "accusations from Y");
  * modality / negation window just before the cue verb (would, if, not, whether,
    threatened to ...) suppresses the event; "remained online" style vetoes too;
  * actor = subject of the cue verb: a proper name (titles dropped), a descriptive
    noun phrase ("members of the X Orchestra", "a group of parents"), a pronoun or
    a description ("he", "the company", "the trust") resolved to an earlier entity;
  * a rebuttal with no allegation on record turns the most recent reported statement
    ("X said that ...") by another party into the allegation it answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from services.ingest.extraction import grammar
from services.ingest.extraction import postpass
from services.ingest.extraction.dates import MONTHS, WEEKDAYS, resolve

EXTRACTOR_VERSION = "rules-0.3+spacy"

_W = r"[\w'’\-]+"
_POST_NOUN = r"(?:post|tweet|page|video|message|statement|article|blog|thread|advert|ad|comment|photo|picture|" \
             r"image|clip|reel|story|stories|announcement|notice|listing|entry|update)s?"
_DEL_VERB = r"(?:deleted|removed|took down|taken down|pulled|scrubbed|wiped|erased)"

# Each pattern names the cue verb as group "v"; "agent" (optional) names the actor directly.
_CUES: dict[str, list[re.Pattern]] = {
    "complaint_filed": [
        re.compile(r"\b(?P<v>(?:filed|lodged|submitted|made|sent|files|lodges|submits|makes|file|lodge|submit))"
                   r"(?:\s+%s){0,3}?\s+(?:complaint|grievance)s?\b" % _W, re.I),
        re.compile(r"\b(?:complaint|grievance)s?\s+(?:was|were|has been|had been|have been)\s+"
                   r"(?P<v>filed|lodged|submitted|made)\s+by\s+(?P<agent>[^,.;]+)", re.I),
    ],
    "post_deleted": [
        re.compile(r"\b(?P<v>now-deleted|since-deleted|now-removed)\b(?:\s+%s){0,2}?\s+%s\b" % (_W, _POST_NOUN), re.I),
        re.compile(r"\b(?P<v>%s|deletes|removes|takes down|has deleted|have deleted|delete|remove)\b"
                   r"(?:\s+%s){0,4}?\s+%s\b" % (_DEL_VERB, _W, _POST_NOUN), re.I),
        re.compile(r"\b%s\b[^.;]*?\b(?P<v>(?:was|were|has been|had been|have been|got)\s+(?:\w+ly\s+)?%s)\b"
                   % (_POST_NOUN, _DEL_VERB), re.I),
    ],
    "rebuttal_given": [
        re.compile(r"\b(?P<v>denied|denies|deny|rejected|rejects|reject|downplayed|downplays|played down|"
                   r"plays down|defended|defends|hit back|hits back|dismissed|dismisses|brushed aside|"
                   r"brushes aside|brushed off|rebuffed|rebuffs|refuted|refutes|disputed|disputes|"
                   r"pushed back|pushes back|rubbished|rubbishes)\b", re.I),
    ],
    "allegation_made": [
        re.compile(r"\b(?:allegations?|claims?|accusations?|charges?)\s+(?:was|were|had been|has been|have been)\s+"
                   r"(?:first\s+)?(?P<v>made|raised|levelled|leveled|brought|voiced)\s+by\s+(?P<agent>[^,.;]+)", re.I),
        re.compile(r"\b(?P<v>accusations?|allegations?)\s+(?:from|by)\s+(?P<agent>[^,.;]+)", re.I),
        re.compile(r"\b(?P<v>claimed|alleged|accused|accuses|alleges|claims|claim|allege|accuse)\b", re.I),
    ],
}
# words directly before "claims"/"alleged" that make it a noun or adjective, not a verb
_NOUN_USE = re.compile(r"(?:\b(?:the|a|an|these|those|such|his|her|their|its|our|my|your|any|of|about|over|"
                       r"regarding|concerning|for|into|against|to|with|by|on|new|false|fresh|earlier|"
                       r"these|all|and|or|from)|['’]s|ed|ing)\s+$", re.I)
_MODAL = re.compile(r"\b(?:would|could|might|may|will|shall|should|can|considering|consider|considered|threatened|"
                    r"threatening|threatens|plans?|planned|planning|intends?|intending|expected|likely|"
                    r"whether|if|unless|not|n't|never|no longer|yet to|refused|declined|wants?|hopes?|"
                    r"ready|preparing|urged|asked|called on|set)\b[\w\s'’\-]*$|\bto\s+(?:\w+\s+)?$", re.I)
_VETO = re.compile(r"\b(?:remain(?:s|ed)?|still|stayed|stays|is|was)\s+(?:\w+\s+)?(?:online|up|live|visible|available)\b|"
                   r"\bcontrary to\b|\bfalsely reported\b|\bwas not (?:deleted|removed)\b", re.I)
_AUX = re.compile(r"(?:\s+|^)(?:has|have|had|also|later|then|now|since|quickly|swiftly|promptly|repeatedly|publicly|"
                  r"previously|already|again|strongly|firmly|flatly|angrily|formally|today|yesterday|\w+ly|and|but)\s*$", re.I)
_SUBORD = re.compile(r"^(?:while|in|after|before|as|when|following|during|on|at|since|although|though|despite|"
                     r"amid|with|without|asked|speaking|responding|according)\b", re.I)
_TITLES = re.compile(r"^(?:(?:UK|US|former|Former|Deputy|Prime|Minister|President|Vice|Democratic|Republican|Dr|Mr|"
                     r"Mrs|Ms|Sir|Dame|Chief|Executive|Secretary|Senator|Governor|Mayor|Head|Professor|Prof|Judge|"
                     r"Councillor|Cllr|Rev|Lord|Lady|General|Captain|Coach|Chairman|Chairwoman|Chair|Director|"
                     r"Commissioner|Inspector|Officer|MP|Nurse|Doctor|Developer|Shadow|Health|Education|Home|Foreign|Justice|"
                     r"Culture|Transport|Business|Defence|Environment|Housing|Energy|Finance|Interior|State|"
                     r"Attorney|Detective|Constable|Sergeant|Superintendent|Spokesman|Spokeswoman|Leader|Manager|"
                     r"Teacher|Headteacher|Bishop|Archbishop|Father|Pastor|Chancellor|Ambassador|Commander|"
                     r"Editor|Founder|Owner|Singer|Actor|Actress|Striker|Referee|Manager|Treasurer|Councillor|"
                     r"Rapper|Star|Boss|Chef|Author|Campaigner|Activist|Lawyer|Barrister|Solicitor|Landlord|"
                     r"Tenant|Resident|Parent|Pupil|Student|Principal|Conductor|Producer|Director|"
                     r"Writer|Publisher|Journalist|Presenter|Broadcaster|Comedian|Musician|Artist|Designer|Architect|"
                     r"Engineer|Scientist|Researcher|Economist|Analyst|Businessman|Businesswoman|Entrepreneur|"
                     r"Investor|Billionaire|Tycoon|Footballer|Player|Boxer|Athlete|Chairperson|Model|Influencer|"
                     r"Blogger|Podcaster|Priest|Imam|Rabbi|Vicar|Surgeon|Consultant|Paramedic|Firefighter|Pilot|"
                     r"Farmer|Whistleblower|Candidate|Nominee|Congressman|Congresswoman|Representative|Rep|Sen|"
                     r"Gov|Speaker|Premier|Businessman|Pop|TV|Reality|Veteran|Local|Opposition|Party|"
                     r"Senior|Junior|Acting|Interim|Labour|Conservative|Tory|Green|Liberal|Reform|Council|The|the)"
                     r"\.?\s+)+(?=[A-Z])")
_CAPWORD = r"[A-Z][\w\-]*(?:['’](?!s\b)\w+|(?<=s)['’](?=\s))?"
_NAME = re.compile(r"(%s(?:\s+(?:of\s+|for\s+|and\s+|&\s+)?%s)*)(?:['’]s\s+(campaign|team|lawyers|party|office|spokesman|"
                   r"spokeswoman|spokesperson))?" % (_CAPWORD, _CAPWORD))
_GROUP_HEADS = ("campaign", "team", "lawyers", "party", "office")
_PRONOUNS = {"he": "person", "she": "person", "it": "organisation", "they": "group", "who": "rel", "which": "rel"}
_ORG_WORDS = re.compile(r"\b(?:Party|campaign|Commission|Council|Trust|Ltd|Inc|Plc|PLC|LLC|Group|Union|Committee|"
                        r"Department|Ministry|Agency|Company|Association|Guild|Board|Authority|Office|Labour|"
                        r"Services|Orchestra|Festival|University|College|School|Academy|Primary|Hospital|Bank|"
                        r"Club|Society|Federation|Institute|Foundation|Corporation|Corp|News|Times|Police|"
                        r"Service|Court|Parliament|Government|Trust|Network|Media|Holdings|Partners|Limited|Co)\b")
_ORG_NOUNS = ("company", "firm", "group", "organisation", "organization", "body", "council", "band", "club",
              "trust", "party", "campaign", "agency", "department", "ministry", "union", "charity", "school",
              "board", "business", "operator", "retailer", "bank", "developer", "contractor", "network",
              "broadcaster", "publisher", "team", "orchestra", "festival", "authority", "government", "university",
              "hospital", "quarry", "airline", "employer", "operator", "insurer", "chain", "supplier", "platform", "newspaper", "station", "association")
_NP = re.compile(r"^(?:(?:a|an|the|some|several|many|most|two|three|four|five|six|seven|eight|nine|ten|dozens of|"
                 r"hundreds of|a number of|\d+)\s+)?(?P<np>(?:[A-Za-z][\w'’\-]*\s+){0,2}?[A-Za-z][\w'’\-]*"
                 r"(?:\s+(?:of|at|from|in|for)\s+(?:the\s+)?(?:[A-Z][\w'’\-]*|[a-z]+)(?:\s+[A-Z][\w'’\-]*)*)?)$", re.I)
_QUOTE = re.compile(r"[\"“]([^\"“”]{3,})[\"”]")
_BODY = re.compile(r"\b(?:with|to)\s+(?:the\s+)?((?:[A-Z][\w’'\-]+\s*)(?:(?:of|for|and)\s+|[A-Z][\w’'\-]+\s*)*"
                   r"(?:\([A-Z]+\))?|(?:[\w’'\-]+\s+){0,2}(?:committee|board|regulator|ombudsman|watchdog|"
                   r"management|council|commission|authority|police|court))")
_PLATFORM = re.compile(r"\b(LinkedIn|Twitter|X|Facebook|Instagram|TikTok|YouTube|Threads|Bluesky|Reddit|"
                       r"Telegram|website|blog|Substack)\b")
_BY = re.compile(r"\bby\s+(?:the\s+)?((?:[A-Z][\w’'\-]+\s?)+)")
_AUTHOR = re.compile(r"\b%s\b\s+(?:in which|where|on which)\s+(?P<who>[^,;]+?)\s+"
                     r"(?:had\s+|has\s+)?(?:\w+ed|said|wrote|called|claimed|shared|made|posted)\b" % _POST_NOUN, re.I)
_POSS_POST = re.compile(r"((?:%s\s+)*%s['’]s?|\b[Hh]is|\b[Hh]er|\b[Tt]heir|\b[Ii]ts)\s+(?:\w+\s+){0,2}%s\b"
                        % (_CAPWORD, _CAPWORD, _POST_NOUN))
_SAID = re.compile(r"\b(?P<v>said|says|told|stated|argued|insisted|maintained|complained|wrote)\b(?P<rest>.*)", re.I)


@dataclass
class Finding:
    event_type: str
    actor: dict
    target: dict | None
    quote: str | None
    summary: str
    details: dict
    occurred_at: str | None
    occurred_precision: str | None
    sentence: str
    char_start: int
    char_end: int
    confidence: float
    mentions: list = field(default_factory=list)
    # indices, in the returned list, of the findings this one answers (a rebuttal's allegation)
    responds_to: list[int] = field(default_factory=list)
    # token index (in the parsed body) of the cue predicate, one per mention, None where a
    # pattern found it without the parse; for the post-pass (quotes, dates, summaries)
    cue_tokens: list = field(default_factory=list)


def sentences(text: str):
    """Yield (sentence, start, end) with offsets into text; quotes stay inside their sentence."""
    for para in re.finditer(r"[^\n]+", text):
        chunk, base = para.group(0), para.start()
        pos = 0
        for m in re.finditer(r"(?:(?<=[.!?])|(?<=[.!?][\"”’]))\s+(?=[A-Z\"“])", chunk):
            piece = chunk[pos:m.start()]
            if piece.count('"') % 2 == 0 and piece.count("“") <= piece.count("”"):
                yield piece, base + pos, base + m.start(), para.start()
                pos = m.end()
        if chunk[pos:].strip():
            yield chunk[pos:], base + pos, base + len(chunk), para.start()


def _is_org(name: str) -> bool:
    """Organisation if the head (last word, or the word before 'of'/'for') is an organisation word."""
    words = name.split()
    if not words:
        return False
    head = re.split(r"\s+(?:of|for)\s+", name)[0].split()[-1]
    return bool(_ORG_WORDS.fullmatch(words[-1]) or _ORG_WORDS.fullmatch(head))


def _kind(name: str) -> str:
    if re.match(r"(?:[a-z]+\s+)*[A-Za-z]*[a-z]s\s+(?:of|at|from|in)\s", name) and not _ORG_WORDS.match(name):
        return "group"
    if _is_org(name) or re.fullmatch(r"[A-Z]{2,6}", name) or name.split()[-1] in _GROUP_HEADS:
        return "organisation"
    if name[:1].islower() or re.match(r"(?:group|members|residents|parents|staff|workers)\b", name, re.I):
        return "group"
    return "person"


def _clean(name: str) -> str:
    name = name.strip()
    if _is_org(name):  # "Labour Party", "Green Council": titles are part of an organisation's name
        name = re.sub(r"^(?:The|the)\s+", "", name)
    else:
        name = _TITLES.sub("", name).strip()
    return re.sub(r"['’]s$", "", name).strip()


class Context:
    """Entities named so far, for pronouns, descriptions and short names."""

    def __init__(self):
        self.entities: list[tuple[str, str]] = []  # (name, kind), in order of mention
        self.orgs: set[str] = set()  # names a description marked as organisations ("the firm, X")
        self.ner: dict[str, str] = {}  # spaCy's person/organisation verdict per entity text
        self.people: set[str] = set()  # spaCy's multi-word PERSON spans

    def add(self, name: str, kind: str | None = None):
        if name:
            self.entities.append((name, "organisation" if name in self.orgs else kind or self.kind(name)))

    def last(self, kind: str) -> str | None:
        entities = self.entities
        if kind == "person":  # "he"/"she": a name spaCy calls an organisation comes last
            entities = sorted(entities, key=lambda e: self.ner.get(e[0]) != "organisation")
        for name, k in reversed(entities):
            if kind == "group" and k in ("group", "organisation"):
                return name
            if k == kind:
                return name
        return None

    def kind(self, actor: str) -> str:
        if actor in self.orgs:
            return "organisation"
        for name, k in reversed(self.entities):
            if name == actor:
                return k
        return self.guess(actor)

    def guess(self, name: str) -> str:
        """Rules first (organisation words, collectives, descriptions). For a one-word name
        ("Northwater", "Lumen") the rules have nothing to go on, so spaCy's NER decides; for
        longer names the small model's ORG/PERSON call proved less reliable than the rules."""
        kind = _kind(name)
        if kind == "person" and " " not in name and self.ner.get(name) == "organisation":
            return "organisation"
        return kind

    def trim(self, name: str) -> str:
        """'Sprinter Abel Tesfaye' -> 'Abel Tesfaye' when spaCy's PERSON span ends the name: a
        role word the title list does not know is still left out."""
        for person in self.people:
            if name.endswith(" " + person):
                return person
        return name

    def full(self, actor: str) -> str:
        """'Starmer' after 'Keir Starmer', 'Railcraft' after 'Railcraft Services'; 'Trump campaign' keeps its head."""
        actor = self.trim(actor)
        head, _, rest = actor.partition(" ")
        if rest and rest not in _GROUP_HEADS:
            return actor
        for name, kind in reversed(self.entities):
            words = name.split()
            if len(words) < 2 or name == head:
                continue
            if (kind == "person" and words[-1] == head) or (kind != "person" and words[0] == head):
                return f"{name} {rest}".strip()
        return actor

    def describe(self, np: str) -> str | None:
        """'the trust' -> 'Oakline Academy Trust'; 'the company' -> the last organisation."""
        head = np.split()[-1].lower()
        for name, _ in reversed(self.entities):
            if name.split()[-1].lower() == head and len(name.split()) > 1:
                return name
        if head in _ORG_NOUNS:
            return self.last("organisation")
        return None


_STOP = {"a", "an", "the", "some", "several", "many", "most", "this", "that", "these", "those", "its", "their",
         "his", "her", "our", "my", "your", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
         "ten", "dozens", "hundreds", "but", "and", "so", "then", "meanwhile", "however", "he", "she", "it", "they",
         "we", "i", "you", "who", "which", "there", "here", "reports", "critics", "officials", "nobody",
         "no one", "none", "neither", "nor", "no", "anyone", "everyone", "someone", "had", "has", "have"}


_CALENDAR = re.compile(r"(?:%s)(?:\s+\d.*)?" % "|".join(list(WEEKDAYS) + list(MONTHS)), re.I)


def _names(text: str):
    for m in _NAME.finditer(text):
        name = _clean(m.group(1))
        if not name or name.lower() in _STOP or _CALENDAR.fullmatch(name):
            continue
        if not _SUBORD.match(name) or len(name.split()) > 1:
            yield m, name


# a time phrase between subject and verb: "Martin Ebo on Tuesday rejected ..."
_WHEN_TAIL = re.compile(r"\s+(?:on|last|this|early|late|earlier|later|in)\s+(?:the\s+)?(?:%s)(?:\s+\d{1,2})?\s*$"
                        % "|".join(list(WEEKDAYS) + list(MONTHS)), re.I)


def _subject(before: str, ctx: Context, sent_entities: list[tuple[str, str]]) -> str | None:
    """The actor of a cue verb: the clause subject just before it."""
    text = before
    while True:
        stripped = _WHEN_TAIL.sub("", _AUX.sub("", text))
        if stripped == text:
            break
        text = stripped
    text = text.rstrip(" ,;:—–-")
    if not text:
        return None
    last = re.search(r"\b(\w+)$", text)
    if last and last.group(1).lower() in _PRONOUNS:
        kind = _PRONOUNS[last.group(1).lower()]
        if kind == "rel":
            prev = text[:last.start()].rstrip(" ,")
            return _subject(prev, ctx, sent_entities) if prev else None
        if kind == "person":  # "he"/"she": a name spaCy calls an organisation comes last
            sent_entities = sorted(sent_entities, key=lambda e: ctx.ner.get(e[0]) != "organisation")
        for name, k in reversed(sent_entities):
            if k == kind or (kind == "group" and k != "person"):
                return name
        fallback = ctx.entities[-1][0] if ctx.entities and kind != "person" else None
        return ctx.last(kind) or fallback
    segments = [s.strip() for s in re.split(r",|\bthat\b|\band\b|;|—|–|\b(?:said|says|say|told|claimed|"
                                            r"claims|alleged|added|insisted|reported|confirmed|announced)\b", text)
                if s.strip()]
    for seg in reversed(segments):
        if _SUBORD.match(seg) and not _NAME.fullmatch(seg):
            continue
        seg = re.sub(r"^(?:but|so|then)\s+", "", seg, flags=re.I)
        names = list(_names(seg))
        if names:
            m, name = names[-1]
            pre = seg[:m.start()]
            if re.search(r"\b(?:of|at|from|in|for)\s+(?:the\s+)?$", pre) and not re.search(r"[A-Z]", pre[1:]):
                np = _NP.match(seg)
                if np:
                    return np.group("np")
            if m.group(2):
                return f"{name} {m.group(2)}"
            tail = seg[m.end():].strip()
            if tail.lower() in _GROUP_HEADS:
                return f"{name} {tail.lower()}"
            if m.start() == 0 and " " not in name and re.fullmatch(r"[a-z]+(?:s|staff|people)", tail):
                return f"{name} {tail}"  # "Protest organisers", "Kitchen staff": the name is a modifier
            if tail and not re.fullmatch(r"(?:[a-z]+\s?){0,1}", tail):
                continue  # the name sits inside a longer clause ("X addressed the matter")
            return name
        np = _NP.match(seg)
        if np and seg[:1].isalpha():
            phrase = np.group("np")
            if re.match(r"(?:the|its|their)\s", seg, re.I) or len(phrase.split()) <= 2:
                resolved = ctx.describe(phrase)
                if resolved:
                    return resolved
            if len(phrase.split()) == 1 and phrase.lower() not in _ORG_NOUNS and not phrase.endswith("s"):
                return None
            return phrase
        return None
    return None


def _agent(text: str, ctx: Context) -> str | None:
    text = text.strip()
    names = list(_names(text))
    if names:
        m, name = names[0]
        return ctx.full(f"{name} {m.group(2)}" if m.group(2) else name)
    np = _NP.match(text)
    if np:
        return ctx.describe(np.group("np")) or np.group("np")
    return None


def _cue_match(event_type: str, sent: str, start: int = 0, parsed: grammar.Parsed | None = None):
    """The first cue of `event_type` in the sentence that survives the modality, noun-use and
    grammar checks: (match, verb token or None)."""
    for rx in _CUES[event_type]:
        for m in rx.finditer(sent):
            vpos = m.start("v")
            window = sent[:vpos]
            if _modal_before(sent, vpos):
                continue
            generic = "agent" not in rx.groupindex
            if event_type == "allegation_made" and generic and _NOUN_USE.search(window):
                continue
            if event_type == "post_deleted" and (_VETO.search(sent) or (
                    generic and re.search(r"\b(?:was|were|been|be|being)\s+$", window, re.I)
                    and not m.group("v").lower().startswith(("was", "were", "has", "had", "have", "got")))):
                continue
            tok = parsed.token_at(start + vpos) if parsed is not None else None
            if tok is not None and grammar.veto(event_type, tok, generic):
                continue
            return m, tok
    return None, None


def _post_author(sent: str, m, ctx: Context, sent_entities) -> str | None:
    after = sent[m.start():]
    by = _BY.search(after)
    if by and not re.match(r"\s*(?:was|were|been)", sent[m.start("v"):]):
        return ctx.full(_clean(by.group(1)))
    au = _AUTHOR.search(sent)
    if au:
        who = au.group("who").strip()
        if who.lower() in _PRONOUNS:
            return _subject(who, ctx, sent_entities)
        return _agent(who, ctx)
    poss = _POSS_POST.search(sent)
    if poss and poss.start() <= m.end():
        who = poss.group(1)
        if who.lower() in ("his", "her"):
            return ctx.last("person")
        if who.lower() in ("their", "its"):
            return ctx.last("organisation")
        return ctx.full(_clean(re.sub(r"['’]s?$", "", who)))
    if by:
        return ctx.full(_clean(by.group(1)))
    return None


_ORG_MARK = re.compile(r"\b(?:%s)(?:['’]s)?,?\s+$|\b(?:spokes(?:person|man|woman)|representatives?|staff|workers|"
                       r"employees|customers|members|shareholders|chief executive|boss|owners?|directors?)"
                       r"\s+(?:for|of|at)\s+$" % "|".join(_ORG_NOUNS), re.I)


def _mark_organisations(sents, ctx: Context) -> None:
    """Names an article describes as organisations anywhere ("the firm, X", "X quarry",
    "a spokesperson for X"), so a description earlier in the text can already find them."""
    org_tail = re.compile(r"\s+(?:%s)\b" % "|".join(_ORG_NOUNS), re.I)
    for sent, *_ in sents:
        for m, name in _names(sent):
            if _ORG_MARK.search(sent[max(0, m.start() - 40):m.start()]) or org_tail.match(sent[m.end():m.end() + 30]):
                ctx.orgs.add(name)


def _sentence_names(sent: str, start: int, parsed: grammar.Parsed, ctx: Context):
    """The names in a sentence, less capitalised ordinary nouns at its start ("Insurance claims ...")."""
    for m, name in _names(sent):
        if m.start() == 0 and len(name.split()) == 1 and name not in ctx.ner and parsed.is_common_noun(start):
            continue
        yield m, ctx.trim(name)


def extract_many(articles: list[tuple[str, str, datetime]]) -> list[list[Finding]]:
    """extract() for several articles, parsed in one batch (nlp.pipe): the same findings, faster."""
    docs = grammar.parse_many([body for _, body, _ in articles])
    return [extract(title, body, published, doc) for (title, body, published), doc in zip(articles, docs)]


def extract(title: str, body: str, published: datetime, doc=None) -> list[Finding]:
    """The findings of one article. `doc`: the body already parsed by grammar.nlp()."""
    findings: dict[tuple[str, str], Finding] = {}
    ctx = Context()
    parsed = grammar.Parsed(doc if doc is not None else grammar.parse(body))
    ctx.ner = parsed.entity_kinds()
    ctx.people = {n for n, k in ctx.ner.items() if k == "person" and " " in n}
    statements: list[dict] = []  # reported statements: candidates for an unrecorded allegation
    sents = list(sentences(body))
    _mark_organisations(sents, ctx)
    anchor: str | None = None
    for idx, (sent, start, end, para) in enumerate(sents):
        names = list(_sentence_names(sent, start, parsed, ctx))
        sent_entities: list[tuple[str, str]] = []
        for m, name in names:
            if len(name.split()) >= 2 or _ORG_WORDS.search(name) or name in ctx.orgs or name in ctx.ner:
                sent_entities.append((name, ctx.kind(name) if name in ctx.orgs else ctx.guess(name)))
        when_s, prec_s = resolve(sent, published, anchor)
        found_any = False
        found_types: set[str] = set()
        for event_type in ("complaint_filed", "post_deleted", "rebuttal_given", "allegation_made"):
            m, tok = _cue_match(event_type, sent, start, parsed)
            if not m:
                continue
            before = sent[:m.start()]
            ents_before = [(n, k) for n, k in sent_entities if sent.find(n) < m.start()]
            passive_agent = grammar.agent_phrase(tok) if tok is not None else None
            if "agent" in m.groupdict() and m.group("agent"):
                # the parse sees past a description to a named apposition ("a former aide, Tom Becker")
                actor = _agent(passive_agent or m.group("agent"), ctx)
            elif passive_agent and event_type in ("rebuttal_given", "allegation_made"):
                actor = _agent(passive_agent, ctx)  # "the claims were denied by the company"
            elif event_type == "post_deleted":
                actor = _post_author(sent, m, ctx, ents_before)
                if not actor and not re.match(r"(?:was|were|has|had|have|got)\b", m.group("v"), re.I):
                    actor = _subject(before, ctx, ents_before)  # active voice: the subject removed it
            else:
                actor = _subject(before, ctx, ents_before)
            if not _acceptable(actor) or _common_noun_actor(actor, sent, start, parsed, ctx):
                continue
            actor = ctx.full(_speaking_for(actor))
            found_any = True
            found_types.add(event_type)
            details = {"cue": m.group("v").strip()}
            if event_type == "complaint_filed":
                body_m = _BODY.search(sent[m.start("v"):])
                if body_m:
                    details["body"] = body_m.group(1).strip()
            if event_type == "post_deleted":
                plat = _PLATFORM.search(sent)
                if plat:
                    details["platform"] = plat.group(1)
            when, prec = when_s, prec_s
            if event_type in ("allegation_made", "rebuttal_given"):
                # a date inside the reported claim ("alleged that ... in August") dates the conduct, not the claim
                that = re.search(r"\bthat\b", sent[m.end():])
                if that:
                    when, prec = resolve(sent[:m.end() + that.start()], published, anchor)
            target = _target(event_type, tok, sent, m, ctx)
            _record(findings, event_type, actor, sent, start, end, when, prec, details,
                    sents, idx, published, anchor, _confidence(actor, tok, ctx), ctx, target,
                    cue=tok.i if tok is not None else None)
            if event_type in ("complaint_filed", "post_deleted"):
                break  # a stronger cue wins over a generic verb in the same sentence
        # passives the patterns cannot span: "Allegations that X did Y were first made by Z"
        for event_type, tok in grammar.passive_reports(parsed.doc, start, end):
            if event_type in found_types or _modal_before(sent, tok.idx - start):
                continue
            actor = _agent(grammar.agent_phrase(tok), ctx)
            if not _acceptable(actor):
                continue
            found_any = True
            found_types.add(event_type)
            details = {"cue": f"{tok.text} by"}
            if event_type == "complaint_filed":
                body_m = _BODY.search(sent[tok.idx - start:])
                if body_m:
                    details["body"] = body_m.group(1).strip()
            actor = ctx.full(_speaking_for(actor))
            _record(findings, event_type, actor, sent, start, end, when_s, prec_s, details,
                    sents, idx, published, anchor, _confidence(actor, tok, ctx), ctx, None, cue=tok.i)
        if not found_any:
            said = _SAID.search(sent)
            if said and (re.match(r"\s*(?:in\s+\w+\s+\w+\s+)?(?:that\b|[\"“,])", said.group("rest"))
                         or re.search(r"\bthat\b", said.group("rest")[:60])):
                ents_before = [(n, k) for n, k in sent_entities if sent.find(n) < said.start()]
                speaker = _subject(sent[:said.start()], ctx, ents_before)
                if speaker:
                    statements.append({"actor": ctx.full(speaker), "idx": idx, "sent": sent, "start": start,
                                       "end": end, "when": when_s, "prec": prec_s})
        else:
            rebutters = {a for (t, a) in findings if t == "rebuttal_given"}
            if any(t == "rebuttal_given" for (t, _) in findings) and not any(
                    t == "allegation_made" for (t, _) in findings):
                for st in reversed(statements):
                    if idx - st["idx"] <= 2 and st["actor"].lower() not in rebutters:
                        _record(findings, "allegation_made", st["actor"], st["sent"], st["start"], st["end"],
                                st["when"], st["prec"], {"cue": "disputed statement"}, sents, st["idx"],
                                published, anchor, 0.4, ctx, None)
                        break
        for name, kind in sent_entities:
            ctx.add(name, kind)
        if when_s:
            anchor = when_s
    found = _with_rebuttal_targets(sorted(findings.values(), key=lambda f: f.char_start), ctx)
    return postpass.complete(found, parsed.doc, body, published)


_SPEAKER_FOR = re.compile(r"^(?:a|an|the)?\s*(?:spokes(?:person|man|woman)|representative|press officer|"
                          r"lawyers?|solicitors?)\s+(?:for|of)\s+(?:the\s+)?(?P<who>[A-Z].*)$", re.I)


def _speaking_for(actor: str) -> str:
    """'a spokesperson for Northwater' acts for Northwater: the party is the organisation."""
    m = _SPEAKER_FOR.match(actor)
    return m.group("who") if m else actor


def _confidence(actor: str, tok, ctx: Context) -> float:
    """0.5 for a pattern alone; more when the parse agrees the cue is a verb and the actor is a name."""
    score = 0.5
    if tok is not None and tok.pos_ in ("VERB", "AUX"):
        score += 0.2
    if actor[:1].isupper() and (actor in ctx.ner or actor in ctx.orgs or len(actor.split()) > 1):
        score += 0.2
    return round(score, 2)


def _acceptable(actor: str | None) -> bool:
    return bool(actor) and actor.lower() not in _STOP and actor.lower() not in _PRONOUNS and not re.match(
        r"(?:no|nobody|none|neither)\b", actor, re.I)


def _common_noun_actor(actor: str, sent: str, start: int, parsed: grammar.Parsed, ctx: Context) -> bool:
    """'Insurance' in "Insurance claims for storm damage rose": a capitalised singular ordinary
    noun opening the sentence, named nowhere else as a party, is not an actor."""
    known = actor in ctx.orgs or actor in ctx.ner or any(n == actor for n, _ in ctx.entities)
    return (" " not in actor and not actor.endswith("s") and not known and sent.startswith(actor)
            and parsed.is_common_noun(start))


def _modal_before(sent: str, vpos: int) -> bool:
    clause = re.split(r"[,;:]", sent[:vpos])[-1]
    return bool(_MODAL.search(" ".join(clause.split()[-6:]) + " ") or re.match(r"\s*if\b", sent, re.I))


def _entity(name: str | None, ctx: Context) -> dict | None:
    """A target worth naming: a proper name (after resolving short forms), never a bare description."""
    if not name:
        return None
    name = ctx.full(_clean(name))
    if not name or not name[:1].isupper() or name.lower() in _STOP or name.lower() in _PRONOUNS:
        return None
    return {"name": name, "kind": _public_kind(ctx.kind(name))}


def _target(event_type: str, tok, sent: str, m, ctx: Context) -> dict | None:
    """Whom the event is aimed at: the accused ("accused Northwater of ..."), the party a
    complaint is against ("a complaint against X"), the owner of rebutted claims ("denied X's claims")."""
    if tok is None:
        return None
    if event_type == "allegation_made" and tok.lower_.startswith("accus"):
        obj = grammar.object_phrase(tok)
        if obj is not None and obj.pos_ == "PROPN":
            found = list(_names(obj.doc[obj.left_edge.i:obj.i + 1].text))
            return _entity(found[-1][1] if found else None, ctx)
    if event_type == "complaint_filed":
        against = re.search(r"\bagainst\s+((?:the\s+)?(?:%s)(?:\s+(?:of\s+)?%s)*)" % (_CAPWORD, _CAPWORD),
                            sent[m.end():])
        return _entity(against.group(1) if against else None, ctx)
    if event_type == "rebuttal_given":
        obj = grammar.object_phrase(tok)
        poss = [c for c in obj.children if c.dep_ == "poss" and c.pos_ == "PROPN"] if obj is not None else []
        if poss:
            return _entity(poss[0].doc[poss[0].left_edge.i:poss[0].i + 1].text, ctx)
    return None


def _with_rebuttal_targets(found: list[Finding], ctx: Context) -> list[Finding]:
    """A rebuttal with no named target answers the allegation nearest to it in the article."""
    allegations = [f for f in found if f.event_type == "allegation_made"]
    for f in found:
        if f.event_type == "rebuttal_given" and f.target is None and allegations:
            nearest = min(allegations, key=lambda a: (abs(a.char_start - f.char_start), a.char_start))
            if nearest.actor["name"] != f.actor["name"]:
                f.target = {"name": nearest.actor["name"], "kind": nearest.actor["kind"]}
    return found


def _record(findings, event_type, actor, sent, start, end, when, precision, details, sents, idx, published,
            anchor, confidence, ctx, target=None, cue=None):
    if when is None:
        # the date often sits in the next sentence that elaborates the same event
        if idx + 1 < len(sents) and sents[idx + 1][3] == sents[idx][3]:
            nxt = sents[idx + 1][0]
            if not any(_cue_match(t, nxt)[0] for t in _CUES):
                when, precision = resolve(nxt, published, anchor)
    key = (event_type, actor.lower())
    mention = {"sentence": sent.strip(), "char_start": start, "char_end": end}
    for (t, a), f in findings.items():
        if t == event_type and (a == key[1] or re.search(r"\b%s\b" % re.escape(key[1]), a)
                                or re.search(r"\b%s\b" % re.escape(a), key[1])):
            if mention not in f.mentions:
                f.mentions.append(mention)
                f.cue_tokens.append(cue)
            if f.occurred_at is None and when:
                f.occurred_at, f.occurred_precision = when, precision
            return
    quote_m = _QUOTE.search(sent)
    findings[key] = Finding(
        event_type=event_type, actor={"name": actor, "kind": _public_kind(ctx.kind(actor))}, target=target,
        quote=quote_m.group(1) if quote_m else None,
        summary=f"{actor}: {sent.strip()[:200]}", details=details,
        occurred_at=when, occurred_precision=precision, sentence=sent.strip(),
        char_start=start, char_end=end, confidence=confidence, mentions=[mention], cue_tokens=[cue])


def _public_kind(kind: str) -> str:
    """The contract knows persons and organisations; a named collective ("residents of X") counts as the latter."""
    return "person" if kind == "person" else "organisation"
