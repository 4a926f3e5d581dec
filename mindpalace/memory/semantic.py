"""Semantic memory: a knowledge graph of facts with validity intervals, source and confidence.

A fact is a triple (subject, predicate, object) such as ("blue mug", "owned_by", "Alice"), true from
`valid_from` until `valid_to` (None: still open). Facts are never overwritten: when a single-valued fact
changes ("the mug is Bob's now"), the old row is closed and points to its successor, so the store answers
both "whose is it" and "whose was it at 10:00".

Predicates may carry a qualifier after a colon, "has_routine_time:have coffee" or "state:cleanliness": the
part before the colon decides whether the predicate is single-valued, and the whole predicate is the slot,
so Alice's coffee time and pill time are separate facts, each with its own history.

`parse_statement` turns what a person tells the robot ("this mug is Alice's", "I take my pills at 9pm")
into facts with a few bounded regular expressions; text is only ever matched, never evaluated.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mindpalace.memory.bank import Bank, register_schema

SCHEMA = (
    # NOCASE: "Alice" and "alice", "Blue Mug" and "blue mug" are the same name (ASCII case only).
    """CREATE TABLE IF NOT EXISTS facts (
        id INTEGER PRIMARY KEY,
        subject TEXT NOT NULL COLLATE NOCASE,
        predicate TEXT NOT NULL COLLATE NOCASE,
        object TEXT NOT NULL COLLATE NOCASE,
        valid_from REAL NOT NULL,
        valid_to REAL,
        source TEXT NOT NULL,
        confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
        recorded_at REAL NOT NULL,
        superseded_by INTEGER REFERENCES facts (id) ON DELETE SET NULL,
        text TEXT NOT NULL,
        pinned INTEGER NOT NULL DEFAULT 0,
        importance REAL NOT NULL DEFAULT 0.5,
        access_count INTEGER NOT NULL DEFAULT 0,
        last_access REAL,
        size_bytes INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS facts_subject_predicate ON facts (subject, predicate)",
    "CREATE INDEX IF NOT EXISTS facts_object ON facts (object)",
    "CREATE INDEX IF NOT EXISTS facts_valid_to ON facts (valid_to)",
    "CREATE INDEX IF NOT EXISTS facts_valid_from ON facts (valid_from)",
    # Deleting a fact nulls the superseded_by of its predecessors; without this index each delete scans the table.
    "CREATE INDEX IF NOT EXISTS facts_superseded_by ON facts (superseded_by)",
)
register_schema("semantic", SCHEMA)

# Predicates with one current value per (subject, predicate): a new value closes the old one.
SINGLE_VALUED = frozenset({"owned_by", "located_in", "color", "name", "has_routine_time", "belongs_on", "belongs_in", "state"})
# Predicates that contradict each other for the same (subject, object): liking coffee ends disliking it.
OPPOSITES = {"likes": "dislikes", "dislikes": "likes"}
# A newer assertion may be this much less sure than the current one and still replace it.
SUPERSEDE_MARGIN = 0.2
# Memory items a fact can refer to, as "object:12": the keys retrieval uses.
REFERENCE_KINDS = ("object", "event", "snapshot")
# Search terms beyond these limits add cost but no precision.
_MAX_SEARCH_TERMS = 16
_MAX_TERM_CHARS = 64
# Approximate bytes of a row's numeric columns, added to its text bytes for size_bytes.
_NUMERIC_BYTES = 8 * 9


@dataclass(frozen=True)
class FactRecord:
    id: int
    subject: str
    predicate: str
    object: str
    valid_from: float
    valid_to: float | None  # None: still true as far as memory knows
    source: str  # "user", "perception", "inferred", or a speaker's name
    confidence: float
    recorded_at: float  # wall-clock time the row was written
    superseded_by: int | None  # the fact that replaced this one
    text: str
    pinned: bool
    importance: float
    access_count: int
    last_access: float | None
    size_bytes: int

    @property
    def current(self) -> bool:
        return self.valid_to is None


def _record(row: sqlite3.Row) -> FactRecord:
    return FactRecord(
        row["id"],
        row["subject"],
        row["predicate"],
        row["object"],
        row["valid_from"],
        row["valid_to"],
        row["source"],
        row["confidence"],
        row["recorded_at"],
        row["superseded_by"],
        row["text"],
        bool(row["pinned"]),
        row["importance"],
        row["access_count"],
        row["last_access"],
        row["size_bytes"],
    )


