"""Entity matching: which records name the same firm or person, with a score and a reason.

Pure functions over :class:`Candidate` records, no I/O. The lead's ``resolve`` turns the result
into decisions in the case file.

How a decision is reached, in order:

1. **Identifiers.** Records of one kind with the same normalised tax id, or the same
   registration number (within one country), are one entity (rules ``same-tax-id``,
   ``same-registration-number``).
2. **Blocking.** Every record that no tax id anchors yet is compared only with names that share a
   block with it: one of its rarest words, a pair of its rare words, a one-letter-deleted form of
   its rarest words (typos), or the first letters of the name with spaces removed. Blocks larger
   than a cap are skipped, so the work grows with the number of records, not its square. A pair
   is scored only if its sorted words are alike (rapidfuzz, in native threads), or one name's
   words are nearly all in the other's.
3. **Scoring.** Names are compared without their legal form, word by word: each word is aligned
   with its most similar counterpart (rapidfuzz OSA distance, so one-letter typos and swaps
   still align), and every word counts by its rarity (IDF over the distinct names of the case),
   so dropping "Industrial" costs little and dropping "Fina" costs a lot. Numbers and roman
   numerals must agree; words run together ("AGRO INSUMOS") are joined only where the other name
   writes exactly that word; names in any script keep their letters, and an empty name matches
   nothing. Address keys, dates, countries (as ISO-2) and legal forms then raise or lower the
   score.
4. **Decisions.** A record with no tax id attaches to the best-scoring entity above
   ``merge_at`` — unless a *different* entity (one it could not also join: another tax id)
   scores within ``margin`` of it; then it attaches to neither and both become possible matches.
   Two registry records (or two persons) need a corroborating address or date on top of the name;
   two persons whose names differ by a letter (Mario / María) need the same birth date, and a
   person who fits two people that are not one ("J. García López" at Juan's and Josefina's home)
   joins neither. Free-text spellings are folded as one only with the same legal form.

**Transitive safety.** The lead union-finds the merge pairs, so a pair is emitted only when our
own union-find accepted it: merges are applied best first, and a merge is refused when the joined
entity would hold two different tax ids, two registration numbers of one country, two countries,
(persons) two birth dates, or (on a name, not an identifier) legal forms of two families that a
clerk does not swap (an Inc. and a GmbH; "Co." fits any). Every emitted pair therefore joins two entities that were
compatible at that moment, and the union of all emitted pairs is exactly our clusters: no chain
of pairs can connect two firms with different tax ids. A refused merge is reported as a possible
match whose reason says what it conflicts with.
"""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Iterable, NamedTuple, Sequence

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from graphinv.perf import fork_call, fork_map, gc_paused, worker_count
from graphinv.resolve.normalize import (
    STOPWORDS,
    is_placeholder_tax_id,
    legal_form_family,
    name_tokens,
    normalize_address,
    normalize_country,
    normalize_tax_id,
    split_legal_form,
    strip_person_titles,
    tax_id_key,
)

__all__ = [
    "Candidate",
    "Match",
    "match",
    "name_similarity",
    "address_keys",
    "clusters",
    "last_timings",
    "DEFAULT_MERGE_AT",
    "DEFAULT_POSSIBLE_AT",
]

DEFAULT_MERGE_AT = 0.90
DEFAULT_POSSIBLE_AT = 0.75

# Blocks bigger than this are too common a word to say anything; skipping them is what keeps
# blocking linear (a firm whose every word is common still meets its twins through word pairs).
_BLOCK_CAP = 400
_WORD_BLOCK_CAP = 100
# Token pairs below this similarity are not aligned at all.
_TOKEN_ALIGN_AT = 0.6
_ONE_TYPO = 0.92
# The pre-filter before the word-by-word score, on the names' sorted word lists (rapidfuzz
# ratio): a block mate this alike is scored; one at least _PREFILTER_AT alike is scored if its
# words, or the other name's, are nearly all in the other (token_set_ratio); the rest is not.
_PREFILTER_CLOSE = 80
_PREFILTER_AT = 70
_PREFILTER_CONTAINED = 90
_ADDRESS_BONUS = 0.05
_ADDRESS_PENALTY = 0.10
_DATE_BONUS = 0.05
_DATE_PENALTY = 0.15
_FORM_PENALTY = 0.05
_MAX_POSSIBLE_PER_ENTITY = 3
# Below this many spellings (or names to search), the work stays in this process: forking would
# cost more.
_FORK_FROM = 20_000


class Candidate(NamedTuple):
    """One record to resolve: a registry row, a customs party, a watchlist name, an officer.

    ``registered`` is False for a free-text spelling (a customs clerk's importer name): such a
    record may attach to a registry entity on its name alone; two registry records need more.
    A named tuple, like ``Match``: immutable, and made in a third of a frozen dataclass's time
    (a million of each at registry scale).
    """

    id: str
    kind: str
    name: str
    tax_id: str | None = None
    registration_number: str | None = None
    country: str | None = None
    address: str | None = None
    date: str | None = None
    registered: bool = True


class Match(NamedTuple):
    """Two records judged the same (a merge) or perhaps the same (a possible match); ``a < b``."""

    a: str
    b: str
    score: float
    rule: str
    reason: str


#: A judged pair of records by position, the lower first: (a, b, score, rule, reason).
_Pair = tuple[int, int, float, str, str]


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Name:
    kind: str
    text: str  # folded, legal form dropped, titles dropped
    tokens: tuple[str, ...]  # significant words (no stopwords)
    weights: tuple[float, ...]
    digits: frozenset[str]
    spaceless: str
    sort_key: str  # significant words sorted, for the cheap pre-filter


