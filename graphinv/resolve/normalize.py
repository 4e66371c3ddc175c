"""Normalisers for resolution: folded names without legal forms, tax ids (Mexican RFC), address keys.

Pure functions, no I/O. Everything here answers "would a clerk's other spelling give the same
value?": case, accents, punctuation, abbreviations and word order of an address are noise; the
firm's distinctive words, the house and interior number and the postal code are not.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from graphinv.perf import gc_paused

__all__ = [
    "fold_text",
    "name_tokens",
    "split_legal_form",
    "legal_form_family",
    "strip_person_titles",
    "normalize_tax_id",
    "tax_id_key",
    "normalize_country",
    "rfc_kind",
    "is_placeholder_tax_id",
    "AddressKey",
    "normalize_address",
    "address_keys",
    "STOPWORDS",
]

# --------------------------------------------------------------------------------------------
# Folding
# --------------------------------------------------------------------------------------------

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

# Sanctions lists and registries of Russia and Ukraine give the same name in Cyrillic and in
# Latin letters; a plain transliteration (close to BGN/PCGN) lets both spellings meet.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i",
    "ї": "yi", "є": "ye", "ґ": "g",
}
_CYRILLIC_TABLE = str.maketrans(_CYRILLIC)
# Apostrophes join (O'Brien = OBrien); every other non-alphanumeric is a word break.
_APOSTROPHES = str.maketrans({"'": "", "’": "", "`": "", "´": "", "ʼ": ""})
_NON_WORD = re.compile(r"[^0-9a-z&]+")


def _mark_ranges() -> str:
    """The combining marks of the BMP as a character-class body (Devanagari vowel signs,
    Arabic vowels, kana voicing marks): inside a word in their scripts, never a break."""
    marks = [cp for cp in range(0x300, 0x10000) if unicodedata.category(chr(cp)).startswith("M")]
    ranges: list[list[int]] = []
    for cp in marks:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


# Names in every script keep their letters: a Chinese, Korean, Arabic or Greek name must not fold
# to nothing (every such name would then read as the same empty name).
_NON_WORD_ANY = re.compile(rf"[^\w&{_mark_ranges()}]+|_+")


def _fold_slow(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().translate(_CYRILLIC_TABLE)
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    # Composed again: NFKD splits Hangul syllables into jamo and kana from their voicing marks.
    return text if text.isascii() else unicodedata.normalize("NFC", text)


# Latin-1 to Cyrillic folded one character at a time, once: translate() is ~20x faster than
# normalising every string (it matters at a million names).
_FOLD_TABLE = {cp: _fold_slow(chr(cp)) for cp in range(0x80, 0x530)}
_FOLD_TABLE.update({cp: chr(cp).lower() for cp in range(ord("A"), ord("Z") + 1)})


def fold_text(text: str) -> str:
    """Lower case, no accents, Cyrillic transliterated, whitespace collapsed (punctuation kept)."""
    if text.isascii():
        return " ".join(text.lower().split())
    folded = text.translate(_FOLD_TABLE)
    if not folded.isascii():
        folded = _fold_slow(folded)
    return " ".join(folded.split())


def name_tokens(text: str) -> list[str]:
    """The words of a name: folded, apostrophes joined, any other punctuation a break.

    Letters of every script are kept (only Latin accents are dropped, and Cyrillic is
    transliterated): ``name_tokens("上海恒瑞贸易有限公司") == ["上海恒瑞贸易有限公司"]``.
    """
    folded = fold_text(text).translate(_APOSTROPHES)
    return [t for t in (_NON_WORD if folded.isascii() else _NON_WORD_ANY).split(folded) if t]


#: Words that carry no identity in firm and person names (clerks drop and add them freely).
STOPWORDS = frozenset(
    "de del la las los el y e en and & the of for von van der den du des le al bin ibn bint".split()
)

# --------------------------------------------------------------------------------------------
# Legal forms
# --------------------------------------------------------------------------------------------

# Keyed by the form's letters with spaces and punctuation removed: "S.A. de C.V.", "SA DE CV",
# "S.A.DE C.V." and "Sociedad Anónima de Capital Variable" all compact to the same key.
_SUFFIX_FORMS: dict[str, tuple[str, ...]] = {
    # Mexico and the Spanish-speaking world
    "S.A. de C.V.": ("sadecv", "sacv", "sociedadanonimadecapitalvariable"),
    "S.A.B. de C.V.": ("sabdecv", "sabcv", "sociedadanonimabursatildecapitalvariable"),
    "S.A.P.I. de C.V.": ("sapidecv", "sapicv", "sociedadanonimapromotoradeinversiondecapitalvariable"),
    "S.A.P.I.": ("sapi", "sociedadanonimapromotoradeinversion"),
    "S.A.B.": ("sab", "sociedadanonimabursatil"),
    "S. de R.L. de C.V.": ("sderldecv", "srldecv", "sderlcv", "srlcv", "derldecv",
                           "sociedadderesponsabilidadlimitadadecapitalvariable"),
    "S. de R.L.": ("sderl", "sociedadderesponsabilidadlimitada"),
    "S.P.R. de R.L.": ("sprderl", "sociedaddeproduccionruralderesponsabilidadlimitada"),
    "S.C.": ("sc", "sociedadcivil"),
    "A.C.": ("ac", "asociacioncivil"),
    "I.A.P.": ("iap", "instituciondeasistenciaprivada"),
    # Colombia: "S.A.S. BIC" is an S.A.S. of collective benefit, the same firm to a clerk
    "S.A.S.": ("sas", "sociedadporaccionessimplificada", "sasdecv", "sasbic"),
    "S.A.": ("sa", "sociedadanonima"),
    "S.L.": ("sl", "sociedadlimitada"),
    "S.L.U.": ("slu",),
    "S.R.L.": ("srl",),
    "Ltda.": ("ltda", "limitada"),  # Colombia and Brazil
    # English-speaking and Asian registries
    "Co., Ltd.": ("coltd", "colimited", "companylimited", "companyltd"),
    "Pvt. Ltd.": ("pvtltd", "pvtlimited", "privatelimited", "privateltd"),
    "Pte. Ltd.": ("pteltd", "ptelimited"),
    "Pty Ltd": ("ptyltd", "ptylimited"),
    "Sdn. Bhd.": ("sdnbhd",),
    "Ltd": ("ltd", "limited"),
    "LLC": ("llc", "limitedliabilitycompany", "limitedliabilityco"),
    "LLP": ("llp", "limitedliabilitypartnership"),
    "LP": ("lp", "limitedpartnership"),
    "PLC": ("plc", "publiclimitedcompany"),
    "Inc.": ("inc", "incorporated"),
    "Corp.": ("corp", "corporation"),
    "Co.": ("co", "company"),
    # Continental Europe
    "GmbH & Co. KG": ("gmbhcokg", "gmbhundcokg"),
    "GmbH": ("gmbh",),
    "AG": ("ag", "aktiengesellschaft"),
    "KG": ("kg",),
    "S.A.R.L.": ("sarl",),
    "B.V.": ("bv",),
    "N.V.": ("nv",),
    "S.p.A.": ("spa",),
    "s.r.o.": ("sro",),
    "Kft.": ("kft",),
    # Russia and Ukraine (transliterated by fold_text)
    "JSC": ("jsc", "jointstockcompany", "ao", "aktsionernoeobshchestvo", "aktsionernetovarystvo"),
    "OJSC": ("ojsc", "oao", "openjointstockcompany", "otkrytoeaktsionernoeobshchestvo"),
    "CJSC": ("cjsc", "zao", "closedjointstockcompany", "zakrytoeaktsionernoeobshchestvo"),
    "PJSC": ("pjsc", "pao", "publicjointstockcompany", "publichnoeaktsionernoeobshchestvo"),
    "OOO": ("ooo", "obshchestvosogranichennoyotvetstvennostyu"),
    "TOV": ("tov", "tovarystvozobmezhenoyuvidpovidalnistyu"),
}

# In Russian, Ukrainian and their English translations the form comes first ("LLC CST",
# "OOO Aeroskan", "JSC Kalashnikov Concern"); Spanish forms never do, so "Sociedad Anónima
# Textil" keeps its words.
_PREFIX_FORMS = {"LLC", "JSC", "OJSC", "CJSC", "PJSC", "OOO", "TOV"}

# A GmbH is its own family: a clerk does not write "Ltd" for it, and "X GmbH" and "X Ltd" are
# usually a group's German and English firms.
_FAMILY = {
    "S.A. de C.V.": "sa", "S.A.B. de C.V.": "sa", "S.A.P.I. de C.V.": "sa", "S.A.P.I.": "sa",
    "S.A.B.": "sa", "S.A.": "sa", "S.A.S.": "sa",
    "S. de R.L. de C.V.": "srl", "S. de R.L.": "srl", "S.R.L.": "srl", "S.L.": "srl", "S.L.U.": "srl",
    "Ltda.": "srl",
    "Co., Ltd.": "ltd", "Pvt. Ltd.": "ltd", "Pte. Ltd.": "ltd", "Pty Ltd": "ltd", "Ltd": "ltd",
    "Sdn. Bhd.": "ltd", "LLC": "ltd", "OOO": "ltd", "TOV": "ltd", "PLC": "ltd",
    "Inc.": "corp", "Corp.": "corp", "Co.": "corp",
    "JSC": "jsc", "OJSC": "jsc", "CJSC": "jsc", "PJSC": "jsc", "AG": "jsc",
}

_SUFFIX_LOOKUP = {compact: canon for canon, keys in _SUFFIX_FORMS.items() for compact in keys}
_PREFIX_LOOKUP = {c: canon for c, canon in _SUFFIX_LOOKUP.items() if canon in _PREFIX_FORMS}
_MAX_FORM_TOKENS = 9


def _compact(tokens: Iterable[str]) -> str:
    return "".join(t for t in tokens if t != "&")


# Any ending of a form's letters: a name whose last word is none of these has no suffix form.
_FORM_TAILS = frozenset(c[i:] for c in _SUFFIX_LOOKUP for i in range(len(c)))
_FORM_HEADS = frozenset(c[:i] for c in _PREFIX_LOOKUP for i in range(1, len(c) + 1))
# A form cut short by a customs field's width ("CO LT", "SA DE C"): four letters or more of one
# form only, in two words or more (one word could be the name's own).
def _form_cuts() -> dict[str, str]:
    cuts: dict[str, str | None] = {}
    for compact, canon in _SUFFIX_LOOKUP.items():
        for i in range(4, len(compact)):
            cut = compact[:i]
            cuts[cut] = canon if cuts.get(cut, canon) == canon else None
    return {cut: canon for cut, canon in cuts.items() if canon is not None and cut not in _SUFFIX_LOOKUP}


_FORM_CUTS = _form_cuts()


@lru_cache(maxsize=200_000)
def split_legal_form(name: str) -> tuple[str, str | None]:
    """``(folded name without its legal form, canonical legal form or None)``.

    >>> split_legal_form("QUIMICA FINA DEL NORTE SA DE CV")
    ('quimica fina del norte', 'S.A. de C.V.')
    >>> split_legal_form("Sociedad Anónima Textil")
    ('sociedad anonima textil', None)
    """
    tokens = name_tokens(name)
    form: str | None = None
    n = len(tokens)
    if n > 1 and tokens[-1] in _FORM_TAILS:
        # Grow the ending word by word; keep the longest that is a form, and always leave at
        # least one word of name.
        tail = ""
        for k in range(1, min(_MAX_FORM_TOKENS, n - 1) + 1):
            tok = tokens[n - k]
            if tok != "&":
                tail = tok + tail
            if tail not in _FORM_TAILS:
                break
            canon = _SUFFIX_LOOKUP.get(tail)
            if canon is not None:
                form, cut = canon, k
        if form is not None:
            tokens = tokens[: n - cut]
    if form is None and n > 2:
        for k in (3, 2):
            canon = _FORM_CUTS.get(_compact(tokens[n - k:])) if n - k >= 1 else None
            if canon is not None:
                form, tokens = canon, tokens[: n - k]
                break
    if form is None and n > 1 and tokens[0] in _FORM_HEADS:
        head = ""
        for k in range(1, min(_MAX_FORM_TOKENS, n - 1) + 1):
            head += tokens[k - 1]
            if head not in _FORM_HEADS:
                break
            canon = _PREFIX_LOOKUP.get(head)
            if canon is not None:
                form, cut = canon, k
        if form is not None:
            tokens = tokens[cut:]
    while tokens and tokens[-1] == "&":
        tokens.pop()
    return " ".join(tokens), form


def legal_form_family(form: str | None) -> str | None:
    """Forms a clerk swaps for one another (S.A. / S.A. de C.V. / S.A.P.I.) share a family."""
    if form is None:
        return None
    return _FAMILY.get(form, form)


_TITLES = frozenset(
    "mr mrs ms miss mx dr prof sir dame lord hh sheikh shaikh lic licenciado licenciada ing "
    "arq sr sra srta don dona c".split()
)


def strip_person_titles(tokens: list[str]) -> list[str]:
    """Drop honorifics ("Mr.", "Dr.", "Lic.", "Sheikh") at the start of a person's name."""
    i = 0
    while i < len(tokens) - 1 and tokens[i] in _TITLES:
        i += 1
    return tokens[i:]


