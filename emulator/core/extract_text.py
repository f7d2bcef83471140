"""Text and message extraction: the explicit triple syntax and the sentence-pattern table of
reference/temporal-invalidation.md §5.4 (the shared types and the registry are in
:mod:`emulator.core.extract`).

The pattern table, tried in this order after the triple syntax (case-insensitive, anchored at
both ends; first match wins):

| Sentence (first-person verb forms also accepted)        | Relation           | Terminates |
|---------------------------------------------------------|--------------------|------------|
| S lives in / moved to / relocated to O                  | LIVES_IN           |            |
| S works at / works for / joined O                       | WORKS_AT           |            |
| S is married to O                                       | MARRIED_TO         |            |
| S's X is O, my X is O                                   | SNAKE(X)           |            |
| S is a / is an O                                        | IS_A               |            |
| S likes / loves / enjoys O                              | LIKES              |            |
| S owns / has O (not the auxiliary "has been", "has to") | OWNS               |            |
| S left O, S no longer works at O                        | NO_LONGER_WORKS_AT | WORKS_AT   |
| S moved out of O                                        | MOVED_OUT_OF       | LIVES_IN   |

S is the leading noun phrase (no comma, semicolon or table verb in it) or a first-person
pronoun; O runs from the verb to the first ``,``, ``;`` or date suffix, less a leading article
(a, an, the).

Cardinality is not set on these facts: :data:`~emulator.core.extract.DEFAULT_CARDINALITY` holds
the table's column (LIKES, IS_A, OWNS multi; the rest single; unknown relations single).

Date suffixes after the verb, ISO forms only (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, timestamps):
"since D", "from D", "in D", "on D" set ``valid_at``; "until D" sets ``invalid_at``; "from D1 to D2"
sets both. Relative dates ("last week") are not resolved, by design.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from .extract import EpisodeView, ExtractionContext, name_or_none, owner_of, parse_date, relation_name
from .facts import Cardinality, ExtractedFact


@dataclass(frozen=True, slots=True)
class SentencePattern:
    """One row of the §5.4 table. ``regex`` matches a whole sentence (case-insensitively) with
    groups ``s`` (subject, or absent for "my"), ``o`` (everything after the verb) and, for the
    possessive row, ``x`` (the attribute; ``relation`` is then None and the relation is
    SNAKE(x)). ``reject`` refuses a match whose ``o`` starts with it. ``triggers`` are the
    words the row's verbs start with: a sentence ``regex`` matches has one of them as a
    blank-delimited word, so a sentence without any is not tried (most sentences match no row,
    and the full match's lazy subject would otherwise try every split point for every row)."""

    relation: str | None
    regex: re.Pattern[str]
    triggers: frozenset[str]
    terminates: str | None = None
    reject: re.Pattern[str] | None = None


def _row(
    relation: str, verbs: str, triggers: str, terminates: str | None = None, reject: str | None = None
) -> SentencePattern:
    regex = re.compile(rf"(?P<s>.+?)\s+(?:{verbs})\s+(?P<o>.+)", re.I)
    return SentencePattern(relation, regex, frozenset(triggers.split()), terminates, re.compile(reject, re.I) if reject else None)


#: §5.4's table in its order (first match wins), with the first-person verb forms ("I live in")
#: that pronoun resolution needs; "I'm" is read as "I am" before matching.
SENTENCE_PATTERNS: tuple[SentencePattern, ...] = (
    _row("LIVES_IN", r"lives? in|moved to|relocated to", "live lives moved relocated"),
    _row("WORKS_AT", r"works? at|works? for|joined", "work works joined"),
    _row("MARRIED_TO", r"(?:is|am) married to", "is am"),
    # X is at most 64 characters: an attribute name, and no quadratic scan of a long sentence.
    SentencePattern(
        None,
        re.compile(r"(?:(?P<s>.+?)['’]s|my)\s+(?P<x>[^,;]{1,64}?)\s+is\s+(?P<o>.+)", re.I),
        frozenset({"is"}),
    ),
    _row("IS_A", r"(?:is|am) an?", "is am"),
    _row("LIKES", r"likes?|loves?|enjoys?", "like likes love loves enjoy enjoys"),
    # "has" as an auxiliary ("has lived in", "has been", "has to") is not ownership.
    _row("OWNS", r"owns?|has|have", "own owns has have", reject=r"(?:been|had|got|to|lived|worked|moved|relocated|joined|"
         r"married|liked|loved|enjoyed|owned|left)\b"),
    _row("NO_LONGER_WORKS_AT", r"left|no longer works? at", "left no", terminates="WORKS_AT"),
    _row("MOVED_OUT_OF", r"moved out of", "moved", terminates="LIVES_IN"),
)

#: A subject or attribute is a noun phrase: it holds none of the table's verbs (so "Alice no
#: longer works at Acme" is not WORKS_AT with subject "Alice no longer").
_VERBS = frozenset(
    "live lives moved relocated work works joined is am married like likes love loves enjoy enjoys "
    "own owns has have left longer".split()
)
_SELF = frozenset({"i", "me", "myself"})
#: Line labels that name a role, not a person: "User: I moved to Berlin." is the owner
#: speaking, "Assistant: ..." the assistant (silent by default).
_ROLE_LABELS = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant", "bot": "assistant",
                "system": "system", "tool": "tool"}
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|myself|mine)\b", re.I)
_NEGATION = re.compile(r"\b(?:not|never)\b|n['’]t\b", re.I)
_I_AM = re.compile(r"\bI['’]m\b", re.I)
_ARTICLE = re.compile(r"(?:a|an|the)\s+", re.I)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_OBJECT_END = re.compile(r"[,;]")
_SPEAKER = re.compile(r"\s*(?P<name>[^:()\[\]\n]{1,64}?)\s*(?:\((?P<role>[^()\n]*)\))?\s*:\s+(?P<body>.*)")
_TRIPLE = re.compile(r"(?P<s>.+?)\s*-\[\s*(?P<r>[^\]]+?)\s*\]->\s*(?P<o>.+?)(?P<opts>(?:\s+@\S+)*)")
_DATE = r"\d{4}(?:-\d{2}(?:-\d{2}(?:[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?"
_DATE_SUFFIX = re.compile(
    rf"(?<!\S)(?:from\s+(?P<f1>{_DATE})\s+to\s+(?P<f2>{_DATE})|(?P<kw>since|from|in|on|until)\s+(?P<d>{_DATE}))"
    r"(?![0-9A-Za-z:+\-])",
    re.I,
)