def _core_name(kind: str, name: str) -> tuple[str, str | None]:
    if kind == "Person":
        return " ".join(strip_person_titles(name_tokens(name))), None
    core, form = split_legal_form(name)
    return core, form


# Words clerks abbreviate one way only, and one word written in English or Spanish.
_WORD_FORMS = {"cia": "compania", "intl": "internacional", "international": "internacional",
               "prods": "productos"}
# Abbreviations of several words: one fits each of them alike, so "QUIM. DEL NORTE" beside both
# Química del Norte and Químicos del Norte joins neither (the ambiguity rule).
_ABBREVIATED = {
    "quim": frozenset({"quimica", "quimicas", "quimico", "quimicos"}),
    "chem": frozenset({"chemical", "chemicals"}),
}
_ABBREVIATION_SIM = 0.95


def _significant(text: str) -> tuple[str, ...]:
    return tuple(_WORD_FORMS.get(t, t) for t in text.split() if t not in STOPWORDS)


_ROMAN = re.compile(r"x{0,3}(?:ix|iv|v?i{0,3})")


def _is_roman(token: str) -> bool:
    """A roman numeral of two letters or more ("II", "XIV"); one letter is an initial."""
    return len(token) > 1 and not token.strip("ivx") and _ROMAN.fullmatch(token) is not None


# From here on (CJK, kana, Hangul) one character is a syllable or a word, not a letter.
_IDEOGRAPHIC = "\u2e80"