# --------------------------------------------------------------------------------------------
# Tax ids
# --------------------------------------------------------------------------------------------

_TAX_STRIP = re.compile(r"[^0-9A-Z&Ñ]")
# "RFC: ...", "TIN ...", "Taxpayer No. ...": a label, but only with a separator after it
# ("RFC010101AB1" is a firm whose initials are R, F and C).
_TAX_LABEL_WORDS = r"(?:RFC|TIN|INN|VAT|NIF|CUIT|RUT|EIN|TAX\s*ID|TAXPAYER\s*NO)"
_TAX_LABEL = re.compile(rf"^\s*{_TAX_LABEL_WORDS}\b\.?\s*[:#]?\s+|^\s*{_TAX_LABEL_WORDS}\s*[:#]\s*")
_RFC_COMPANY = re.compile(r"^[A-Z&Ñ]{3}(\d{2})(\d{2})(\d{2})[A-Z0-9]{3}$")
_RFC_PERSON = re.compile(r"^[A-Z&Ñ]{4}(\d{2})(\d{2})(\d{2})[A-Z0-9]{3}$")
# SAT's generic RFCs (sales to the general public, to foreigners) name nobody in particular.
_PLACEHOLDER_TAX = frozenset({"XAXX010101000", "XEXX010101000", "NA", "NONE", "NULL", "SINRFC", "SN", "ND"})