def _sentences(line: str) -> Iterator[str]:
    """A line's sentences: split after ``.``, ``!``, ``?`` followed by a space or the end (so the
    dot in "2024-01-01T10:00:00.5Z" or "3.5" does not split), ``I'm`` read as ``I am``."""
    for part in _SENTENCE_END.split(line):
        if "'" in part or "’" in part:
            part = _I_AM.sub("I am", part)
        sentence = " ".join(part.split())
        if sentence:
            yield sentence


def _resolve(phrase: str, me: str | None) -> str | None:
    """*phrase* with a first-person pronoun replaced by *me*; None (skip the sentence) when *me*
    is unknown, or when a first-person word sits inside a longer phrase ("my sister")."""
    phrase = phrase.strip()
    if phrase.lower() in _SELF:
        return me
    return None if _FIRST_PERSON.search(phrase) else phrase


def _noun_phrase(phrase: str) -> bool:
    """A subject or attribute: no ``,`` or ``;`` and none of the table's verbs."""
    words = phrase.lower().split()
    return bool(words) and not _OBJECT_END.search(phrase) and not any(w in _VERBS for w in words)


def _object_and_dates(tail: str) -> tuple[str, datetime | None, datetime | None]:
    """§5.4: the object is *tail* up to ``,``, ``;`` or the first date suffix, without a leading
    article; date suffixes anywhere in *tail* set the dates (the first of each kind wins)."""
    cut = len(tail)
    valid: datetime | None = None
    invalid: datetime | None = None
    for m in _DATE_SUFFIX.finditer(tail):
        if m["f1"]:
            start, end = parse_date(m["f1"]), parse_date(m["f2"])
            if start is None or end is None:
                continue
        else:
            date = parse_date(m["d"])
            if date is None:
                continue
            start, end = (None, date) if m["kw"].lower() == "until" else (date, None)
        cut = min(cut, m.start())
        valid = start if valid is None else valid
        invalid = end if invalid is None else invalid
    punct = _OBJECT_END.search(tail)
    if punct is not None:
        cut = min(cut, punct.start())
    return _ARTICLE.sub("", tail[:cut].strip(), count=1).strip(), valid, invalid