def _token_sim(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if a[:1].isdigit() or b[:1].isdigit():
        return 0.0  # numbers in names ("Torre 2", "3M") must agree exactly
    if max(a) >= _IDEOGRAPHIC or max(b) >= _IDEOGRAPHIC:
        return 0.0  # 恒瑞 and 恒润 are two names, not a typo
    if _is_roman(a) or _is_roman(b):
        return 0.0  # "Alfa II" and "Alfa III" are two firms, like "Torre 1" and "Torre 2"
    if a in _QUALIFIERS and b in _QUALIFIERS:
        return 0.0  # "Noreste" is not a typo of "Noroeste": two regions, two firms
    if b in _ABBREVIATED.get(a, ()) or a in _ABBREVIATED.get(b, ()):
        return _ABBREVIATION_SIM
    if len(a) == 1 or len(b) == 1:
        # an initial against a word: "H." for "Hassan"
        return 0.9 if a[0] == b[0] else 0.0
    if ("x" in a) != ("x" in b):
        # transliterations write the same sound as x or ks ("Alexander" / "Aleksandr")
        a, b = a.replace("x", "ks"), b.replace("x", "ks")
        if a == b:
            return _ONE_TYPO
    d = OSA.distance(a, b)
    short = min(len(a), len(b))
    if d == 1 and (short >= 4 or (short == 3 and len(a) != len(b))):
        return _ONE_TYPO  # one slip of the clerk's finger in a real word ("FNA" for "Fina")
    return 1.0 - d / max(len(a), len(b))


def _align(a: _Name, b: _Name) -> tuple[float, list[str], list[str]]:
    """IDF-weighted word alignment of two names, 0–1; the words left unmatched; the word pairs
    aligned although spelled differently ("daniel/daniela"; initials are not counted)."""
    ta, tb = a.tokens, b.tokens
    if not ta or not tb:
        return 0.0, [], []  # a name of stopwords alone ("De La Y") names nobody
    wa, wb = a.weights, b.weights
    num = den = 0.0
    free_b: dict[str, list[int]] = {}
    for j in range(len(tb) - 1, -1, -1):
        free_b.setdefault(tb[j], []).append(j)
    used_b: set[int] = set()
    rest_a: list[int] = []
    for i, x in enumerate(ta):
        slots = free_b.get(x)
        if slots:
            j = slots.pop()
            used_b.add(j)
            w = wa[i] if wa[i] < wb[j] else wb[j]
            num += 2 * w
            den += 2 * w
        else:
            rest_a.append(i)
    rest_b = [j for j in range(len(tb)) if j not in used_b]
    unmatched: list[str] = []
    respelled: list[str] = []
    if rest_a and rest_b:
        pairs = []
        for i in rest_a:
            for j in rest_b:
                s = _token_sim(ta[i], tb[j])
                if s >= _TOKEN_ALIGN_AT:
                    pairs.append((s, i, j))
        pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
        done_a: set[int] = set()
        for s, i, j in pairs:
            if i in done_a or j in used_b:
                continue
            done_a.add(i)
            used_b.add(j)
            w = wa[i] if wa[i] < wb[j] else wb[j]
            num += 2 * w * s
            den += 2 * w
            if s < 1.0 and len(ta[i]) > 1 and len(tb[j]) > 1:
                respelled.append(f"{ta[i]}/{tb[j]}")
        rest_a = [i for i in rest_a if i not in done_a]
        rest_b = [j for j in rest_b if j not in used_b]
    for i in rest_a:
        den += wa[i]
        unmatched.append(ta[i])
    for j in rest_b:
        den += wb[j]
        unmatched.append(tb[j])
    return (num / den if den else 0.0), unmatched, respelled


def _name_score(a: _Name, b: _Name) -> tuple[float, str, bool]:
    """``(score, how, respelled)``: respelled when a word only nearly matches ("Daniel" /
    "Daniela"), which for two persons is another person unless a birth date says otherwise."""
    if not a.tokens or not b.tokens:
        return 0.0, "no name", False  # an empty name is like no other, not even another empty one
    if a.text == b.text:
        return 1.0, "same name", False
    score, unmatched, respelled = _align(a, b)
    how = f"names {score:.2f} alike"
    # Words run together or split ("AGRO INSUMOS" / "AGROINSUMOS") fool word alignment: a run of
    # words is joined only where the other name writes exactly that word, so a word that is
    # really different ("Norte" / "Noreste") still counts as different.
    if unmatched:
        ja, jb = _join_runs(a, b.tokens), _join_runs(b, a.tokens)
        if ja is not None or jb is not None:
            joined, rest, near = _align(ja or a, jb or b)
            if joined > score:
                score, unmatched, respelled = joined, rest, near
                how = f"names {joined:.2f} alike, words run together"
    if a.digits != b.digits:
        score = min(score, DEFAULT_POSSIBLE_AT)
        how += " (numbers differ)"
    if unmatched:
        how += " (unmatched: " + ", ".join(sorted(unmatched)[:4]) + ")"
    if respelled and a.kind == "Person":
        how += " (spelled differently: " + ", ".join(sorted(respelled)[:4]) + ")"
    return score, how, bool(respelled)


def _join_runs(name: _Name, other: tuple[str, ...]) -> _Name | None:
    """``name`` with each run of two or three words that ``other`` writes as one word joined."""
    if len(name.tokens) < 2:
        return None
    # A joined run spells one of the other's words: only such a word, found in this name's letters
    # run together, can be one (a substring test in C rules out nearly every pair at once).
    spaceless = name.spaceless
    wanted = {t for t in other if len(t) > 3 and t in spaceless}.difference(name.tokens)
    if not wanted:
        return None
    tokens, weights = name.tokens, name.weights
    out: list[str] = []
    out_w: list[float] = []
    i = 0
    while i < len(tokens):
        for k in (3, 2):
            if i + k <= len(tokens) and "".join(tokens[i:i + k]) in wanted:
                out.append("".join(tokens[i:i + k]))
                out_w.append(max(weights[i:i + k]))
                i += k
                break
        else:
            out.append(tokens[i])
            out_w.append(weights[i])
            i += 1
    if len(out) == len(tokens):
        return None
    return _Name(name.kind, name.text, tuple(out), tuple(out_w), name.digits, name.spaceless, name.sort_key)


def name_similarity(kind: str, a: str, b: str) -> float:
    """The name score of two spellings on their own (0–1): no IDF, qualifiers at half weight."""
    na, nb = _make_name(kind, _core_name(kind, a)[0], None), _make_name(kind, _core_name(kind, b)[0], None)
    return _name_score(na, nb)[0]


# Qualifiers clerks add and drop at will ("del Norte", "Industrial", "Grupo"): half weight, on
# top of their IDF, so "QUIMICOS LAGUNA" still finds "Químicos Laguna del Norte" while "Química
# del Norte" and "Química del Sur" stay two names.
_QUALIFIERS = frozenset(
    "industrial industriales internacional international global mexico mexicana mexicano "
    "norte sur centro oriente poniente occidente pacifico golfo sureste noreste noroeste suroeste "
    "bajio grupo group corporativo holding holdings".split()
)


def _word_weight(token: str) -> float:
    if len(token) == 1:
        return 0.3  # an initial
    return 0.5 if token in _QUALIFIERS else 1.0


_NO_DIGITS: frozenset[str] = frozenset()


def _rarest(tokens: tuple[str, ...], df: dict[str, int]) -> tuple[str, ...]:
    """A name's distinct words of two letters or more, rarest first."""
    return tuple(sorted({t for t in tokens if len(t) > 1}, key=lambda t: (df.get(t, 1), t)))


def _make_name(
    kind: str,
    text: str,
    df: dict[str, int] | None,
    total: int = 1,
    cache: dict[str, float] | None = None,
    tokens: tuple[str, ...] | None = None,
) -> _Name:
    """A name ready to score; ``tokens`` are its ``_significant`` words when already split."""
    tokens = _significant(text) if tokens is None else tokens
    if df is None:
        weights = tuple(_word_weight(t) for t in tokens)
    else:
        # Squared IDF: a word on every tenth firm barely counts, a word only this firm has
        # dominates.
        cache = {} if cache is None else cache
        ws = []
        for t in tokens:
            w = cache.get(t)
            if w is None:
                w = cache[t] = _word_weight(t) * math.log(1.0 + total / df.get(t, 1)) ** 2
            ws.append(w)
        weights = tuple(ws)
    return _Name(
        kind=kind,
        text=text,
        tokens=tokens,
        weights=weights,
        # Numbers and roman numerals; letters only is the common case.
        digits=frozenset(t for t in tokens if t[:1].isdigit() or _is_roman(t)) or _NO_DIGITS,
        spaceless="".join(tokens),
        sort_key=" ".join(sorted(tokens)),
    )


# --------------------------------------------------------------------------------------------
# Entities (clusters of records) under a constrained union-find
# --------------------------------------------------------------------------------------------


class _Entities:
    """Union-find whose clusters never hold two tax ids, two countries, or two birth dates, and
    never join on a name two firms whose legal forms cannot be one (an Inc. and a GmbH)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.tax: list[frozenset[str]] = [frozenset()] * n
        self.reg: list[frozenset[tuple[str, str]]] = [frozenset()] * n
        self.country: list[frozenset[str]] = [frozenset()] * n
        self.dates: list[frozenset[str]] = [frozenset()] * n
        self.addresses: list[frozenset[str]] = [frozenset()] * n
        self.forms: list[frozenset[str]] = [frozenset()] * n
        self.registered: list[bool] = [False] * n
        self.person: list[bool] = [False] * n

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def conflict(self, ra: int, rb: int, *, by_id: bool = False) -> str | None:
        """Why the two entities can never be one, or None; ``by_id`` for a shared identifier,
        which outweighs a clerk's legal form."""
        ta, tb = self.tax[ra], self.tax[rb]
        if ta and tb and ta != tb:
            return f"different tax ids ({', '.join(sorted(ta | tb))})"
        if self.reg[ra] and self.reg[rb]:
            by_country: dict[str, set[str]] = defaultdict(set)
            for country, number in self.reg[ra] | self.reg[rb]:
                by_country[country].add(number)
            clash = [c for c, numbers in by_country.items() if len(numbers) > 1]
            if clash:
                return "different registration numbers"
        ca, cb = self.country[ra], self.country[rb]
        if ca and cb and not (ca & cb):
            return f"different countries ({', '.join(sorted(ca | cb))})"
        if self.person[ra] and _dates_conflict(self.dates[ra], self.dates[rb]):
            return f"different birth dates ({', '.join(sorted(self.dates[ra] | self.dates[rb]))})"
        fa, fb = self.forms[ra], self.forms[rb]
        if not by_id and fa and fb and fa != fb and not any(_forms_agree(x, y) for x in fa for y in fb):
            return f"different legal forms ({', '.join(sorted(fa | fb))})"
        return None

    def union(self, ra: int, rb: int) -> int:
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        # Most of these sets are empty or equal (one country): a new set only when it grows.
        for field in (self.tax, self.reg, self.country, self.dates, self.addresses, self.forms):
            extra = field[rb]
            if extra and not extra <= field[ra]:
                field[ra] = field[ra] | extra
        self.registered[ra] = self.registered[ra] or self.registered[rb]
        return ra


def _forms_agree(a: str, b: str) -> bool:
    # Clerks swap forms within a family (S.A. / S.A. de C.V.), and cut "Co., Ltd." to "Co.".
    return a == "Co." or b == "Co." or legal_form_family(a) == legal_form_family(b)


def _date_agrees(a: str, b: str) -> bool:
    # "1965" agrees with "1965-09-21": a vaguer date is not a contradiction.
    return a.startswith(b) or b.startswith(a)


def _dates_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b) and not any(_date_agrees(x, y) for x in a for y in b)