def normalize_tax_id(value: str | None) -> str:
    """Upper case without spaces, dashes or dots; a leading "RFC:"/"TIN:" label dropped."""
    if not value:
        return ""
    if value.isalnum() and value.isascii() and value.isupper():
        return value  # already clean: the common case, a million times per run
    text = unicodedata.normalize("NFC", value).upper()
    return _TAX_STRIP.sub("", _TAX_LABEL.sub("", text))


# EU VAT numbers are written with and without their country prefix ("NL859012345B01" /
# "859012345B01"). The prefix is added, never removed: a bare "123456789" is a German VAT number
# only in Germany (in the US it may be an EIN), and stays bare when the country is not known.
_VAT_PREFIXES = {
    "AT": "AT", "BE": "BE", "BG": "BG", "CY": "CY", "CZ": "CZ", "DE": "DE", "DK": "DK", "EE": "EE",
    "ES": "ES", "FI": "FI", "FR": "FR", "GR": "EL", "HR": "HR", "HU": "HU", "IE": "IE", "IT": "IT",
    "LT": "LT", "LU": "LU", "LV": "LV", "MT": "MT", "NL": "NL", "PL": "PL", "PT": "PT", "RO": "RO",
    "SE": "SE", "SI": "SI", "SK": "SK",
}


def tax_id_key(value: str | None, country: str | None = None) -> str:
    """The tax id two records must share to be one entity: ``normalize_tax_id``, with the VAT
    prefix of an EU ``country`` (ISO-2) put before a bare number that starts with a digit; empty
    for a placeholder ("-", "N/A", "XAXX010101000"), which joins nobody."""
    norm = normalize_tax_id(value)
    prefix = _VAT_PREFIXES.get(country or "")
    key = prefix + norm if prefix and norm[:1].isdigit() else norm
    return "" if is_placeholder_tax_id(key) else key


def is_placeholder_tax_id(value: str) -> bool:
    """True for empty, generic or all-zero ids that must never join two entities."""
    norm = value if value.isalnum() and value.isupper() else normalize_tax_id(value)
    return len(norm) < 4 or norm in _PLACEHOLDER_TAX or not norm.strip("0")


def _valid_date(match: re.Match[str]) -> bool:
    month, day = int(match.group(2)), int(match.group(3))
    return 1 <= month <= 12 and 1 <= day <= 31