class TextExtractor:
    """§5.4, for "text" and "message" episodes (and as the JSON fallback), one fact at most per
    sentence, in order:

    - messages: the author is ``EpisodeView.speaker``; without one, a line may start with
      Graphiti's "Speaker (role): body" / "Speaker: body", which holds until the next such line;
      a bare role word as the label ("User:", "Assistant:", "Human:", "AI:") names the role,
      so "User: I ..." is the owner speaking.
      A message (or line) whose role is in *silent_roles* (default: assistant) gives nothing;
    - first-person pronouns (I, me, myself, my, I'm) are the speaker in a message (the owner if
      the message names none) and the owner in text; unresolved, the sentence is skipped;
    - each sentence is tried as an explicit triple ``S -[REL]-> O [@valid_at=ISO]
      [@invalid_at=ISO] [@multi]`` (taken verbatim, negation is not checked), then, unless it is
      negated (not, never, n't), against :data:`SENTENCE_PATTERNS`; the first match wins and a
      sentence that matches nothing gives nothing.
    """

    def __init__(self, patterns: tuple[SentencePattern, ...] = SENTENCE_PATTERNS,
                 silent_roles: tuple[str, ...] = ("assistant",)) -> None:
        self.patterns = patterns
        self.silent_roles = frozenset(r.lower() for r in silent_roles)
        self._triggers = frozenset().union(*(row.triggers for row in patterns))

    def extract(self, episode: EpisodeView, ctx: ExtractionContext) -> list[ExtractedFact]:
        message = episode.kind == "message"
        if message and (episode.role or "").strip().lower() in self.silent_roles:
            return []
        owner = owner_of(episode, ctx)
        speaker, role = name_or_none(episode.speaker), episode.role
        out: list[ExtractedFact] = []
        for line in episode.content.splitlines():
            if message and episode.speaker is None and (m := _SPEAKER.fullmatch(line)):
                speaker, role, line = name_or_none(m["name"]), m["role"] or episode.role, m["body"]
                if m["role"] is None and speaker is not None and speaker.lower() in _ROLE_LABELS:
                    speaker, role = None, _ROLE_LABELS[speaker.lower()]  # "User: ..." names a role
            if message and (role or "").strip().lower() in self.silent_roles:
                continue
            me = (speaker or owner) if message else owner
            for sentence in _sentences(line):
                fact = self._sentence(sentence, me, ctx)
                if fact is not None:
                    out.append(fact)
        return out

    def _sentence(self, sentence: str, me: str | None, ctx: ExtractionContext) -> ExtractedFact | None:
        triple = _TRIPLE.fullmatch(sentence) if "-[" in sentence and "]->" in sentence else None
        if triple is not None:
            return self._triple(triple, me, ctx)
        words = set(sentence.lower().split())
        if words.isdisjoint(self._triggers) or _NEGATION.search(sentence):
            return None
        for row in self.patterns:
            if not row.triggers & words:
                continue
            m = row.regex.fullmatch(sentence)
            if m is None or (m["s"] is not None and not _noun_phrase(m["s"])):
                continue
            if row.reject is not None and row.reject.match(m["o"]):
                continue
            relation = row.relation
            if relation is None:
                relation = relation_name(m["x"]) if _noun_phrase(m["x"]) else ""
            target, valid, invalid = _object_and_dates(m["o"])
            if not relation or not target:
                continue
            source = _resolve(m["s"], me) if m["s"] is not None else me  # None: the "my X is O" form
            resolved = _resolve(target, me)
            if source is None or resolved is None:
                return None
            return ExtractedFact(source, relation, resolved, valid_at=valid, invalid_at=invalid,
                                 terminates=row.terminates)
        return None

    def _triple(self, m: re.Match[str], me: str | None, ctx: ExtractionContext) -> ExtractedFact | None:
        relation = relation_name(m["r"])
        source, target = _resolve(m["s"], me), _resolve(m["o"], me)
        if not relation or source is None or target is None:
            return None
        valid: datetime | None = None
        invalid: datetime | None = None
        cardinality: Cardinality | None = None
        for option in m["opts"].split():
            name, _, value = option[1:].partition("=")
            date = parse_date(value) if value else None
            if name.lower() == "multi" and not value:
                cardinality = Cardinality.MULTI
            elif name.lower() == "valid_at" and date is not None:
                valid = date
            elif name.lower() == "invalid_at" and date is not None:
                invalid = date
            else:
                ctx.warnings.append(f"triple option {option!r} not understood: ignored")
        return ExtractedFact(source, relation, target, valid_at=valid, invalid_at=invalid, cardinality=cardinality)
