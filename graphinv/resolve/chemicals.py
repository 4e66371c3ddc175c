"""The precursor lexicon: which watched chemical a customs product text names, in any spelling or salt."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from graphinv.model import fold

__all__ = ["Chemical", "canonical_chemical", "chemical_key", "find_chemical", "lexicon"]


@dataclass(frozen=True)
class Chemical:
    """One watched chemical: its canonical name and every way a clerk or a list may write it."""

    name: str
    category: str
    control: str
    synonyms: tuple[str, ...]
    abbreviations: tuple[str, ...]
    cas: tuple[str, ...]
    hs_codes: tuple[str, ...]


# Salt, hydrate, grade and form words say how a chemical is sold, not which chemical it is:
# "4 PIPERIDONA MONOHIDRATO CLORHIDRATO" is 4-piperidone. "chloride"/"cloruro" is NOT here:
# propionyl chloride is a different chemical from propionic acid.
_NOISE = frozenset(
    [
        "hydrochloride",
        "dihydrochloride",
        "hcl",
        "clorhidrato",
        "diclorhidrato",
        "hidrocloruro",
        "monoclorhidrato",
        "hydrobromide",
        "bromhidrato",
        "hbr",
        "sulfate",
        "sulphate",
        "sulfato",
        "hemisulfate",
        "tartrate",
        "bitartrate",
        "tartrato",
        "bitartrato",
        "phosphate",
        "fosfato",
        "salt",
        "sal",
        "sales",
        "base",
        "freebase",
        "free",
        "libre",
        "hydrate",
        "monohydrate",
        "dihydrate",
        "trihydrate",
        "hemihydrate",
        "sesquihydrate",
        "hidrato",
        "monohidrato",
        "dihidrato",
        "trihidrato",
        "hemihidrato",
        "monohidratado",
        "monohidratada",
        "hidratado",
        "hidratada",
        "dihidratado",
        "dihidratada",
        "anhydrous",
        "anhidro",
        "anhidra",
        "anhydro",
        "usp",
        "bp",
        "ep",
        "nf",
        "jp",
        "acs",
        "grade",
        "grado",
        "industrial",
        "tecnico",
        "tecnica",
        "technical",
        "pharma",
        "pharmaceutical",
        "farmaceutico",
        "farmaceutica",
        "reagent",
        "reactivo",
        "pure",
        "puro",
        "pura",
        "purity",
        "pureza",
        "min",
        "minimum",
        "minimo",
        "powder",
        "polvo",
        "crystals",
        "crystalline",
        "cristales",
        "cristalino",
        "cristalina",
        "granular",
        "granulado",
        "granulada",
        "liquid",
        "liquido",
        "liquida",
        "solution",
        "solucion",
        "aqueous",
        "acuosa",
    ]
)
_EDGE_WORDS = frozenset({"de", "del", "of", "en", "in", "y", "and", "con", "with"})
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s*%")
_PAREN = re.compile(r"\(([^()]*)\)")
_CAS = re.compile(r"\b(\d{2,7})-(\d{2})-(\d)\b")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _tokens(text: str) -> list[str]:
    words = _NON_ALNUM.sub(" ", _PERCENT.sub(" ", fold(text))).split()
    words = [w for w in words if w not in _NOISE]
    while words and words[0] in _EDGE_WORDS:
        words.pop(0)
    while words and words[-1] in _EDGE_WORDS:
        words.pop()
    return words


def chemical_key(text: str) -> str:
    """The form under which product texts and synonyms are compared: folded, salts and hydrates
    dropped, punctuation and spacing removed ("4-Piperidona HCl" and "4 piperidona" -> "4piperidona")."""
    return "".join(_tokens(text))


def _hs_digits(code: str | None) -> str:
    return re.sub(r"\D", "", code or "")[:6]


@dataclass(frozen=True)
class _Lexicon:
    chemicals: tuple[Chemical, ...]
    by_key: dict[str, Chemical]
    by_abbreviation: dict[str, Chemical]
    by_cas: dict[str, Chemical]


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    raw = json.loads(resources.files("graphinv").joinpath("data", "precursors.json").read_text(encoding="utf-8"))
    chemicals: list[Chemical] = []
    by_key: dict[str, Chemical] = {}
    by_abbreviation: dict[str, Chemical] = {}
    by_cas: dict[str, Chemical] = {}
    for entry in raw["chemicals"]:
        chem = Chemical(
            name=entry["name"],
            category=entry.get("category", ""),
            control=entry.get("control", ""),
            synonyms=tuple(entry.get("synonyms", ())),
            abbreviations=tuple(entry.get("abbreviations", ())),
            cas=tuple(entry.get("cas", ())),
            hs_codes=tuple(entry.get("hs_codes", ())),
        )
        chemicals.append(chem)
        for text in (chem.name, *chem.synonyms):
            key = chemical_key(text)
            other = by_key.setdefault(key, chem)
            if other is not chem:
                raise ValueError(f"precursors.json: {text!r} names both {other.name!r} and {chem.name!r}")
        for text in chem.abbreviations:
            by_abbreviation[chemical_key(text)] = chem
        for number in chem.cas:
            by_cas[number] = chem
    return _Lexicon(tuple(chemicals), by_key, by_abbreviation, by_cas)


def lexicon() -> tuple[Chemical, ...]:
    """Every chemical of the shipped lexicon (graphinv/data/precursors.json), in file order."""
    return _lexicon().chemicals


def _candidates(text: str) -> list[str]:
    """The whole text, then the text without its parentheses ("N-fenetil-4-piperidona (NPP)"),
    then what each parenthesis says ("NPP"); "4-(phenylamino)piperidine" matches as a whole."""
    inner = _PAREN.findall(text)
    return [text, _PAREN.sub(" ", text), *inner] if inner else [text]


@lru_cache(maxsize=65536)
def canonical_chemical(product: str | None, hs_code: str | None = None) -> str | None:
    """The lexicon's canonical name of the chemical a product text names, or None.

    Case, accents, punctuation, spacing, purity and salt or hydrate words do not matter, so
    "4-Piperidona", "4 PIPERIDONA MONOHIDRATO CLORHIDRATO", "4-piperidone hydrochloride" and
    "Piperidin-4-one" are all "4-piperidone", while "1-Boc-4-piperidona" is "1-boc-4-piperidone".
    A CAS number in the text decides. Short forms ("4-AP", "NPP") count only when the HS code
    agrees or is missing. The HS code alone never decides: 2933.39 covers hundreds of chemicals.
    """
    if not product or not product.strip():
        return None
    lex = _lexicon()
    for match in _CAS.finditer(product):
        chem = lex.by_cas.get("-".join(match.groups()))
        if chem is not None:
            return chem.name
    hs = _hs_digits(hs_code)
    for text in _candidates(product):
        key = chemical_key(text)
        if not key:
            continue
        chem = lex.by_key.get(key)
        if chem is not None:
            return chem.name
        chem = lex.by_abbreviation.get(key)
        if chem is not None and (not hs or any(_hs_digits(c) == hs for c in chem.hs_codes)):
            return chem.name
    return None


def find_chemical(name: str) -> Chemical | None:
    """The chemical a user means by a name, synonym, short form or CAS number (no HS check)."""
    lex = _lexicon()
    text = name.strip()
    if text in lex.by_cas:
        return lex.by_cas[text]
    key = chemical_key(text)
    return lex.by_key.get(key) or lex.by_abbreviation.get(key)