def rfc_kind(value: str | None) -> str | None:
    """"company" for a firm's RFC (3 letters, YYMMDD, 3 characters), "person" for a person's (4
    letters), None for anything else (a foreign id, a typo)."""
    norm = normalize_tax_id(value)
    if norm in _PLACEHOLDER_TAX:
        return None
    m = _RFC_COMPANY.match(norm)
    if m and _valid_date(m):
        return "company"
    m = _RFC_PERSON.match(norm)
    if m and _valid_date(m):
        return "person"
    return None


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddressKey:
    """A parsed address. ``key`` is what two spellings of one building share.

    The key is ``postal code | street name | house number | unit``; without a postal code the
    city stands in its place (``~city``). Street types (Calle/Av./C.) are left out of the key,
    because clerks drop and swap them; house and unit numbers are kept, because Calle Cedro 14
    and Calle Cedro 16 are different buildings.
    """

    key: str
    text: str
    street: str | None = None
    number: str | None = None
    interior: str | None = None
    floor: str | None = None
    neighbourhood: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None


_STREET_TYPES = {
    "calle": "calle", "cll": "calle", "c": "calle",
    "av": "avenida", "ave": "avenida", "avda": "avenida", "avenida": "avenida", "avenue": "avenida",
    "blvd": "boulevard", "blvr": "boulevard", "bvd": "boulevard", "blv": "boulevard",
    "boulevard": "boulevard", "bulevar": "boulevard", "boul": "boulevard", "bulvar": "boulevard",
    "calz": "calzada", "calzada": "calzada", "czda": "calzada",
    "prol": "prolongacion", "prolongacion": "prolongacion",
    "paseo": "paseo", "pso": "paseo",
    "carr": "carretera", "carretera": "carretera", "ctra": "carretera", "carret": "carretera",
    "cerrada": "cerrada", "cda": "cerrada", "privada": "privada", "priv": "privada",
    "circuito": "circuito", "cto": "circuito", "callejon": "callejon", "cjon": "callejon",
    "retorno": "retorno", "camino": "camino", "periferico": "periferico", "perif": "periferico",
    "andador": "andador", "diagonal": "diagonal", "pasaje": "pasaje", "glorieta": "glorieta",
    "street": "street", "st": "street", "str": "street", "ul": "street", "ulitsa": "street",
    "vul": "street", "road": "road", "rd": "road", "lane": "lane", "ln": "lane",
    "per": "lane", "pereulok": "lane", "prov": "lane", "drive": "drive", "way": "way",
    "prospekt": "prospekt", "prkt": "prospekt", "prosp": "prospekt", "proezd": "proezd",
    "prd": "proezd", "br": "boulevard", "place": "place", "square": "square", "sq": "square",
    "court": "court", "ct": "court", "highway": "highway", "hwy": "highway", "plaza": "plaza",
}
# Street types that English and Russian write after the name ("130 Vorovskogo st.").
_POSTFIX_TYPES = {"street", "st", "str", "road", "rd", "lane", "ln", "per", "pereulok", "drive",
                  "way", "avenue", "ave", "boulevard", "blvd", "place", "square", "sq", "court",
                  "ct", "highway", "hwy", "prospekt", "proezd", "ul"}

_ABBREVIATIONS = {
    "sta": "santa", "sto": "santo", "gral": "general", "lic": "licenciado", "ing": "ingeniero",
    "dr": "doctor", "prof": "profesor", "pdte": "presidente", "pres": "presidente",
    "cnel": "coronel", "tte": "teniente", "gob": "gobernador", "fco": "francisco",
    "ntra": "nuestra", "nte": "norte", "pte": "poniente", "ote": "oriente",
    "nal": "nacional", "ind": "industrial", "pque": "parque", "parq": "parque", "cd": "ciudad",
    "mtro": "maestro", "hda": "hacienda", "fracc": "fraccionamiento", "col": "colonia",
    "ampl": "ampliacion", "unid": "unidad", "hab": "habitacional", "res": "residencial",
    "mt": "mount", "ft": "fort",
}

_NUMBER_MARKERS = {"no", "num", "numero", "nro", "nr", "n", "ext", "exterior", "d", "dom",
                   "house", "number", "nums", "numext"}
_INTERIOR_MARKERS = {"int", "interior", "depto", "dpto", "departamento", "dept", "of", "ofic",
                     "oficina", "ofna", "local", "loc", "desp", "despacho", "suite", "ste", "apt",
                     "ap", "apto", "apartment", "apartamento", "unit", "flat", "room", "rm", "kv",
                     "kvartira", "pom", "pomeshch", "pomeshchenie", "kom", "komnata", "office",
                     "bodega", "nave", "numint", "prim", "kimn"}
_FLOOR_MARKERS = {"piso", "floor", "fl", "planta", "nivel", "etazh", "pov"}
_BUILDING_MARKERS = {"building", "bldg", "bld", "korpus", "korp", "stroenie", "edificio",
                     "edif", "torre", "tower", "block", "bud", "budova", "k"}
_LOT_MARKERS = {"mz": "mz", "mza": "mz", "manzana": "mz", "lt": "lt", "lte": "lt", "lote": "lt"}
_NEIGHBOURHOOD_MARKERS = {"col", "colonia", "fracc", "fraccionamiento", "frac", "barrio",
                          "ampliacion", "ampl", "residencial", "mkr", "mikrorayon"}
_POSTAL_MARKERS = {"cp", "zip", "postcode", "zipcode", "codigopostal"}
_POBOX_WORDS = {"po", "box", "pobox", "apartado", "ya", "aya"}
_CITY_MARKERS = {"g", "gorod", "m", "misto"}