def _dates_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    return any(len(x) >= 10 and len(y) >= 10 and x == y for x in a for y in b)


# --------------------------------------------------------------------------------------------
# Blocking
# --------------------------------------------------------------------------------------------


class _BlockName(NamedTuple):
    """What blocking reads of a name: kind, text, distinct words of two letters or more (rarest
    first), letters without spaces."""

    kind: str
    text: str
    rare: tuple[str, ...]
    spaceless: str


def _block_names(
    name_texts: Sequence[tuple[str, str]], tokens: Sequence[tuple[str, ...]], df: dict[str, int]
) -> list[_BlockName]:
    return [_BlockName(kind, text, _rarest(words, df), "".join(words))
            for (kind, text), words in zip(name_texts, tokens)]


def _block_entries(names: Sequence[_BlockName]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (block, member) of the names: ``(block, name, single_word)``, parallel arrays.

    A name's blocks: each of its three rarest words; each pair of those words; each
    one-letter-deleted form of its rarest word of five letters or more (a one-letter typo in
    that word still shares one of them with the right spelling: the "symmetric delete" of
    spelling correctors); its first seven letters with spaces removed (six letters or more);
    its whole text when it has no word of two letters. Blocks never mix kinds. Block ids are
    small ints in no particular order (not every id is used). A million names make millions of
    blocks: strings are looked up once per word, deleted form and start, the rest is arrays.
    """
    n = len(names)
    kinds: dict[str, int] = {}
    kind = np.fromiter((kinds.setdefault(nm.kind, len(kinds)) for nm in names), dtype=np.int64, count=n)
    # Words: each name's three rarest, by word id (ids in order of first use).
    top = [nm.rare[:3] for nm in names]
    per_name = np.fromiter(map(len, top), dtype=np.int64, count=n)
    word_ids: dict[str, int] = {}
    wid = np.fromiter((word_ids.setdefault(t, len(word_ids)) for r in top for t in r), dtype=np.int64,
                      count=int(per_name.sum()))
    del top
    w = max(len(word_ids), 1)
    members = [np.repeat(np.arange(n, dtype=np.int64), per_name)]
    keys = [kind[members[0]] * w + wid]
    # Word pairs, each pair once whatever the order of its words.
    first = np.cumsum(per_name) - per_name
    pair_members, pair_keys = [], []
    for i, j in ((0, 1), (0, 2), (1, 2)):
        has = np.flatnonzero(per_name > j)
        x, y = wid[first[has] + i], wid[first[has] + j]
        pair_members.append(has)
        pair_keys.append((kind[has] * w + np.minimum(x, y)) * w + np.maximum(x, y))
    members.append(np.concatenate(pair_members))
    _, pair_ids = np.unique(np.concatenate(pair_keys), return_inverse=True)  # dense: w * w is sparse
    keys.append(pair_ids.ravel().astype(np.int64))
    # Deleted forms of the rarest word (a word's forms made once; a form made twice counts twice).
    words = list(word_ids)
    word_length = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    has = np.flatnonzero(per_name > 0)
    has = has[word_length[wid[first[has]]] >= 5]
    rarest = wid[first[has]]
    distinct = np.unique(rarest)
    typo_ids: dict[str, int] = {}
    count_of = np.zeros(w, dtype=np.int64)
    start_of = np.zeros(w, dtype=np.int64)
    count_of[distinct] = word_length[distinct]  # a word of L letters has L deleted forms
    start_of[distinct] = np.cumsum(count_of[distinct]) - count_of[distinct]
    flat = np.fromiter((typo_ids.setdefault(x[:i] + x[i + 1:], len(typo_ids))
                        for x in map(words.__getitem__, distinct.tolist()) for i in range(len(x))),
                       dtype=np.int64, count=int(count_of.sum()))
    del words
    repeat = count_of[rarest]
    typo_name = np.repeat(has, repeat)
    ramp = np.arange(len(typo_name), dtype=np.int64) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    members.append(typo_name)
    keys.append(kind[typo_name] * max(len(typo_ids), 1) + flat[np.repeat(start_of[rarest], repeat) + ramp])
    # Name starts, and whole texts of names without a word of two letters.
    for texts in ([nm.spaceless[:7] if len(nm.spaceless) >= 6 else None for nm in names],
                  [nm.text if not nm.rare and nm.text else None for nm in names]):
        has = np.fromiter((i for i, t in enumerate(texts) if t is not None), dtype=np.int64)
        text_ids: dict[str, int] = {}
        tid = np.fromiter((text_ids.setdefault(texts[i], len(text_ids)) for i in has.tolist()), dtype=np.int64,
                          count=len(has))
        members.append(has)
        keys.append(kind[has] * max(len(text_ids), 1) + tid)
    # One id space: each block type's (dense) keys above the previous type's.
    offset = 0
    for k, type_keys in enumerate(keys):
        keys[k] = type_keys + offset
        offset += int(type_keys.max()) + 1 if len(type_keys) else 0
    single_word = np.zeros(sum(map(len, keys)), dtype=bool)
    single_word[: len(keys[0])] = True
    return np.concatenate(keys), np.concatenate(members), single_word


def _blocks(names: Sequence[_BlockName]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(block, name, size)``: the names' blocks under their caps, members sorted by block.

    ``block`` and ``name`` are parallel: one entry per (block, member), blocks of one name
    only or over their cap left out (a single word's cap is lower than a word pair's or a typo
    form's: its members share the least, and at a million names they would be most of the
    work). ``size[block]`` is a block's size.
    """
    entry_key, entry_name, single_word = _block_entries(names)
    cap = np.where(single_word, _WORD_BLOCK_CAP, _BLOCK_CAP)
    size = np.bincount(entry_key)
    keep = (size[entry_key] >= 2) & (size[entry_key] <= cap)
    entry_key, entry_name = entry_key[keep], entry_name[keep]
    order = np.argsort(entry_key * max(len(names), 1) + entry_name, kind="stable")  # by block, then name
    return entry_key[order], entry_name[order], size


def _candidate_pairs(
    names: list[_Name], blocks: tuple[np.ndarray, np.ndarray, np.ndarray], searching: bytearray
) -> tuple[np.ndarray, np.ndarray]:
    """``(owners, mates)``: every pair of a searching name and a block mate worth scoring.

    A searching name meets every name that shares a block with it (see ``_block_entries`` and
    ``_blocks``). Blocks are symmetric, so of two searching names the lower one owns the pair:
    each pair comes once, sorted by owner then mate. A pair stays only if the two sorted word
    lists are alike enough (rapidfuzz, the pre-filter). At a million names there are tens of
    millions of block mates, so the join runs on arrays and the pre-filter in rapidfuzz's
    threads.
    """
    entry_key, entry_name, size = blocks
    # Each searching member of a block meets all the block's members.
    is_searching = np.frombuffer(bytes(searching), dtype=np.uint8).astype(bool)
    seekers = np.flatnonzero(is_searching[entry_name])
    block_start = np.searchsorted(entry_key, entry_key[seekers], side="left")
    block_size = size[entry_key[seekers]]
    owners = np.repeat(entry_name[seekers], block_size)
    ramp = np.arange(len(owners), dtype=np.int64) - np.repeat(np.cumsum(block_size) - block_size, block_size)
    mates = entry_name[np.repeat(block_start, block_size) + ramp]
    del ramp
    wanted = (mates != owners) & ((mates > owners) | ~is_searching[mates])
    pair = np.sort(owners[wanted] * len(names) + mates[wanted])
    pair = pair[np.concatenate((pair[:1] == pair[:1], pair[1:] != pair[:-1]))]  # each pair once
    owners, mates = np.divmod(pair, len(names))
    # Sort keys are sorted word lists already, so plain ``ratio`` is their token_sort_ratio.
    keys = np.array([nm.sort_key for nm in names], dtype=object)
    a, b = keys[owners], keys[mates]
    workers = worker_count()
    similar = process.cpdist(a, b, scorer=fuzz.ratio, score_cutoff=_PREFILTER_AT, dtype=np.float64, workers=workers)
    hit = similar >= _PREFILTER_AT
    # Less alike than that, a pair is worth scoring only if one name's words are (nearly) all in
    # the other's: words a clerk dropped ("QUIMICOS LAGUNA" for "Químicos Laguna del Norte").
    weak = np.flatnonzero(hit & (similar < _PREFILTER_CLOSE))
    contained = process.cpdist(a[weak], b[weak], scorer=fuzz.token_set_ratio, dtype=np.float64, workers=workers)
    hit[weak[contained < _PREFILTER_CONTAINED]] = False
    return owners[hit], mates[hit]


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def match(
    candidates: Iterable[Candidate],
    *,
    merge_at: float = DEFAULT_MERGE_AT,
    possible_at: float = DEFAULT_POSSIBLE_AT,
    margin: float = 0.05,
) -> tuple[list[Match], list[Match]]:
    """``(merges, possible)`` over the candidates, each sorted by ``(a, b)``.

    ``merges`` are pairs the caller may union-find freely (see the module docstring);
    ``possible`` are pairs scoring at least ``possible_at`` that were not merged, at most three
    per entity, best first — the ``POSSIBLY_SAME_AS`` links.
    """
    with gc_paused():
        return _match(candidates, merge_at=merge_at, possible_at=possible_at, margin=margin)


#: Seconds spent in each phase of the last ``match()`` call (for the benchmark's breakdown).
last_timings: dict[str, float] = {}


def _match(
    candidates: Iterable[Candidate], *, merge_at: float, possible_at: float, margin: float
) -> tuple[list[Match], list[Match]]:
    last_timings.clear()
    clock = [time.perf_counter()]

    def _lap(phase: str | None) -> None:
        now = time.perf_counter()
        if phase:
            last_timings[phase] = round(now - clock[0], 3)
        clock[0] = now

    recs: list[Candidate] = sorted(candidates, key=attrgetter("id"))
    n = len(recs)
    ids = [c.id for c in recs]
    ent = _Entities(n)
    # Pairs as record positions (lower first) until the end: records are sorted by id, so
    # positions sort as the ids do, and ints sort faster.
    merges: list[_Pair] = []

    _lap(None)
    # ---- per-record fields ------------------------------------------------------------------
    # Each distinct spelling loses its legal form once, in worker processes at scale.
    spelling_index: dict[tuple[str, str], int] = {}
    rec_spelling = [spelling_index.setdefault((c.kind, c.name), len(spelling_index)) for c in recs]
    spellings = list(spelling_index)
    del spelling_index

    def split(start: int, end: int) -> list[tuple[str, str | None]]:
        return [_core_name(kind, name) for kind, name in spellings[start:end]]

    # Workers split the spellings while this process reads the records' other fields.
    parts = fork_map(split, len(spellings), min_items=_FORK_FROM)
    # Each country as given: (normalised, as a one-country set); a few for a million records.
    countries: dict[str | None, tuple[str, frozenset[str]]] = {}
    # Records by identifier, for the merges of phase 2, and the free-text records without one.
    by_tax: dict[tuple, list[int]] = defaultdict(list)
    by_reg: dict[tuple, list[int]] = defaultdict(list)
    free_text: list[int] = []
    for i, c in enumerate(recs):
        found = countries.get(c.country)
        if found is None:
            norm = normalize_country(c.country)
            found = countries[c.country] = (norm, frozenset((norm,)) if norm else frozenset())
        country, country_set = found
        tax = tax_id_key(c.tax_id, country or None) if c.tax_id else ""
        if tax:
            ent.tax[i] = frozenset((tax,))
            by_tax[(c.kind, tax)].append(i)
        reg = normalize_tax_id(c.registration_number) if c.registration_number else ""
        if reg and not is_placeholder_tax_id(reg):
            ent.reg[i] = frozenset(((country, reg),))
            by_reg[(c.kind, country, reg)].append(i)
        elif not ent.tax[i] and not c.registered and c.kind != "Person":
            free_text.append(i)
        if country:
            ent.country[i] = country_set
        if c.date:
            ent.dates[i] = frozenset((c.date.strip(),))
        if c.address and c.address.strip():
            ent.addresses[i] = frozenset((c.address,))  # parsed only when a comparison needs it
        ent.registered[i] = c.registered
        ent.person[i] = c.kind == "Person"
    # Each spelling's name (its kind and text without the legal form), then each record's.
    name_index: dict[tuple[str, str], int] = {}
    name_texts: list[tuple[str, str]] = []
    spelling_name: list[int] = []
    spelling_form: list[str | None] = []
    for (kind, _spelling), (core, form) in zip(spellings, chain.from_iterable(parts)):
        key = (kind, core)
        idx = name_index.get(key)
        if idx is None:
            idx = name_index[key] = len(name_texts)
            name_texts.append(key)
        spelling_name.append(idx)
        spelling_form.append(form)
    rec_name: list[int] = [spelling_name[s] for s in rec_spelling]
    rec_form: list[str | None] = [spelling_form[s] for s in rec_spelling]
    del spelling_name, spelling_form, rec_spelling
    form_sets: dict[str, frozenset[str]] = {}
    for i, form in enumerate(rec_form):
        if form is not None:
            ent.forms[i] = form_sets.get(form) or form_sets.setdefault(form, frozenset((form,)))

    _lap("prepare")
    # ---- 1. names and IDF weights; their blocks, built by a worker meanwhile -------------------
    words = [_significant(text) for _kind, text in name_texts]
    df: dict[str, int] = defaultdict(int)
    for ws in words:
        for t in set(ws):
            df[t] += 1
    # The worker needs only each name's rarest words: it starts before the names are made.
    blocks = fork_call(lambda: _blocks(_block_names(name_texts, words, df)), len(name_texts), min_items=_FORK_FROM)
    total = max(len(name_texts), 1)
    weight_cache: dict[str, float] = {}
    names = [_make_name(kind, text, df, total, weight_cache, ws) for (kind, text), ws in zip(name_texts, words)]

    _lap("names")
    # ---- 2. identifiers -----------------------------------------------------------------------
    refused_ids: list[_Pair] = []

    def join_by(groups: dict[tuple, list[int]], rule: str, label: str) -> None:
        for key in sorted(key for key, members in groups.items() if len(members) > 1):
            members = groups[key]
            head = members[0]
            for other in members[1:]:
                ra, rb = ent.find(head), ent.find(other)
                if ra == rb:
                    continue
                why = ent.conflict(ra, rb, by_id=True)
                if why is not None:
                    # for the analyst to judge: one id on both, and something that contradicts it
                    refused_ids.append(_pair(head, other, 1.0, "possible", f"same {label} {key[-1]}; not merged: {why}"))
                    continue
                ent.union(ra, rb)
                merges.append((head, other, 1.0, rule, f"same {label} {key[-1]}"))

    join_by(by_tax, "same-tax-id", "tax id")
    join_by(by_reg, "same-registration-number", "registration number")

    # A customs clerk's spelling typed twice is one party: fold identical free-text spellings
    # (no identifier, no contradicting country, the same legal form or none on both) together
    # before the fuzzy work. "ACME TRADING INC" and "ACME TRADING GMBH" are not one spelling,
    # nor is a bare "ACME TRADING" (it could be either): those are scored like any other pair.
    spelled: dict[tuple, list[int]] = defaultdict(list)
    for i in free_text:
        if ent.find(i) == i and not ent.tax[i] and not ent.reg[i] and names[rec_name[i]].tokens:
            spelled[(rec_name[i], countries[recs[i].country][0], rec_form[i] or "")].append(i)
    for key in sorted(key for key, members in spelled.items() if len(members) > 1):
        members = spelled[key]
        for other in members[1:]:
            ra, rb = ent.find(members[0]), ent.find(other)
            if ra != rb and ent.conflict(ra, rb) is None:
                ent.union(ra, rb)
                merges.append((members[0], other, 1.0, "same-spelling",
                                    "the same free-text spelling, no identifier on either"))

    _lap("identifiers")
    # Which entities carry each name, and one record of each (for the reason and legal form).
    roots = [ent.find(i) for i in range(n)]
    carriers: dict[int, dict[int, int]] = defaultdict(dict)
    for i, root in enumerate(roots):
        carriers[rec_name[i]].setdefault(root, i)
    # Entities a tax id does not settle: no tax id, or an id no registry record carries.
    open_names = sorted({rec_name[i] for i, root in enumerate(roots) if not ent.tax[root] or not ent.registered[root]})
    del roots

    # ---- 3. score entity pairs ------------------------------------------------------------------
    # A candidate for an entity pair: (x, y, score, record a, record b, reason, eligible, exact).
    Update = tuple[int, int, float, int, int, str, bool, bool]
    floor = possible_at - _ADDRESS_BONUS - _DATE_BONUS

    def consider(na: int, nb: int, s_name: float, how: str, respelled: bool, out: list[Update]) -> None:
        ca_all, cb_all = carriers[na], carriers[nb]
        if len(ca_all) * len(cb_all) > 20_000:
            return  # a name carried by thousands of entities (a placeholder like "THE BEARER")
        for ra, ia in ca_all.items():
            for rb, ib in cb_all.items():
                if ra == rb:
                    continue
                if ent.tax[ra] and ent.tax[rb] and (
                    (ent.registered[ra] and ent.registered[rb]) or s_name < merge_at
                ):
                    # Two valid, different tax ids are two entities. Only a clerk's spelling
                    # whose id matches no registry firm is worth a look (a mistyped id).
                    continue
                score, reason, eligible = _evaluate(ent, ra, rb, ia, ib, s_name, how, respelled, rec_form)
                if score >= possible_at:
                    x, y = (ra, rb) if ra < rb else (rb, ra)
                    out.append((x, y, score, ia, ib, reason, eligible, s_name >= 0.999))

    # A name searches its blocks unless a registry firm of exactly that name settles it (that
    # firm outranks any near spelling, see the ambiguity rule below, so the fuzzy search could
    # only add review links).
    searching = bytearray(len(names))
    for na in open_names:
        if not (len(carriers[na]) > 1 and any(ent.tax[r] and ent.registered[r] for r in carriers[na])):
            searching[na] = 1
    owners, mates = _candidate_pairs(names, blocks(), searching)
    _lap("candidates")

    def score(start: int, end: int) -> list[Update]:
        out: list[Update] = []
        slice_names = open_names[start:end]
        firsts = np.searchsorted(owners, slice_names, side="left").tolist()
        lasts = np.searchsorted(owners, slice_names, side="right").tolist()
        for na, first, last in zip(slice_names, firsts, lasts):
            if len(carriers[na]) > 1 and names[na].tokens:
                consider(na, na, 1.0, "same name", False, out)
            for nb in mates[first:last].tolist():
                lo, hi = (na, nb) if na < nb else (nb, na)
                s_name, how, respelled = _name_score(names[lo], names[hi])
                if s_name >= floor:
                    consider(lo, hi, s_name, how, respelled, out)
        return out

    # The best candidate per entity pair; on a tie the first one found wins. Updates arrive in
    # the same order however the work was split, so the outcome does not depend on the workers.
    best: dict[tuple[int, int], tuple[float, int, int, str, bool, bool]] = {}
    for part in fork_map(score, len(open_names), min_items=_FORK_FROM):
        for x, y, s, ia, ib, reason, eligible, exact in part:
            prev = best.get((x, y))
            if prev is None or s > prev[0]:
                best[(x, y)] = (s, ia, ib, reason, eligible, exact)

    _lap("scoring")
    # ---- 4. decisions -------------------------------------------------------------------------
    # Ambiguity: an entity without a tax id whose two best merge partners cannot be one entity
    # (different tax ids) and score within `margin` of each other joins neither.
    # A partner with exactly the same name outranks any near spelling, however close.
    partners: dict[int, list[tuple[bool, float, int]]] = defaultdict(list)
    for (x, y), (score, _ia, _ib, _reason, eligible, exact) in best.items():
        if eligible:
            partners[x].append((exact, score, y))
            partners[y].append((exact, score, x))
    ambiguous: dict[int, str] = {}

    def one_person(x: int, y: int) -> bool:
        found = best.get((x, y) if x < y else (y, x))
        return found is not None and found[4] and found[0] >= merge_at and ent.conflict(x, y) is None

    for r, lst in partners.items():
        if ent.tax[r] or len(lst) < 2:
            continue
        lst.sort(key=lambda p: (not p[0], -p[1], p[2]))
        if ent.person[r]:
            # "J. García López" at the home of Juan and of Josefina García López could be either:
            # a person who fits two people that are not one joins neither, however close.
            fits = [other for _exact, score, other in lst[:10] if score >= merge_at]
            if any(not one_person(x, y) for k, x in enumerate(fits) for y in fits[k + 1:]):
                ambiguous[r] = "fits two different persons"
            continue
        top_exact, top_score, top = lst[0]
        for exact, score, other in lst[1:]:
            if exact != top_exact or top_score - score > margin:
                break
            if ent.conflict(top, other) is not None:
                ambiguous[r] = "another entity scores as high"
                break

    # Best score first, ties by the records' ids (records are sorted by id: compare positions).
    order = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2]))
    refused: dict[tuple[int, int], str] = {}
    for (x, y), (score, ia, ib, reason, eligible, _exact) in order:
        if not eligible or score < merge_at:
            continue
        if x in ambiguous or y in ambiguous:
            refused[(x, y)] = ambiguous.get(x) or ambiguous[y]
            continue
        ra, rb = ent.find(x), ent.find(y)
        if ra == rb:
            continue
        why = ent.conflict(ra, rb)
        if why is not None:
            refused[(x, y)] = why
            continue
        ent.union(ra, rb)
        rule = "name+address" if "same address" in reason else "name-fuzzy"
        merges.append(_pair(ia, ib, score, rule, reason))

    possible: list[_Pair] = []
    per_entity: dict[int, int] = defaultdict(int)
    seen_final: set[tuple[int, int]] = set()
    for pair in refused_ids:
        fx, fy = ent.find(pair[0]), ent.find(pair[1])
        final = (fx, fy) if fx < fy else (fy, fx)
        if fx != fy and final not in seen_final:
            seen_final.add(final)
            per_entity[fx] += 1
            per_entity[fy] += 1
            possible.append(pair)
    for (x, y), (score, ia, ib, reason, _eligible, _exact) in order:
        fx, fy = ent.find(x), ent.find(y)
        if fx == fy:
            continue
        final = (fx, fy) if fx < fy else (fy, fx)
        if final in seen_final:
            continue
        if per_entity[fx] >= _MAX_POSSIBLE_PER_ENTITY or per_entity[fy] >= _MAX_POSSIBLE_PER_ENTITY:
            continue
        seen_final.add(final)
        per_entity[fx] += 1
        per_entity[fy] += 1
        extra = refused.get((x, y))
        if extra:
            reason = f"{reason}; not merged: {extra}"
        possible.append(_pair(ia, ib, score, "possible", reason))

    merges.sort()
    possible.sort()
    _lap("decisions")
    return ([Match(ids[a], ids[b], score, rule, reason) for a, b, score, rule, reason in merges],
            [Match(ids[a], ids[b], score, rule, reason) for a, b, score, rule, reason in possible])