def base_predicate(predicate: str) -> str:
    """ "has_routine_time:have coffee" -> "has_routine_time"."""
    return predicate.split(":", 1)[0].strip().lower()


def describe(subject: str, predicate: str, obj: str) -> str:
    """The default sentence of a fact, for text search and the planner's context."""
    return f"{subject} {predicate.replace('_', ' ').replace(':', ' ')} {obj}"


def _clean(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a fact's {what} is text (an object in view is named like 'object:12'), got {value!r}")
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValueError(f"a fact needs a non-empty {what}")
    return cleaned


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _predicate_clause(predicate: str) -> tuple[str, tuple[str, ...]]:
    """Matches the predicate itself and its qualified forms ("has_routine_time" matches "has_routine_time:...")."""
    return "(predicate = ? OR predicate LIKE ? ESCAPE '\\')", (predicate, _like_escape(predicate) + ":%")


def _time_clause(at_time: float | None) -> tuple[str, tuple[float, ...]]:
    if at_time is None:
        return "valid_to IS NULL", ()
    return "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)", (at_time, at_time)


class SemanticStore:
    """Facts in a memory bank's `facts` table."""

    def __init__(
        self, bank: Bank, *, single_valued: Iterable[str] = SINGLE_VALUED, opposites: dict[str, str] | None = None
    ) -> None:
        self.bank = bank
        self.single_valued = frozenset(p.lower() for p in single_valued)
        self.opposites = dict(OPPOSITES if opposites is None else opposites)
        if not bank.readonly:
            # A bank opened before this module was imported was created without the facts table.
            with bank.write() as db:
                for statement in SCHEMA:
                    db.execute(statement)

    # ------------------------------------------------------------------ writing
    def assert_fact(
        self,
        subject: str,
        predicate: str,
        object: str,
        *,
        time_s: float,
        source: str,
        confidence: float = 1.0,
        valid_from: float | None = None,
        valid_to: float | None = None,
        pinned: bool = False,
        importance: float = 0.5,
        text: str | None = None,
    ) -> FactRecord:
        """Record a fact, resolving it against what is already known.

        - The same fact again (still open): its confidence rises (noisy-or), no new row.
        - A different object for a single-valued predicate, or the opposite predicate: the new fact replaces the
          current one if it is newer and at most SUPERSEDE_MARGIN less sure, or if it is surer. The old one is
          closed (valid_to = the new valid_from, or its own valid_from when a surer, older fact shows it was wrong)
          and points to the new one. Otherwise the new fact is kept as history only: closed, pointing to the current.
        - A fact given with `valid_to` is a record of the past and is stored as is.
        """
        subject, predicate, object = _clean(subject, "subject"), _clean(predicate, "predicate"), _clean(object, "object")
        source = _clean(source, "source")
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {confidence}")
        start = float(time_s if valid_from is None else valid_from)
        if valid_to is not None and valid_to < start:
            raise ValueError(f"valid_to {valid_to} is before valid_from {start}")
        sentence = " ".join((text or describe(subject, predicate, object)).split())
        size = sum(len(s.encode()) for s in (subject, predicate, object, source, sentence)) + _NUMERIC_BYTES
        with self.bank.write() as db:
            superseded_by = None
            rivals: list[sqlite3.Row] = []
            if valid_to is None:
                same = db.execute(
                    "SELECT * FROM facts WHERE subject = ? AND predicate = ? AND object = ? AND valid_to IS NULL",
                    (subject, predicate, object),
                ).fetchone()
                if same is not None:
                    return self._reinforce(db, same, confidence, pinned, importance)
                rivals = self._rivals(db, subject, predicate, object)
                holders = [r for r in rivals if not _replaces(start, confidence, r)]
                if holders:
                    holder = max(holders, key=lambda r: r["confidence"])
                    valid_to, superseded_by = max(start, holder["valid_from"]), holder["id"]
            new_id = db.execute(
                """INSERT INTO facts (subject, predicate, object, valid_from, valid_to, source, confidence, recorded_at,
                                      superseded_by, text, pinned, importance, last_access, size_bytes)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    subject,
                    predicate,
                    object,
                    start,
                    valid_to,
                    source,
                    confidence,
                    time.time(),
                    superseded_by,
                    sentence,
                    int(pinned),
                    importance,
                    time_s,
                    size,
                ),
            ).lastrowid
            if superseded_by is None:
                db.executemany(
                    "UPDATE facts SET valid_to = ?, superseded_by = ? WHERE id = ?",
                    [(max(r["valid_from"], start), new_id, r["id"]) for r in rivals],
                )
            row = db.execute("SELECT * FROM facts WHERE id = ?", (new_id,)).fetchone()
        return _record(row)

    def _rivals(self, db: sqlite3.Connection, subject: str, predicate: str, obj: str) -> list[sqlite3.Row]:
        """Open facts the new one contradicts: another value in its slot, or the opposite predicate."""
        rivals = []
        if base_predicate(predicate) in self.single_valued:
            rivals += db.execute(
                "SELECT * FROM facts WHERE subject = ? AND predicate = ? AND object != ? AND valid_to IS NULL",
                (subject, predicate, obj),
            ).fetchall()
        opposite = self.opposites.get(predicate.lower())
        if opposite is not None:
            rivals += db.execute(
                "SELECT * FROM facts WHERE subject = ? AND predicate = ? AND object = ? AND valid_to IS NULL",
                (subject, opposite, obj),
            ).fetchall()
        return rivals

    @staticmethod
    def _reinforce(db: sqlite3.Connection, row: sqlite3.Row, confidence: float, pinned: bool, importance: float) -> FactRecord:
        # Noisy-or: two independent reports, each possibly wrong, are wrong together less often than either.
        db.execute(
            "UPDATE facts SET confidence = 1 - (1 - confidence) * (1 - ?), pinned = MAX(pinned, ?), "
            "importance = MAX(importance, ?) WHERE id = ?",
            (confidence, int(pinned), importance, row["id"]),
        )
        return _record(db.execute("SELECT * FROM facts WHERE id = ?", (row["id"],)).fetchone())

    def assert_parsed(
        self, parsed: ParsedFact, *, time_s: float, source: str = "user", confidence: float = 1.0, pinned: bool = False
    ) -> FactRecord:
        """Store a parsed statement; "this mug" must first be resolved (dataclasses.replace) to what it names."""
        if parsed.needs_grounding:
            raise ValueError(f"ground {parsed.subject!r} / {parsed.object!r} to an object before storing the fact")
        return self.assert_fact(
            parsed.subject,
            parsed.predicate,
            parsed.object,
            time_s=time_s,
            source=source,
            confidence=confidence,
            pinned=pinned,
            text=parsed.text,
        )

    def touch(self, ids: Iterable[int], *, time_s: float | None = None) -> None:
        """Note that facts were used (for forgetting: recency and frequency of use)."""
        now = time.time() if time_s is None else time_s
        with self.bank.write() as db:
            db.executemany(
                "UPDATE facts SET access_count = access_count + 1, last_access = ? WHERE id = ?", [(now, int(i)) for i in ids]
            )

    def delete(self, ids: Iterable[int], *, force: bool = False) -> int:
        """Delete facts; returns how many went. Pinned facts are refused (nothing is deleted) unless `force`."""
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        with self.bank.write() as db:
            if not force:
                pinned = [i for i in ids if db.execute("SELECT 1 FROM facts WHERE id = ? AND pinned = 1", (i,)).fetchone()]
                if pinned:
                    raise PermissionError(f"facts {pinned} are pinned; pass force=True to delete them")
            return db.executemany("DELETE FROM facts WHERE id = ?", [(i,) for i in ids]).rowcount

    # ------------------------------------------------------------------ reading
    def get(self, fact_id: int) -> FactRecord | None:
        rows = self.bank.query("SELECT * FROM facts WHERE id = ?", (int(fact_id),))
        return _record(rows[0]) if rows else None

    def facts_about(self, subject: str, at_time: float | None = None, include_history: bool = False) -> list[FactRecord]:
        """What is known about `subject`: true now (default), true at `at_time`, or every row ever (history)."""
        params: tuple[float, ...]
        if include_history:
            where, params = "1", ()
        else:
            where, params = _time_clause(at_time)
        rows = self.bank.query(
            f"SELECT * FROM facts WHERE subject = ? AND {where} ORDER BY predicate, valid_from, id",
            (_clean(subject, "subject"), *params),
        )
        return [_record(r) for r in rows]

    def who_or_what(self, predicate: str, object: str, at_time: float | None = None) -> list[FactRecord]:
        """Reverse lookup, subjects by (predicate, object): who_or_what("owned_by", "Alice") is what belongs to Alice.

        ("Whose is the blue mug" is the forward lookup `current("blue mug", "owned_by")`.)
        """
        match, names = _predicate_clause(_clean(predicate, "predicate"))
        when, times = _time_clause(at_time)
        rows = self.bank.query(
            f"SELECT * FROM facts WHERE object = ? AND {match} AND {when} ORDER BY confidence DESC, id",
            (_clean(object, "object"), *names, *times),
        )
        return [_record(r) for r in rows]

    def current(self, subject: str, predicate: str) -> list[FactRecord]:
        """Open facts of (subject, predicate) and its qualified forms, surest first (one for a single-valued slot)."""
        match, names = _predicate_clause(_clean(predicate, "predicate"))
        rows = self.bank.query(
            f"SELECT * FROM facts WHERE subject = ? AND {match} AND valid_to IS NULL ORDER BY confidence DESC, id",
            (_clean(subject, "subject"), *names),
        )
        return [_record(r) for r in rows]

    def history(self, subject: str, predicate: str) -> list[FactRecord]:
        """Every row of (subject, predicate) and its qualified forms, oldest validity first."""
        match, names = _predicate_clause(_clean(predicate, "predicate"))
        rows = self.bank.query(
            f"SELECT * FROM facts WHERE subject = ? AND {match} ORDER BY valid_from, id", (_clean(subject, "subject"), *names)
        )
        return [_record(r) for r in rows]

    def facts_between(self, t0: float, t1: float, limit: int = 1000) -> list[FactRecord]:
        """Facts whose validity began in [t0, t1] (learned or changed then), oldest first."""
        rows = self.bank.query(
            "SELECT * FROM facts WHERE valid_from BETWEEN ? AND ? ORDER BY valid_from, id LIMIT ?", (t0, t1, limit)
        )
        return [_record(r) for r in rows]

    def search_text(self, words: str | Sequence[str], *, include_history: bool = False, limit: int = 50) -> list[FactRecord]:
        """Facts whose text, subject or object contains every word (case-insensitive substring; the fallback when
        the embedding index is off). Surest and newest first."""
        terms = words.split() if isinstance(words, str) else [w for word in words for w in str(word).split()]
        terms = [t[:_MAX_TERM_CHARS] for t in terms[:_MAX_SEARCH_TERMS]]
        if not terms:
            return []
        clause = "(text LIKE ? ESCAPE '\\' OR subject LIKE ? ESCAPE '\\' OR object LIKE ? ESCAPE '\\')"
        params: list[Any] = []
        for term in terms:
            params += [f"%{_like_escape(term)}%"] * 3
        current = "" if include_history else " AND valid_to IS NULL"
        rows = self.bank.query(
            f"SELECT * FROM facts WHERE {' AND '.join([clause] * len(terms))}{current} "
            "ORDER BY confidence DESC, valid_from DESC, id LIMIT ?",
            (*params, limit),
        )
        return [_record(r) for r in rows]

    def all_facts(self) -> list[FactRecord]:
        return [_record(r) for r in self.bank.query("SELECT * FROM facts ORDER BY id")]

    def count(self, *, current_only: bool = False) -> int:
        where = " WHERE valid_to IS NULL" if current_only else ""
        return int(self.bank.query(f"SELECT COUNT(*) FROM facts{where}")[0][0])

    def pinned_references(self) -> dict[str, set[int]]:
        """Memory items that pinned facts name as subject or object ("object:12" -> {"object": {12}}), which
        forgetting must keep."""
        found: dict[str, set[int]] = {kind: set() for kind in REFERENCE_KINDS}
        for row in self.bank.query("SELECT subject, object FROM facts WHERE pinned = 1"):
            for value in (row["subject"], row["object"]):
                kind, _, number = value.partition(":")
                if kind.lower() in found and number.isdigit():
                    found[kind.lower()].add(int(number))
        return found


def _replaces(start: float, confidence: float, current: sqlite3.Row) -> bool:
    """Whether a new assertion (valid from `start`) replaces the `current` fact it contradicts."""
    newer = start >= current["valid_from"]  # at the same time, the later report is a correction
    return (newer and confidence >= current["confidence"] - SUPERSEDE_MARGIN) or confidence > current["confidence"]


# ====================================================================== parsing what people say

MAX_STATEMENT_CHARS = 400  # longer input is not a statement to a robot; refusing it bounds the regex work
_MAX_PHRASE_WORDS = 6  # "the big blue ceramic coffee mug"; longer phrases are sentences, not names
_MAX_ACTIVITY_WORDS = 8


@dataclass(frozen=True)
class ParsedFact:
    subject: str
    predicate: str
    object: str
    time: str | None = None  # a clock time "HH:MM" (24 h) the statement names, for routines
    needs_grounding: bool = False  # subject or object says "this/that ...": the caller resolves it to what is in view
    text: str = field(default="", compare=False)  # a sentence for text search


_F = re.IGNORECASE
_NP = r"[a-z0-9][a-z0-9' -]{0,59}?"  # a noun phrase: words, digits, apostrophes, hyphens
_NAME = r"[a-z][a-z'-]{0,29}(?: [a-z][a-z'-]{0,29}){0,2}"
_OWNER = r"(?:(?P<owner>[a-z][a-z-]{0,29}(?: [a-z][a-z-]{0,29})?)'s?|(?P<mine>mine))"
_TIME = r"(?P<time>\d{1,2}(?:[:.]\d{2})?(?: ?[ap]m)?(?: o'clock)?|noon|midnight)"
_FREQ = (
    r"(?:(?:every|each) (?:day|morning|afternoon|evening|night|weekday|week|weekend|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)|daily|on weekdays|on weekends|on workdays|"
    r"in the (?:morning|afternoon|evening)|at night)"
)
_ADVERB = r"(?:(?:usually|always|normally|often|typically|generally|also) )?"
_PLACE_PREP = r"(?P<prep>on top of|onto|on|into|inside|in)"

_NAME_RE = re.compile(rf"(?:my name is|my name's|call me|you can call me|i am called|i'm called) (?P<name>{_NAME})", _F)
_OWNED_RE = re.compile(rf"(?P<thing>{_NP}) (?:is|are) {_OWNER}", _F)
_OWNED_THIS_RE = re.compile(rf"(?P<det>this|that|these|those) (?:is|are) {_OWNER} (?P<thing>{_NP})", _F)
_BELONGS_TO_RE = re.compile(
    rf"(?P<thing>{_NP}) (?:belongs to|belong to|is owned by|are owned by) "
    rf"(?P<owner>me|{_NAME})",
    _F,
)
_GOES_RE = re.compile(
    rf"(?P<thing>{_NP}) (?:goes|go|belongs|belong|lives|live|stays|stay|should go|should be kept|"
    rf"should be|is kept|are kept) (?:always )?{_PLACE_PREP} (?P<place>{_NP})",
    _F,
)
_KEEP_RE = re.compile(
    rf"(?:always )?(?:keep|store|always put) (?P<thing>{_NP}) {_PLACE_PREP} (?P<place>{_NP})"
    rf"(?: from now on)?",
    _F,
)
_PREFERENCE_RE = re.compile(
    r"i (?:really |also |just )?(?P<neg>don't |do not |dont |no longer )?"
    rf"(?:really )?(?P<verb>like|love|enjoy|prefer|dislike|hate)s? (?P<what>{_NP})",
    _F,
)
_ROUTINE_RE = re.compile(rf"i {_ADVERB}(?P<act>{_NP})(?: {_FREQ})? at {_TIME}(?:,? {_FREQ})?", _F)
_ROUTINE_FRONT_RE = re.compile(rf"(?:{_FREQ},? )?at {_TIME}(?:,? {_FREQ})?,? i {_ADVERB}(?P<act>{_NP})", _F)
_STATE_RE = re.compile(rf"(?P<thing>{_NP}) (?:is|are) (?:now |still )?(?P<word>[a-z]{{2,12}})", _F)
_CLOCK_RE = re.compile(r"(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?(?: ?(?P<ampm>[ap]m))?(?: o'clock)?", _F)
_PERIOD_RE = re.compile(r"\b(morning|afternoon|evening|night)s?\b", _F)

_SENTENCE_END = re.compile(r"[!?;\n]+|\.(?!\d)")  # "7.30" is a time, not two sentences
_AM_PM_DOTS = re.compile(r"\b([ap])\.m\.?", _F)
_PREAMBLE = re.compile(
    r"^(?:(?:hey|hi|ok|okay|so)(?: robot)?,? )?(?:please )?"
    r"(?:(?:remember|note|fyi|just so you know)(?: that)?[,:]? )?",
    _F,
)

# State words and the aspect they describe: a new state replaces the old one of the same aspect only
# (a dirty mug can still be broken).
STATE_ASPECTS = {
    "broken": "condition",
    "cracked": "condition",
    "chipped": "condition",
    "damaged": "condition",
    "fixed": "condition",
    "working": "condition",
    "clean": "cleanliness",
    "dirty": "cleanliness",
    "open": "openness",
    "closed": "openness",
    "shut": "openness",
    "locked": "lock",
    "unlocked": "lock",
    "full": "fill",
    "empty": "fill",
    "on": "power",
    "off": "power",
    "hot": "temperature",
    "warm": "temperature",
    "cold": "temperature",
    "wet": "wetness",
    "dry": "wetness",
    "missing": "presence",
    "lost": "presence",
}
COLORS = frozenset(
    {
        "red",
        "orange",
        "yellow",
        "green",
        "blue",
        "purple",
        "pink",
        "brown",
        "black",
        "white",
        "gray",
        "grey",
        "silver",
        "gold",
        "beige",
    }
)
_DEMONSTRATIVES = frozenset({"this", "that", "these", "those", "it"})
_ARTICLES = frozenset({"the", "a", "an", "some"})
_PRONOUNS = frozenset(
    {
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "me",
        "him",
        "her",
        "us",
        "them",
        "his",
        "hers",
        "its",
        "theirs",
        "yours",
        "ours",
        "what",
        "who",
        "which",
        "where",
        "there",
        "here",
    }
)
_SELF = frozenset({"me", "mine", "i", "myself"})


def parse_statement(text: str, speaker: str = "user") -> list[ParsedFact]:
    """Facts in what `speaker` said, one per recognised sentence; [] when nothing is recognised.

    "this mug is Alice's" -> ("this mug", "owned_by", "Alice", needs_grounding); "I take my pills at 9pm" ->
    (speaker, "has_routine_time:take my pills", "21:00", time "21:00"); "keep the keys in the drawer" ->
    ("keys", "belongs_in", "drawer"); "I don't like coffee" -> (speaker, "dislikes", "coffee"); "the red mug is
    broken" -> ("red mug", "state:condition", "broken").
    """
    speaker = " ".join(speaker.split())
    if not isinstance(text, str) or not speaker or len(text) > MAX_STATEMENT_CHARS:
        return []
    text = _AM_PM_DOTS.sub(r"\1m", text.replace("\u2019", "'").replace("\u2018", "'"))
    facts = []
    for sentence in _SENTENCE_END.split(text):
        sentence = " ".join(sentence.split()).strip(" ,:")
        sentence = _PREAMBLE.sub("", sentence, count=1)
        fact = _parse_sentence(sentence, speaker) if sentence else None
        if fact is not None:
            facts.append(fact)
    return facts


def _parse_sentence(s: str, speaker: str) -> ParsedFact | None:
    for parse in (_parse_name, _parse_ownership, _parse_placement, _parse_preference, _parse_routine, _parse_state):
        fact = parse(s, speaker)
        if fact is not None:
            return fact
    return None


def _parse_name(s: str, speaker: str) -> ParsedFact | None:
    m = _NAME_RE.fullmatch(s)
    if m is None:
        return None
    name = _person(m["name"], speaker)
    return ParsedFact(speaker, "name", name, text=f"{speaker}'s name is {name}") if name else None


def _parse_ownership(s: str, speaker: str) -> ParsedFact | None:
    m = _OWNED_THIS_RE.fullmatch(s)
    thing = _phrase(f"{m['det']} {m['thing']}", speaker) if m else None
    if m is None:
        m = _OWNED_RE.fullmatch(s) or _BELONGS_TO_RE.fullmatch(s)
        thing = _phrase(m["thing"], speaker) if m else None
    if m is None or thing is None:
        return None
    owner = speaker if m.groupdict().get("mine") else _person(m["owner"], speaker)
    if owner is None:
        return None
    subject, grounding = thing
    return ParsedFact(subject, "owned_by", owner, needs_grounding=grounding, text=f"{subject} owned by {owner}")


def _parse_placement(s: str, speaker: str) -> ParsedFact | None:
    m = _GOES_RE.fullmatch(s) or _KEEP_RE.fullmatch(s)
    if m is None:
        return None
    thing, place = _phrase(m["thing"], speaker), _phrase(m["place"], speaker)
    if thing is None or place is None:
        return None
    preposition = "on" if m["prep"].lower() in ("on", "onto", "on top of") else "in"
    return ParsedFact(
        thing[0],
        f"belongs_{preposition}",
        place[0],
        needs_grounding=thing[1] or place[1],
        text=f"{thing[0]} belongs {preposition} {place[0]}",
    )


def _parse_preference(s: str, speaker: str) -> ParsedFact | None:
    m = _PREFERENCE_RE.fullmatch(s)
    if m is None:
        return None
    what = _phrase(m["what"], speaker)
    negative_verb = m["verb"].lower() in ("dislike", "hate")
    if what is None or (m["neg"] and negative_verb):  # "I don't hate coffee" says too little to store
        return None
    predicate = "dislikes" if m["neg"] or negative_verb else "likes"
    return ParsedFact(speaker, predicate, what[0], needs_grounding=what[1], text=f"{speaker} {predicate} {what[0]}")


def _parse_routine(s: str, speaker: str) -> ParsedFact | None:
    m = _ROUTINE_RE.fullmatch(s) or _ROUTINE_FRONT_RE.fullmatch(s)
    if m is None:
        return None
    activity = m["act"].lower().strip()
    if len(activity.split()) > _MAX_ACTIVITY_WORDS:
        return None
    period = _PERIOD_RE.search(s)
    clock = _clock(m["time"], period[1].lower() if period else None)
    if clock is None:
        return None
    return ParsedFact(speaker, f"has_routine_time:{activity}", clock, time=clock, text=f"{speaker}: {activity} at {clock}")


def _parse_state(s: str, speaker: str) -> ParsedFact | None:
    m = _STATE_RE.fullmatch(s)
    if m is None:
        return None
    word, thing = m["word"].lower(), _phrase(m["thing"], speaker)
    if thing is None:
        return None
    if word in COLORS:
        predicate = "color"
    elif word in STATE_ASPECTS:
        predicate = f"state:{STATE_ASPECTS[word]}"
    else:
        return None
    return ParsedFact(thing[0], predicate, word, needs_grounding=thing[1], text=f"{thing[0]} is {word}")


def _phrase(raw: str, speaker: str) -> tuple[str, bool] | None:
    """A thing's name and whether it still needs grounding: "the Blue mug" -> ("blue mug", False), "this mug" ->
    ("this mug", True), "my mug" -> ("<speaker>'s mug", False); pronouns and overlong phrases -> None."""
    words = raw.lower().split()
    if not words or len(words) > _MAX_PHRASE_WORDS or words[0] in _PRONOUNS:
        return None
    if words[0] in _DEMONSTRATIVES:
        return " ".join(words), True
    if words[0] in _ARTICLES:
        words = words[1:]
    elif words[0] in ("my", "our"):
        words = [f"{speaker}'s", *words[1:]]
    if not words or words[0] in _ARTICLES or words[0] in _PRONOUNS:
        return None
    return " ".join(words), False


def _person(raw: str, speaker: str) -> str | None:
    """A person named in a statement: "me"/"mine" is the speaker; "alice" is shown as "Alice"; "her" is unknown."""
    words = raw.split()
    if words and words[0].lower() == "the":
        words = words[1:]
    if not words or len(words) > 3:
        return None
    if len(words) == 1 and words[0].lower() in _SELF:
        return speaker
    if words[0].lower() in _PRONOUNS:
        return None
    name = " ".join(words)
    return name.title() if name.islower() else name


def _clock(raw: str, period: str | None) -> str | None:
    """ "9pm" -> "21:00", "7:30" -> "07:30" ("19:30" when said of the evening); None for an impossible time."""
    raw = raw.lower()
    if raw in ("noon", "midnight"):
        return "12:00" if raw == "noon" else "00:00"
    m = _CLOCK_RE.fullmatch(raw)
    if m is None:
        return None
    hour, minute = int(m["h"]), int(m["m"] or 0)
    if minute > 59:
        return None
    if m["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ampm"] == "pm" else 0)
    elif (period in ("afternoon", "evening") and hour < 12) or (period == "night" and 6 <= hour < 12):
        hour += 12  # "every evening at 7" is 19:00; "at night at 1" stays 01:00
    if hour > 23:
        return None
    return f"{hour:02d}:{minute:02d}"