_MX_STATES = {
    "Aguascalientes": ["aguascalientes", "ags"],
    "Baja California": ["baja california", "bc"],
    "Baja California Sur": ["baja california sur", "bcs"],
    "Campeche": ["campeche", "camp"],
    "Chiapas": ["chiapas", "chis"],
    "Chihuahua": ["chihuahua", "chih"],
    "Ciudad de México": ["ciudad de mexico", "cdmx", "df", "distrito federal", "cd de mexico",
                         "mexico df", "cd mx", "ciudad mexico"],
    "Coahuila": ["coahuila", "coah", "coahuila de zaragoza"],
    "Colima": ["colima"],
    "Durango": ["durango", "dgo"],
    "Guanajuato": ["guanajuato", "gto"],
    "Guerrero": ["guerrero", "gro"],
    "Hidalgo": ["hidalgo", "hgo"],
    "Jalisco": ["jalisco", "jal"],
    "México": ["estado de mexico", "edo mex", "edomex", "edo de mexico", "est de mex", "mex",
               "edo mexico", "estado mexico"],
    "Michoacán": ["michoacan", "mich", "michoacan de ocampo"],
    "Morelos": ["morelos", "mor"],
    "Nayarit": ["nayarit", "nay"],
    "Nuevo León": ["nuevo leon", "nl"],
    "Oaxaca": ["oaxaca", "oax"],
    "Puebla": ["puebla", "pue"],
    "Querétaro": ["queretaro", "qro", "queretaro de arteaga"],
    "Quintana Roo": ["quintana roo", "q roo", "qroo"],
    "San Luis Potosí": ["san luis potosi", "slp"],
    "Sinaloa": ["sinaloa", "sin"],
    "Sonora": ["sonora", "son"],
    "Tabasco": ["tabasco", "tab"],
    "Tamaulipas": ["tamaulipas", "tamps", "tamp"],
    "Tlaxcala": ["tlaxcala", "tlax"],
    "Veracruz": ["veracruz", "ver", "veracruz de ignacio de la llave"],
    "Yucatán": ["yucatan", "yuc"],
    "Zacatecas": ["zacatecas", "zac"],
}
_STATE_LOOKUP = {alias: canon for canon, aliases in _MX_STATES.items() for alias in aliases}
_COUNTRIES = {
    "mexico": "MX", "estados unidos mexicanos": "MX", "mx": "MX",
    "russia": "RU", "russian federation": "RU", "rossiyskaya federatsiya": "RU", "rf": "RU",
    "rosiyska federatsiya": "RU", "russie": "RU", "federation de russie": "RU", "ru": "RU",
    "united kingdom": "GB", "uk": "GB", "gb": "GB", "england": "GB",
    "united states": "US", "usa": "US", "us": "US", "united states of america": "US",
    "luxembourg": "LU", "jordan": "JO", "iraq": "IQ", "panama": "PA", "switzerland": "CH",
    "germany": "DE", "deutschland": "DE", "spain": "ES", "espana": "ES", "france": "FR",
    "china": "CN", "india": "IN", "ukraine": "UA", "ukraina": "UA", "cyprus": "CY",
    "british virgin islands": "VG", "bvi": "VG", "netherlands": "NL", "brazil": "BR",
    "korea": "KR", "south korea": "KR", "italy": "IT", "canada": "CA", "colombia": "CO",
    "guatemala": "GT", "argentina": "AR", "chile": "CL", "peru": "PE",
}
_MAX_PLACE_WORDS = 6

# Countries as registries and customs write them, for ``normalize_country`` only: the address
# parser reads the table above, where "col", "per" and "mex" are other words.
_COUNTRY_NAMES = {
    **_COUNTRIES,
    "estados unidos": "US", "estados unidos de america": "US", "eeuu": "US", "eua": "US",
    "people s republic of china": "CN", "peoples republic of china": "CN", "prc": "CN",
    "hong kong": "HK", "taiwan": "TW", "japan": "JP", "japon": "JP", "republic of korea": "KR",
    "korea republic of": "KR", "corea del sur": "KR", "corea": "KR", "north korea": "KP",
    "alemania": "DE", "federal republic of germany": "DE", "holland": "NL", "holanda": "NL",
    "paises bajos": "NL", "the netherlands": "NL", "reino unido": "GB", "great britain": "GB",
    "francia": "FR", "italia": "IT", "belgium": "BE", "belgica": "BE", "suiza": "CH",
    "austria": "AT", "poland": "PL", "ireland": "IE", "portugal": "PT", "sweden": "SE",
    "denmark": "DK", "greece": "GR", "czech republic": "CZ", "czechia": "CZ", "hungary": "HU",
    "turkey": "TR", "turkiye": "TR", "israel": "IL", "iran": "IR", "pakistan": "PK",
    "united arab emirates": "AE", "uae": "AE", "emiratos arabes unidos": "AE",
    "saudi arabia": "SA", "egypt": "EG", "south africa": "ZA", "nigeria": "NG",
    "singapore": "SG", "malaysia": "MY", "thailand": "TH", "vietnam": "VN", "viet nam": "VN",
    "indonesia": "ID", "philippines": "PH", "bangladesh": "BD", "australia": "AU",
    "new zealand": "NZ", "brasil": "BR", "venezuela": "VE", "ecuador": "EC", "bolivia": "BO",
    "uruguay": "UY", "paraguay": "PY", "costa rica": "CR", "honduras": "HN", "el salvador": "SV",
    "nicaragua": "NI", "belize": "BZ", "cuba": "CU", "dominican republic": "DO",
    "republica dominicana": "DO", "cayman islands": "KY", "bahamas": "BS", "seychelles": "SC",
    "marshall islands": "MH", "canada": "CA", "republic of india": "IN",
}
_COUNTRY_CODES3 = {
    "MEX": "MX", "USA": "US", "CAN": "CA", "CHN": "CN", "HKG": "HK", "TWN": "TW", "JPN": "JP",
    "KOR": "KR", "PRK": "KP", "IND": "IN", "PAK": "PK", "BGD": "BD", "DEU": "DE", "NLD": "NL",
    "BEL": "BE", "FRA": "FR", "ESP": "ES", "ITA": "IT", "GBR": "GB", "IRL": "IE", "CHE": "CH",
    "AUT": "AT", "POL": "PL", "PRT": "PT", "SWE": "SE", "DNK": "DK", "GRC": "GR", "CZE": "CZ",
    "HUN": "HU", "LUX": "LU", "CYP": "CY", "RUS": "RU", "UKR": "UA", "TUR": "TR", "ISR": "IL",
    "IRN": "IR", "IRQ": "IQ", "JOR": "JO", "ARE": "AE", "SAU": "SA", "EGY": "EG", "ZAF": "ZA",
    "NGA": "NG", "SGP": "SG", "MYS": "MY", "THA": "TH", "VNM": "VN", "IDN": "ID", "PHL": "PH",
    "AUS": "AU", "NZL": "NZ", "BRA": "BR", "ARG": "AR", "CHL": "CL", "COL": "CO", "PER": "PE",
    "VEN": "VE", "ECU": "EC", "BOL": "BO", "URY": "UY", "PRY": "PY", "GTM": "GT", "PAN": "PA",
    "CRI": "CR", "HND": "HN", "SLV": "SV", "NIC": "NI", "BLZ": "BZ", "CUB": "CU", "DOM": "DO",
    "VGB": "VG", "CYM": "KY", "BHS": "BS", "SYC": "SC", "MHL": "MH",
}