def _pair(a: int, b: int, score: float, rule: str, reason: str) -> _Pair:
    if b < a:
        a, b = b, a
    return (a, b, round(min(max(score, 0.0), 1.0), 4), rule, reason)


def _evaluate(
    ent: _Entities,
    ra: int,
    rb: int,
    ia: int,
    ib: int,
    s_name: float,
    how: str,
    respelled: bool,
    rec_form: Sequence[str | None],
) -> tuple[float, str, bool]:
    """Score of two entities from their names plus corroboration; and may they merge at all?"""
    score = s_name
    notes = [how]
    corroborated = same_date = False
    aa, ab = ent.addresses[ra], ent.addresses[rb]
    if aa and ab:
        aa, ab = _building_keys(aa), _building_keys(ab)
    if aa and ab:
        if aa & ab:
            score += _ADDRESS_BONUS
            corroborated = True
            notes.append("same address")
        else:
            score -= _ADDRESS_PENALTY if not ent.person[ra] else _ADDRESS_BONUS
            notes.append("addresses differ")
    da, db = ent.dates[ra], ent.dates[rb]
    if da and db:
        if _dates_agree(da, db):
            score += _DATE_BONUS
            corroborated = same_date = True
            notes.append("same date")
        elif _dates_conflict(da, db):
            score -= _DATE_PENALTY
            notes.append("dates differ")
    fa, fb = legal_form_family(rec_form[ia]), legal_form_family(rec_form[ib])
    if fa and fb and fa != fb:
        score -= _FORM_PENALTY
        notes.append("legal forms differ")
    ca, cb = ent.country[ra], ent.country[rb]
    if ca and cb and ca & cb:
        notes.append("same country")
    score = min(max(score, 0.0), 1.0)
    why = ent.conflict(ra, rb)
    eligible = why is None
    if why is not None:
        notes.append(why)
    elif ent.person[ra] and not corroborated:
        eligible = False
        notes.append("a person's name alone is not enough")
    elif ent.person[ra] and respelled and not same_date:
        # Mario and María, Julio and Julia, Juan and Juana share homes: a name a letter apart
        # is another person, unless one birth date says it is a transliteration (Lavrentiy /
        # Lavrentii).
        eligible = False
        notes.append("a person's name spelled differently needs the same birth date")
    elif ent.registered[ra] and ent.registered[rb] and not corroborated:
        eligible = False
        notes.append("two registry records need an address or date in common")
    return score, "; ".join(notes), eligible


def _building_keys(texts: frozenset[str]) -> frozenset[str]:
    return frozenset(normalize_address(t).key for t in texts)


def clusters(merges: Iterable[Match]) -> list[list[str]]:
    """The entities the merge pairs make (each a sorted id list), sorted; for tests and reports."""
    with gc_paused():
        return _clusters(merges)


def _clusters(merges: Iterable[Match]) -> list[list[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in merges:
        ra, rb = find(m.a), find(m.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for x in parent:
        groups[find(x)].append(x)
    return sorted(sorted(g) for g in groups.values())


def address_keys(texts: Iterable[str]) -> dict[str, str]:
    """``{address text: building key}``; texts with the same key are one ``Address`` node."""
    with gc_paused():
        return {t: normalize_address(t).key for t in dict.fromkeys(texts) if t and t.strip()}