def normalize_country(value: str | None) -> str:
    """An ISO-2 code for a country written as a name, an ISO-2 or an ISO-3 code ("Germany",
    "DEU" and "de" are "DE"); anything else upper case as given, "" for none."""
    text = (value or "").strip()
    if not text:
        return ""
    code = text.upper()
    if len(code) == 2 and code.isalpha():
        return code
    if code in _COUNTRY_CODES3:
        return _COUNTRY_CODES3[code]
    words = " ".join(_NON_WORD.split(fold_text(text).translate(_APOSTROPHES))).strip()
    return _COUNTRY_NAMES.get(words) or _COUNTRY_NAMES.get(words.removeprefix("the ")) or code

_BR = re.compile(r"<br\s*/?>", re.I)
_DOTTED = re.compile(r"(?<![a-z0-9])((?:[a-z]\.){2,})")
# Postal codes with letters: "L-2086" (Luxembourg), "D-10115", "SW1P 3DS" (UK), "K1A 0B1" (Canada).
_LETTER_POSTAL = re.compile(r"(?<![a-z0-9])([a-z]{1,2})-(\d{4,5})(?![\d-])")
_UK_POSTAL = re.compile(r"(?<![a-z0-9])([a-z]{1,2}\d[a-z\d]?) ?(\d[a-z]{2})(?![a-z0-9])")
_UK_WORDS = re.compile(r"\b(?:uk|united kingdom|england|scotland|wales|great britain|london)\b")
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")
_LONE_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_ADDR_TOKEN = re.compile(r"zip_[a-z0-9]+|\d+(?:\.\d+)?(?:[a-z](?![a-z]))?(?:/\d+[a-z]?)?|[a-z]+|#|-|/")
_SEGMENT_SPLIT = re.compile(r"[,;\n()]+")
_REGION_WORDS = frozenset({"republic", "respublika", "oblast", "kray", "krai", "region", "province",
                           "provincia", "prefecture", "county", "okrug", "oblasti"})


def _prepare(text: str) -> str:
    text = _BR.sub(",", text)
    text = fold_text(text).translate(_APOSTROPHES)
    text = text.replace("°", " ").replace("º", " ").replace("s/n", " sn ")
    text = _DOTTED.sub(lambda m: m.group(1).replace(".", "") + " ", text)
    text = _LETTER_POSTAL.sub(lambda m: f" zip_{m.group(1)}{m.group(2)} ", text)
    # A UK postcode looks like many other things ("A23 1ST FLOOR"): only at the very end, or
    # in an address that says it is British.
    m = _UK_POSTAL.search(text)
    if m and (not text[m.end():].strip(" .,;") or _UK_WORDS.search(text)):
        text = _UK_POSTAL.sub(lambda m: f" zip_{m.group(1)}{m.group(2)} ", text)
    text = _ORDINAL.sub(r"\1", text)
    return _LONE_DOT.sub(" ", text)


def _lookup_place(words: list[str], table: dict[str, str]) -> tuple[str | None, int]:
    """Longest alias of ``table`` that ends ``words``: (canonical, number of words)."""
    for k in range(min(_MAX_PLACE_WORDS, len(words)), 0, -1):
        canon = table.get(" ".join(words[len(words) - k:]))
        if canon is not None:
            return canon, k
    return None, 0


def _key_word(word: str) -> str:
    word = _ABBREVIATIONS.get(word, word)
    # Transliterations of Russian adjectives end in -iy, -yy or -y for the same letters.
    if len(word) > 4 and word[-2:] in ("iy", "yy", "ii"):
        word = word[:-2] + "y"
    return word


def _clean_words(words: list[str]) -> list[str]:
    return [_key_word(w) for w in words if w not in STOPWORDS and w not in {"-", "/", "#"}]


class _Parse:
    __slots__ = ("street_type", "street", "number", "interior", "floor", "building", "lots",
                 "neighbourhood", "postal", "pobox", "city", "state", "country", "leftovers")

    def __init__(self) -> None:
        self.street_type: str | None = None
        self.street: list[str] = []
        self.number: str | None = None
        self.interior: str | None = None
        self.floor: str | None = None
        self.building: str | None = None
        self.lots: dict[str, str] = {}
        self.neighbourhood: list[str] = []
        self.postal: str | None = None
        self.pobox: str | None = None
        self.city: list[str] = []
        self.state: str | None = None
        self.country: str | None = None
        self.leftovers: list[list[str]] = []


def _is_num(tok: str) -> bool:
    return tok[:1].isdigit()


def _looks_postal(tok: str) -> bool:
    return tok.isdigit() and 4 <= len(tok) <= 6


_UNIT_MARKERS = _INTERIOR_MARKERS | _FLOOR_MARKERS | _BUILDING_MARKERS | _POSTAL_MARKERS | set(_LOT_MARKERS)


def _street_evidence(tokens: list[str]) -> bool:
    """Does this segment hold the street: a street type, a house number or a number marker?"""
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < n else None
        if tok in _UNIT_MARKERS and nxt is not None and tok != "k":
            i += 2
            continue
        if tok in _POBOX_WORDS:
            return False
        if tok in _NUMBER_MARKERS and nxt is not None and _is_num(nxt) or tok == "#":
            return True
        if (i == 0 and tok in _STREET_TYPES and tok not in {"c", "st", "per"} and nxt is not None) or (
            i > 0 and tok in _POSTFIX_TYPES
        ):
            return True
        if tok in {"c", "per"} and i == 0 and nxt is not None:
            return True
        if _is_num(tok) and not _looks_postal(tok):
            return True
        i += 1
    return False


def _take_unit(tokens: list[str], i: int) -> tuple[str | None, int]:
    """A unit id after a marker: a number, or one or two letters ("Int. B")."""
    if i < len(tokens) and tokens[i] in {"#", "-", "no", "num"}:
        i += 1
    if i < len(tokens) and (_is_num(tokens[i]) or (len(tokens[i]) <= 2 and tokens[i] not in STOPWORDS)):
        return tokens[i], i + 1
    return None, i


def _parse_segment(tokens: list[str], seg_index: int, is_street: bool, p: _Parse) -> None:
    words: list[str] = []  # words not consumed by a marker, in order
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < n else None
        if tok.startswith("zip_"):
            p.postal = p.postal or tok[4:]
            i += 1
            continue
        if tok in _POSTAL_MARKERS and nxt and (_is_num(nxt) or nxt.startswith("zip_")):
            p.postal = nxt.removeprefix("zip_")
            i += 2
            continue
        if tok == "codigo" and nxt == "postal":
            i += 2
            continue
        if tok in _POBOX_WORDS and (nxt in _POBOX_WORDS or (nxt and _is_num(nxt))):
            j = i
            while j < n and tokens[j] in _POBOX_WORDS | {"postal"}:
                j += 1
            if j < n and _is_num(tokens[j]):
                p.pobox = p.pobox or tokens[j]
                i = j + 1
                continue
        if tok == "col" and (nxt is None or _looks_postal(nxt)) and (words or seg_index > 0):
            # "28219 Manzanillo, Col." — at the end of an address "Col." is the state of Colima.
            p.state = p.state or "Colima"
            i += 1
            continue
        if tok in _NEIGHBOURHOOD_MARKERS and nxt and not _is_num(nxt):
            j = i + 1
            hood: list[str] = []
            while j < n and not (
                _looks_postal(tokens[j]) or tokens[j] in _POSTAL_MARKERS or tokens[j].startswith("zip_")
            ):
                hood.append(tokens[j])
                j += 1
            _flush_words(words, is_street, p)
            words = []
            is_street = False
            p.neighbourhood = hood
            i = j
            continue
        if tok == "km" and nxt and _is_num(nxt) and p.number is None:
            # "Carretera Federal 57 Km 12.5": the kilometre is the house number, 57 the road's.
            p.number = "km" + nxt
            _flush_words(words, is_street, p)
            words = []
            i += 2
            continue
        if (tok in _NUMBER_MARKERS or tok == "#") and nxt and _is_num(nxt):
            _flush_words(words, is_street, p)
            words = []
            j = i + 2
            if p.number is None:
                p.number = nxt
            elif nxt != p.number:
                _add_unit(p, nxt)
            # "#233-4", "No. 880-501": the part after the dash is the unit; in Colombia
            # ("Calle 93 # 11-26") the plate's second number. Either way it tells buildings apart.
            if j + 1 < n and tokens[j] in {"-", "/"} and (_is_num(tokens[j + 1]) or len(tokens[j + 1]) <= 2):
                _add_unit(p, tokens[j + 1])
                j += 2
            i = j
            continue
        if tok in _INTERIOR_MARKERS:
            unit, j = _take_unit(tokens, i + 1)
            if unit is not None:
                _add_unit(p, unit)
                i = j
                continue
        if _is_num(tok) and nxt in _FLOOR_MARKERS and not (i + 2 < n and _is_num(tokens[i + 2])):
            p.floor = tok  # "1st Floor"
            i += 2
            continue
        if tok in _FLOOR_MARKERS:
            unit, j = _take_unit(tokens, i + 1)
            if unit is not None:
                p.floor = unit
                i = j
                continue
        if tok in _BUILDING_MARKERS and nxt and (_is_num(nxt) or len(nxt) == 1):
            if tok != "k" or p.number is not None:
                p.building = nxt
                i += 2
                continue
        if tok in _LOT_MARKERS and nxt and _is_num(nxt):
            p.lots[_LOT_MARKERS[tok]] = nxt
            i += 2
            continue
        if tok in _CITY_MARKERS and nxt and not _is_num(nxt) and not is_street:
            p.city = [w for w in tokens[i + 1:] if not _is_num(w)]
            for w in tokens[i + 1:]:
                if _looks_postal(w) and p.postal is None:
                    p.postal = w
            return
        words.append(tok)
        i += 1
    _flush_words(words, is_street, p)


def _add_unit(p: _Parse, unit: str) -> None:
    """A unit adds to those read before it, never replaces one: "#1605-2 Int. 7" is unit 2/7,
    so "#1605-9 Int. 7" (another unit) keeps another key."""
    if p.interior is None:
        p.interior = unit
    elif unit not in p.interior.split("/"):
        p.interior = f"{p.interior}/{unit}"


def _flush_words(words: list[str], is_street: bool, p: _Parse) -> None:
    if not words:
        return
    if is_street and not p.street:
        _street_from_words(words, p)
        return
    # Another segment: postal codes, a lone house number, places.
    rest: list[str] = []
    for w in words:
        if _looks_postal(w) and p.postal is None:
            p.postal = w
        elif _is_num(w) and p.number is None and p.street:
            p.number = w  # "Pereulok Perunovskiy, 3"
        elif _is_num(w) and p.number is not None and p.building is None and p.street and not rest:
            p.building = w
        elif w in {"-", "#", "/"}:
            continue
        else:
            rest.append(w)
    if rest:
        p.leftovers.append(rest)


def _street_from_words(words: list[str], p: _Parse) -> None:
    # "272-41 Pushkinskaya": house 272, flat 41.
    if len(words) > 3 and _is_num(words[0]) and words[1] == "-" and _is_num(words[2]):
        p.number = p.number or words[0]
        _add_unit(p, words[2])
        words = words[3:]
    words = [w for w in words if w not in {"-", "/", "#"}]
    if not words:
        return
    # English order: "130 Vorovskogo st. Izhevsk" — number first, then the name, then the type.
    if _is_num(words[0]) and len(words) > 1 and not _is_num(words[-1]):
        p.number = p.number or words[0]
        words = words[1:]
        if words[0] in _STREET_TYPES and words[0] not in _POSTFIX_TYPES and len(words) > 1:
            p.street_type = _STREET_TYPES[words[0]]
            words = words[1:]
        for k, w in enumerate(words):
            if k > 0 and w in _POSTFIX_TYPES:
                p.street_type = _STREET_TYPES[w]
                if words[k + 1:]:
                    p.leftovers.append(words[k + 1:])
                words = words[:k]
                break
        p.street = words
        return
    if words[0] in _STREET_TYPES and len(words) > 1:
        p.street_type = _STREET_TYPES[words[0]]
        words = words[1:]
    elif len(words) > 1 and words[-1] in _POSTFIX_TYPES:
        p.street_type = _STREET_TYPES[words[-1]]
        words = words[:-1]
    # The house number is the last number, unless it is all the street has ("Calle 60").
    if len(words) > 1 and _is_num(words[-1]) and p.number is None:
        p.number = words[-1]
        words = words[:-1]
    elif words and words[-1] == "sn" and len(words) > 1:
        p.number = p.number or "sn"
        words = words[:-1]
    p.street = words


def _assign_places(p: _Parse) -> None:
    """Leftover segments become country, state, city and neighbourhood, read from the end."""
    left = [list(ws) for ws in p.leftovers if ws]
    for ws in list(left):
        if p.state is None and any(w in _REGION_WORDS for w in ws):
            p.state = " ".join(ws)
            left.remove(ws)
    while left:
        last = left[-1]
        country, k = _lookup_place(last, _COUNTRIES)
        state, ks = _lookup_place(last, _STATE_LOOKUP)
        if country and ks > k:
            country = None
        if country and p.country is None and (k == len(last) or len(left) == 1):
            if country == "MX" and last[-k:] in (["mexico"], ["mex"]) and p.state is None and len(left) > 1:
                # "Tlalnepantla, Méx." — after a town, a bare "México" is the State of México.
                p.state = "México"
            else:
                p.country = country
            del last[len(last) - k:]
            if not last:
                left.pop()
            continue
        if state and p.state is None and (len(left) > 1 or ks < len(last) or p.city or p.neighbourhood):
            p.state = state
            del last[len(last) - ks:]
            if not last:
                left.pop()
            continue
        break
    if left and not p.city:
        p.city = left.pop()
    if left and not p.neighbourhood:
        p.neighbourhood = left[0]
    if p.state is None and p.city:
        state = _STATE_LOOKUP.get(" ".join(p.city))
        if state == "Ciudad de México":
            p.state = state
    if p.country is None and p.state in _MX_STATES:
        p.country = "MX"


@lru_cache(maxsize=500_000)
def normalize_address(text: str) -> AddressKey:
    """Parse an address into its parts and the building key two spellings share.

    >>> a = normalize_address("Calle Cedro 14, Col. Santa Rosa, 54000 Tlalnepantla, Edo. Méx.")
    >>> b = normalize_address("C. Cedro #14 Col. Sta. Rosa, Tlalnepantla, Méx. CP 54000")
    >>> a.key == b.key, a.number, a.postal_code, a.state
    (True, '14', '54000', 'México')
    """
    prepared = _prepare(text or "")
    segments = [toks for toks in (_ADDR_TOKEN.findall(seg) for seg in _SEGMENT_SPLIT.split(prepared)) if toks]
    street_at = next((i for i, toks in enumerate(segments) if _street_evidence(toks)), 0)
    p = _Parse()
    for i, toks in enumerate(segments):
        _parse_segment(toks, i, i == street_at, p)
    _assign_places(p)

    street = _clean_words(p.street)
    number = p.number
    if number is not None and p.building:
        number = f"{number}/{p.building}"
    elif number is None and p.building and street:
        number = p.building  # "Streletskaya Street, building 6"
    if number is None and p.lots:
        number = "".join(f"{k}{v}" for k, v in sorted(p.lots.items()))
    unit = p.interior or (f"p{p.floor}" if p.floor else None)
    city = _clean_words(p.city)
    if p.pobox and not street:
        street, number = ["pobox"], p.pobox
    if street or number:
        place = p.postal or ("~" + " ".join(city) if city else "")
        key = "|".join((place, " ".join(street), number or "", unit or ""))
    else:
        key = "raw|" + " ".join(t for t in _ADDR_TOKEN.findall(prepared) if t not in {"-", "#", "/"})
    street_text = " ".join(([p.street_type] if p.street_type else []) + street) or None
    return AddressKey(
        key=key,
        text=text,
        street=street_text,
        number=number,
        interior=p.interior,
        floor=p.floor,
        neighbourhood=" ".join(_clean_words(p.neighbourhood)) or None,
        postal_code=p.postal,
        city=" ".join(city) or None,
        state=p.state,
        country=p.country,
    )


def address_keys(texts: Iterable[str]) -> dict[str, str]:
    """``{text: building key}`` for many address texts (each distinct text parsed once)."""
    with gc_paused():
        return {t: normalize_address(t).key for t in dict.fromkeys(texts) if t}
