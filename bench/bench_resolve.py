"""Entity-resolution benchmark: graphinv's matcher and address keys against Splink, same records.

A seeded generator writes registry-style firms (RFC tax ids, Mexican legal forms, addresses)
and the customs clerks' spellings of them (case, accents, legal-form variants, punctuation,
one-letter typos, dropped words, missing or re-formatted tax ids), plus look-alike firms that
must stay apart (another industry word, a gender or number change, an extra word, one letter of
the distinctive word). Separately it writes buildings in several address spellings (the families
of fixtures/README.md §4) plus look-alike buildings (another house or interior number).

Each tool runs in its own child process, so its peak RSS (``os.wait4``) is its own; the child
reports the seconds of the resolution itself (reading the CSV is excluded). Pairwise precision,
recall and F1 are computed from cluster labels against the ground truth.

Usage::

    python bench/bench_resolve.py --records 10000 [--records 1000000] [--workdir DIR]
        [--tools graphinv,splink] [--splink-threshold 0.9]

Splink needs the bench extra (``pip install -e '.[bench]'``). One JSON object per (scale, task,
tool) goes to stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

__all__ = ["generate_firms", "generate_addresses", "pairwise_scores", "main"]

# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------

INDUSTRIES = [
    "Química", "Químicos", "Comercializadora", "Distribuidora", "Importadora", "Exportadora",
    "Laboratorios", "Farmacéutica", "Farmoquímica", "Solventes", "Reactivos", "Pinturas",
    "Barnices", "Recubrimientos", "Plásticos", "Envases", "Empaques", "Textiles", "Alimentos",
    "Conservas", "Bebidas", "Jabonera", "Detergentes", "Dermocosmética", "Cosméticos",
    "Agroquímicos", "Agroinsumos", "Fertilizantes", "Constructora", "Edificaciones",
    "Transportes", "Fletes", "Logística", "Servicios", "Consultores", "Asesores", "Inversiones",
    "Inmobiliaria", "Abastecedora", "Tenería", "Metalúrgica", "Papelera", "Vidriera", "Minera",
    "Maderas", "Ferretera",
]
# Look-alike industry words: gender or number changes a clerk may also make.
INDUSTRY_TWIN = {"Química": "Químicos", "Químicos": "Química", "Laboratorios": "Laboratorio",
                 "Solventes": "Solvente", "Reactivos": "Reactiva", "Plásticos": "Plástica",
                 "Farmacéutica": "Farmacéuticos", "Envases": "Envase", "Pinturas": "Pintura"}
REAL_WORDS = [
    "Cedro", "Roble", "Encino", "Pino", "Ceiba", "Sauce", "Olmo", "Nogal", "Laurel", "Mezquite",
    "Huizache", "Jacaranda", "Ahuehuete", "Cardón", "Maguey", "Agave", "Nopal", "Tule", "Pirul",
    "Amate", "Halcón", "Venado", "Colibrí", "Jaguar", "Águila", "Tecolote", "Cenzontle", "Garza",
    "Coyote", "Puma", "Jade", "Ónix", "Cuarzo", "Basalto", "Granate", "Ámbar", "Turquesa",
    "Zafiro", "Obsidiana", "Marfil", "Aurora", "Alborada", "Horizonte", "Meseta", "Cañada",
    "Cumbre", "Brisa", "Ocaso", "Prisma", "Orbe", "Timón", "Ancla", "Brújula", "Vértice",
    "Cantera", "Tezontle", "Zacatal", "Altiplano", "Marejada", "Tepeyac", "Alcázar", "Pirámide",
    "Selva", "Laguna", "Sierra", "Volcán", "Estrella", "Lucero", "Cometa", "Galaxia",
]
SYLLABLES = ["ta", "te", "ti", "to", "ca", "co", "cu", "la", "le", "li", "lo", "ma", "me", "mi",
             "mo", "na", "ne", "no", "pa", "pe", "pi", "po", "ra", "re", "ri", "ro", "sa", "se",
             "si", "so", "za", "zo", "ga", "go", "xo", "xi", "hua", "tla", "tza", "chi", "cha",
             "que", "qui", "ya", "yo", "ba", "be", "bo", "da", "de", "di", "do", "fa", "fe", "va",
             "vi", "ju", "lu", "nu", "tu", "mu"]
SECOND = ["Azul", "Verde", "Dorado", "Blanca", "Real", "Alta", "Roja", "Negra", "Nueva",
          "Grande", "Fina", "Hondo", "Fría", "Rosa", "Plata", "Oro", "Sol", "Luna", "Mar", "Bravo"]
REGIONS = ["del Norte", "del Centro", "del Pacífico", "del Sureste", "de Occidente", "del Golfo",
           "del Bajío", "Industrial", "Internacional", "Global", "de México", "del Noreste"]
FORMS = [("S.A. de C.V.", 0.6), ("S. de R.L. de C.V.", 0.2), ("S.A.P.I. de C.V.", 0.1),
         ("S.C.", 0.05), ("S.A.", 0.05)]
FORM_SPELLINGS = {
    "S.A. de C.V.": ["SA DE CV", "S.A. DE C.V.", "S.A.DE C.V.", "SA. DE C.V.", "S.A. de C.V.", "SA de CV"],
    "S. de R.L. de C.V.": ["S DE RL DE CV", "S. DE R.L. DE C.V.", "S. de R.L.", "SRL DE CV", "S DE R.L. DE C.V."],
    "S.A.P.I. de C.V.": ["SAPI DE CV", "S.A.P.I. DE C.V.", "SAPI de CV", "S.A.P.I."],
    "S.C.": ["SC", "S.C.", "S. C."],
    "S.A.": ["SA", "S.A.", "S. A."],
}
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _pick_form(rng: random.Random) -> str:
    x = rng.random()
    for form, p in FORMS:
        if x < p:
            return form
        x -= p
    return FORMS[0][0]


def _invented(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
    if rng.random() < 0.3:
        word += rng.choice("nlrs")
    return word.capitalize()


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.random()
    if op < 0.35:
        return word[:i] + rng.choice(KEYBOARD) + word[i + 1:]
    if op < 0.6:
        return word[:i] + word[i + 1:]
    if op < 0.8:
        return word[:i] + rng.choice(KEYBOARD) + word[i:]
    return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]


def _core_key(words: list[str]) -> str:
    return " ".join(_strip_accents(w).lower() for w in words if w.lower() not in {"de", "del", "y"})


def _rfc(words: list[str], date: str, rng: random.Random) -> str:
    letters = "".join(_strip_accents(w)[0].upper() for w in words if w[0].isupper())[:3].ljust(3, "X")
    tail = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(3))
    return letters + date[2:4] + date[5:7] + date[8:10] + tail


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1965, 2022)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


CITIES = [
    ("Tlalnepantla", "Tlalnepantla de Baz", "México", ["Edo. Méx.", "Estado de México", "Méx.", "MEX."], "54"),
    ("Naucalpan", "Naucalpan de Juárez", "México", ["Edo. Méx.", "Estado de México", "Méx."], "53"),
    ("Ciudad de México", "CDMX", "Ciudad de México", ["CDMX", "Ciudad de México", "D.F."], "0"),
    ("Manzanillo", "Manzanillo", "Colima", ["Col.", "Colima"], "28"),
    ("Guadalajara", "Guadalajara", "Jalisco", ["Jal.", "Jalisco"], "44"),
    ("Zapopan", "Zapopan", "Jalisco", ["Jal.", "Jalisco"], "45"),
    ("Monterrey", "Monterrey", "Nuevo León", ["N.L.", "Nuevo León", "NL"], "64"),
    ("Apodaca", "Apodaca", "Nuevo León", ["N.L.", "Nuevo León"], "66"),
    ("Querétaro", "Santiago de Querétaro", "Querétaro", ["Qro.", "Querétaro"], "76"),
    ("León", "León de los Aldama", "Guanajuato", ["Gto.", "Guanajuato"], "37"),
    ("Irapuato", "Irapuato", "Guanajuato", ["Gto.", "Guanajuato"], "36"),
    ("Puebla", "Heroica Puebla de Zaragoza", "Puebla", ["Pue.", "Puebla"], "72"),
    ("Mérida", "Mérida", "Yucatán", ["Yuc.", "Yucatán"], "97"),
    ("Veracruz", "Veracruz", "Veracruz", ["Ver.", "Veracruz"], "91"),
    ("Toluca", "Toluca de Lerdo", "México", ["Edo. Méx.", "Estado de México"], "50"),
    ("Hermosillo", "Hermosillo", "Sonora", ["Son.", "Sonora"], "83"),
    ("Culiacán", "Culiacán Rosales", "Sinaloa", ["Sin.", "Sinaloa"], "80"),
    ("Saltillo", "Saltillo", "Coahuila", ["Coah.", "Coahuila"], "25"),
    ("Tampico", "Tampico", "Tamaulipas", ["Tamps.", "Tamaulipas"], "89"),
    ("San Luis Potosí", "San Luis Potosí", "San Luis Potosí", ["S.L.P.", "SLP", "San Luis Potosí"], "78"),
    ("Aguascalientes", "Aguascalientes", "Aguascalientes", ["Ags.", "Aguascalientes"], "20"),
    ("Morelia", "Morelia", "Michoacán", ["Mich.", "Michoacán"], "58"),
    ("Chihuahua", "Chihuahua", "Chihuahua", ["Chih.", "Chihuahua"], "31"),
    ("Lázaro Cárdenas", "Lázaro Cárdenas", "Michoacán", ["Mich.", "Michoacán"], "60"),
]
STREET_TYPES = [("Calle", ["Calle", "C.", "CALLE"], 0.5), ("Av.", ["Av.", "Avenida", "AV.", "Ave."], 0.25),
                ("Blvd.", ["Blvd.", "Boulevard", "BLVD."], 0.08), ("Calz.", ["Calz.", "Calzada"], 0.04),
                ("Prol.", ["Prol.", "Prolongación"], 0.03), ("Paseo", ["Paseo", "PASEO"], 0.05),
                ("Privada", ["Privada", "Priv."], 0.05)]
STREET_NAMES = REAL_WORDS + ["Sta. Rosa", "Sto. Domingo", "Gral. Lázaro Cárdenas", "Benito Juárez",
                             "5 de Mayo", "16 de Septiembre", "Insurgentes", "Reforma", "Hidalgo",
                             "Morelos", "Independencia", "de los Fresnos", "de las Flores",
                             "Norte 45", "Poniente 140", "Ciprés Real", "Industria Química"]
ABBREV = {"Sta.": "Santa", "Sto.": "Santo", "Gral.": "General"}
COLONIAS = REAL_WORDS + ["Centro", "Industrial", "Las Brisas", "Santa Rosa", "Lomas de Altavista"]


def _street_type(rng: random.Random) -> tuple[str, list[str]]:
    x = rng.random()
    for canon, spellings, p in STREET_TYPES:
        if x < p:
            return canon, spellings
        x -= p
    return STREET_TYPES[0][0], STREET_TYPES[0][1]


def _building(rng: random.Random) -> dict:
    canon, spellings = _street_type(rng)
    if rng.random() < 0.5:
        street = rng.choice(STREET_NAMES)
    else:
        street = _invented(rng)
    city = rng.choice(CITIES)
    cp = city[4] + "".join(str(rng.randint(0, 9)) for _ in range(5 - len(city[4])))
    b = {
        "type": spellings, "street": street, "number": str(rng.randint(1, 3999)),
        "interior": None, "floor": None,
        "colonia": rng.choice(COLONIAS) if rng.random() < 0.9 else None,
        "fracc": rng.random() < 0.12, "cp": cp, "city": city,
    }
    x = rng.random()
    if x < 0.2:
        b["interior"] = str(rng.randint(1, 30)) if rng.random() < 0.8 else rng.choice("ABCD")
    elif x < 0.27:
        b["floor"] = str(rng.randint(1, 12))
        b["interior"] = b["floor"] + f"{rng.randint(1, 9):02d}"
    return b


def _spell_address(b: dict, rng: random.Random, style: int) -> str:
    """One clerk's spelling of a building. Style 0 = registry, 1 = upper-case, 2 = terse."""
    city, city_long, _state, state_forms, _ = b["city"]
    street = b["street"]
    if style != 0 and rng.random() < 0.5:
        for short, long in ABBREV.items():
            street = street.replace(short, long)
    stype = b["type"][0] if style == 0 else rng.choice(b["type"])
    num, interior = b["number"], b["interior"]
    if style == 0:
        parts = [f"{stype} {street} {num}"]
        if b["floor"]:
            parts.append(f"Piso {b['floor']}, Of. {interior}")
        elif interior:
            parts.append(f"Int. {interior}")
        if b["colonia"]:
            parts.append(("Fracc. " if b["fracc"] else "Col. ") + b["colonia"])
        parts.append(f"{b['cp']} {city}")
        parts.append(state_forms[0])
        text = ", ".join(parts)
    elif style == 1:
        marker = rng.choice(["NUM.", "NO.", "NUM", "No.", "#", "Núm."])
        head = f"{stype} {street} {marker} {num}"
        if b["floor"]:
            head += f" PISO {b['floor']} OF. {interior}"
        elif interior:
            head += " " + rng.choice(["INT.", "INT", "Interior", "Int."]) + f" {interior}"
        parts = [head]
        if b["colonia"]:
            parts.append(("FRACC. " if b["fracc"] else rng.choice(["COLONIA ", "COL. "])) + b["colonia"])
        parts.append(f"C.P. {b['cp']}")
        parts.append(rng.choice([city, city_long]))
        if rng.random() < 0.8:
            parts.append(rng.choice(state_forms))
        text = ", ".join(parts).upper()
    else:
        head = f"{stype} {street} #{num}" + (f"-{interior}" if interior else "")
        parts = [head + (f" Col. {b['colonia']}" if b["colonia"] and rng.random() < 0.5 else "")]
        if b["colonia"] and "Col." not in parts[0] and rng.random() < 0.6:
            parts.append(b["colonia"])
        parts.append(city)
        if rng.random() < 0.7:
            parts.append(rng.choice(state_forms))
        tail = f"CP {b['cp']}"
        text = ", ".join(parts) + (" " if rng.random() < 0.5 else ", ") + tail
    if style != 0 and rng.random() < 0.5:
        text = _strip_accents(text)
    return text


def generate_addresses(n_records: int, seed: int = 7) -> list[tuple[str, str, str]]:
    """``[(id, text, building)]``: buildings in 1–4 spellings, plus look-alike neighbours."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, str]] = []
    b_id = 0
    while len(rows) < n_records:
        b = _building(rng)
        group = [b]
        x = rng.random()
        if x < 0.15:  # the house next door
            twin = dict(b, number=str(int(b["number"]) + rng.choice((2, 4, 10, 100))))
            group.append(twin)
        elif x < 0.25:  # another unit in the same building
            twin = dict(b, interior=str(rng.randint(31, 60)), floor=None)
            group.append(twin)
        for bb in group:
            b_id += 1
            bid = f"B{b_id:07d}"
            seen: set[str] = set()
            for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
                style = rng.choice((0, 1, 2)) if seen else 0
                text = _spell_address(bb, rng, style)
                if text in seen:
                    continue
                seen.add(text)
                rows.append((f"A{len(rows):07d}", text, bid))
    return rows[:n_records]


def _customs_spelling(words: list[str], form: str, rng: random.Random, region_at: int | None) -> tuple[list[str], str]:
    w = list(words)
    if rng.random() < 0.25:  # one-letter typo in one long word
        idx = [i for i, x in enumerate(w) if len(x) >= 5]
        if idx:
            i = rng.choice(idx)
            w[i] = _typo(w[i], rng)
    if region_at is not None and rng.random() < 0.15:  # the clerk drops the region words
        w = w[:region_at]
    elif rng.random() < 0.05 and w[0].endswith("s") and len(w) > 1:
        w[0] = w[0][:-1]  # "LABORATORIO SELVA AZUL"
    x = rng.random()
    if x < 0.55:
        form_text = rng.choice(FORM_SPELLINGS[form])
    elif x < 0.75:
        form_text = ""
    else:
        form_text = form
    return w, form_text


def generate_firms(n_records: int, seed: int = 11) -> list[dict]:
    """Registry firms (registered) and customs spellings (not), each row with its true firm."""
    rng = random.Random(seed)
    rows: list[dict] = []
    cores: dict[str, str] = {}  # folded core name -> firm, so a spelling never equals another firm
    firm_no = 0

    def new_firm(words: list[str], region_at: int | None, form: str) -> str | None:
        nonlocal firm_no
        key = _core_key(words)
        if key in cores:
            return None
        firm_no += 1
        fid = f"F{firm_no:07d}"
        cores[key] = fid
        date = _date(rng)
        b = _building(rng)
        rows.append({
            "id": f"R{len(rows):07d}", "name": " ".join(words) + ", " + form, "tax_id": _rfc(words, date, rng),
            "registered": "1", "date": date, "address": _spell_address(b, rng, 0), "firm": fid,
        })
        firm_rows[fid] = (words, region_at, form, rows[-1]["tax_id"])
        return fid

    firm_rows: dict[str, tuple[list[str], int | None, str, str]] = {}
    while len(rows) < n_records:
        industry = rng.choice(INDUSTRIES)
        words = [industry]
        words.append(rng.choice(REAL_WORDS) if rng.random() < 0.35 else _invented(rng))
        if rng.random() < 0.35:
            words.append(rng.choice(SECOND))
        region_at = None
        if rng.random() < 0.45:
            region_at = len(words)
            words.extend(rng.choice(REGIONS).split())
        form = _pick_form(rng)
        base = new_firm(words, region_at, form)
        if base is None:
            continue
        family = [base]
        if rng.random() < 0.12:  # a look-alike: a different firm with a near name
            op = rng.random()
            twin = list(words)
            twin_region = region_at
            if op < 0.3:
                twin[0] = rng.choice([i for i in INDUSTRIES if i != industry])
            elif op < 0.5 and industry in INDUSTRY_TWIN:
                twin[0] = INDUSTRY_TWIN[industry]
            elif op < 0.75:
                if region_at is None:
                    twin_region = len(twin)
                    twin.extend(rng.choice(REGIONS).split())
                else:
                    twin = twin[:region_at]
                    twin_region = None
            else:
                twin[1] = _typo(twin[1], rng) if len(twin[1]) >= 5 else twin[1] + "s"
            other = new_firm(twin, twin_region, _pick_form(rng))
            if other:
                family.append(other)
        for fid in family:
            fwords, fregion, fform, tax = firm_rows[fid]
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5))):
                w, form_text = _customs_spelling(fwords, fform, rng, fregion)
                key = _core_key(w)
                if cores.get(key, fid) != fid:
                    continue  # the spelling is exactly another firm's name: truth unknowable
                style = rng.random()
                name = " ".join(w) + ((", " if rng.random() < 0.5 else " ") + form_text if form_text else "")
                if style < 0.6:
                    name = _strip_accents(name).upper().replace(",", "")
                elif style < 0.75:
                    name = _strip_accents(name)
                t = ""
                if rng.random() < 0.65:
                    t = tax
                    if rng.random() < 0.2:
                        t = rng.choice([t.lower(), f"{t[:3]}-{t[3:9]}-{t[9:]}", f"{t[:3]} {t[3:9]} {t[9:]}"])
                rows.append({"id": f"R{len(rows):07d}", "name": name, "tax_id": t, "registered": "0",
                             "date": "", "address": "", "firm": fid})
    return rows[:n_records]


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


def pairwise_scores(truth: dict[str, str], predicted: dict[str, str]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering, counted without listing pairs."""
    def pairs(counter: Counter) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    tp = pairs(Counter((predicted[i], truth[i]) for i in truth))
    pred = pairs(Counter(predicted[i] for i in truth))
    true = pairs(Counter(truth.values()))
    p = tp / pred if pred else 1.0
    r = tp / true if true else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "true_pairs": true, "predicted_pairs": pred}


# --------------------------------------------------------------------------------------------
# Child runs: one tool on one task, timing only the resolution
# --------------------------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run_graphinv_firms(rows: list[dict[str, str]]) -> dict[str, str]:
    sys.path.insert(0, str(REPO))
    from graphinv.resolve.match import Candidate, clusters, last_timings, match

    t0 = time.perf_counter()
    cands = [Candidate(id=r["id"], kind="Company", name=r["name"], tax_id=r["tax_id"] or None,
                       country="MX", address=r["address"] or None, date=r["date"] or None,
                       registered=r["registered"] == "1") for r in rows]
    merges, _possible = match(cands)
    print("graphinv phases (s):", json.dumps(last_timings), file=sys.stderr)
    labels = {r["id"]: r["id"] for r in rows}
    for group in clusters(merges):  # each group sorted: its first id labels it
        for member in group:
            labels[member] = group[0]
    labels["__seconds__"] = str(time.perf_counter() - t0)
    return labels


def run_graphinv_addresses(rows: list[dict[str, str]]) -> dict[str, str]:
    sys.path.insert(0, str(REPO))
    from graphinv.resolve.match import address_keys

    t0 = time.perf_counter()
    keys = address_keys(r["text"] for r in rows)
    labels = {r["id"]: keys[r["text"]] for r in rows}
    labels["__seconds__"] = str(time.perf_counter() - t0)
    return labels


_NON_ALNUM = re.compile(r"[^0-9a-z ]+")
SPLINK_THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)


def _fold(text: str) -> str:
    return " ".join(_NON_ALNUM.sub(" ", _strip_accents(text).lower()).split())


def _splink_cluster(df, settings, training: list, threshold: float, deterministic: list) -> dict[str, str]:
    import splink.comparison_library as cl  # noqa: F401  (imported for side effects in settings)
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    sdf = db_api.register(df)
    linker = Linker(sdf, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in training:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=min(0.5, threshold))
    t0 = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold_match_probability=threshold)
    out = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall()
    labels = {str(u): str(c) for u, c in out}
    cluster_seconds = time.perf_counter() - t0
    # Other thresholds from the same predictions, to find Splink's best F1 (not timed).
    for other in SPLINK_THRESHOLDS:
        if other == threshold or other < min(0.5, threshold):
            continue
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold_match_probability=other)
        for u, c in clusters.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall():
            labels[f"{other}\x1f{u}"] = str(c)
    labels["__untimed__"] = str(time.perf_counter() - t0 - cluster_seconds)
    return labels


def run_splink_firms(rows: list[dict[str, str]], threshold: float) -> dict[str, str]:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    sys.path.insert(0, str(REPO))
    from graphinv.resolve.normalize import normalize_tax_id, split_legal_form

    t0 = time.perf_counter()
    # The same normalised inputs graphinv works from: legal form split off, tax id cleaned.
    recs = []
    for r in rows:
        core, form = split_legal_form(r["name"])
        toks = [t for t in core.split() if t not in {"de", "del", "la", "las", "los", "el", "y"}] or [core]
        recs.append({"unique_id": r["id"], "name": core, "tok1": toks[0], "tok2": toks[1] if len(toks) > 1 else toks[0],
                     "tok3": toks[2] if len(toks) > 2 else "",
                     "legal_form": form, "tax_id": normalize_tax_id(r["tax_id"]) or None})
    df = recs  # Splink turns a list of dicts into an Arrow table
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.97, 0.92, 0.85]),
            cl.ExactMatch("tax_id"),
            cl.ExactMatch("tok2"),
            cl.ExactMatch("legal_form"),
        ],
        # Word-pair blocks: a single common word ("Cedro") would make blocks of thousands at 1M
        # records. Each rule survives a typo in one of the words the others use.
        blocking_rules_to_generate_predictions=[
            block_on("tax_id"),
            block_on("tok1", "tok2"),
            block_on("tok2", "tok3"),
            block_on("tok1", "substr(tok2, 1, 4)"),
            block_on("tok1", "substr(tok2, -4, 4)"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    labels = _splink_cluster(
        df, settings, [block_on("tax_id"), block_on("tok1", "tok2")], threshold, [block_on("tax_id")]
    )
    labels["__seconds__"] = str(time.perf_counter() - t0 - float(labels.pop("__untimed__")))
    return labels


_CP = re.compile(r"\b(\d{5})\b")


def run_splink_addresses(rows: list[dict[str, str]], threshold: float) -> dict[str, str]:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    t0 = time.perf_counter()
    # Splink's address recipe: a folded text, the postcode, and the numbers in the address.
    recs = []
    for r in rows:
        text = _fold(r["text"])
        cps = _CP.findall(text)
        cp = cps[-1] if cps else None
        numbers = [t for t in re.findall(r"\d+[a-z]?", text) if t != cp]
        recs.append({"unique_id": r["id"], "address": text, "postcode": cp,
                     "numbers": " ".join(numbers) or None, "number_set": sorted(set(numbers)),
                     "first_number": numbers[0] if numbers else None})
    df = recs  # Splink turns a list of dicts into an Arrow table
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("address", [0.95, 0.88, 0.8]),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("numbers"),
            cl.ArrayIntersectAtSizes("number_set", [3, 2, 1]),
            cl.ExactMatch("first_number"),
        ],
        blocking_rules_to_generate_predictions=[block_on("postcode")],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    labels = _splink_cluster(
        df, settings, [block_on("postcode"), block_on("numbers")], threshold,
        [block_on("postcode", "numbers")],
    )
    labels["__seconds__"] = str(time.perf_counter() - t0 - float(labels.pop("__untimed__")))
    return labels


def _cpu_seconds() -> float:
    """CPU seconds of this process's threads (DuckDB runs several) and of the worker processes
    it has reaped (graphinv forks its scoring workers): a second view of the cost on a machine
    other jobs share."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def child_main(task: str, tool: str, data: Path, out: Path, threshold: float) -> None:
    rows = _read_csv(data)
    cpu0 = _cpu_seconds()
    if tool == "graphinv":
        labels = run_graphinv_firms(rows) if task == "firms" else run_graphinv_addresses(rows)
    else:
        labels = run_splink_firms(rows, threshold) if task == "firms" else run_splink_addresses(rows, threshold)
    labels["__cpu_seconds__"] = str(_cpu_seconds() - cpu0)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(labels, handle)


def _run_child(task: str, tool: str, data: Path, out: Path, threshold: float, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", task, tool, str(data), str(out), str(threshold)]
    log = out.with_suffix(".log")
    t0 = time.perf_counter()
    with open(log, "wb") as handle:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=handle, stderr=handle, cwd=REPO)
        deadline = t0 + timeout
        status = usage = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                return {"ok": False, "error": f"timed out after {timeout:.0f} s",
                        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                        "wall_seconds": round(time.perf_counter() - t0, 1)}
            time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"ok": proc.returncode == 0, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
              "wall_seconds": round(time.perf_counter() - t0, 2)}
    if proc.returncode != 0:
        result["error"] = log.read_text(errors="replace")[-2000:]
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child_main(argv[1], argv[2], Path(argv[3]), Path(argv[4]), float(argv[5]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, action="append", help="records per task (repeatable)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--tools", default="graphinv,splink")
    ap.add_argument("--tasks", default="firms,addresses")
    ap.add_argument("--splink-threshold", type=float, default=0.9)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per child run")
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-resolve-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for n in args.records or [10_000]:
        for task in args.tasks.split(","):
            t0 = time.perf_counter()
            if task == "firms":
                rows = generate_firms(n)
                header = ["id", "name", "tax_id", "registered", "date", "address", "firm"]
                truth = {r["id"]: r["firm"] for r in rows}
                data_rows = [[r[h] for h in header] for r in rows]
            else:
                arows = generate_addresses(n)
                header = ["id", "text", "building"]
                truth = {i: b for i, _t, b in arows}
                data_rows = [list(r) for r in arows]
            data = workdir / f"{task}-{n}.csv"
            with open(data, "w", encoding="utf-8", newline="") as handle:
                w = csv.writer(handle)
                w.writerow(header)
                w.writerows(data_rows)
            print(f"[{task} {n}] generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            del data_rows
            for tool in args.tools.split(","):
                out = workdir / f"{task}-{n}-{tool}.json"
                res = _run_child(task, tool, data, out, args.splink_threshold, args.timeout)
                row = {"task": task, "records": n, "tool": tool, **res}
                if res["ok"]:
                    with open(out, encoding="utf-8") as handle:
                        labels = json.load(handle)
                    seconds = float(labels.pop("__seconds__"))
                    row["cpu_seconds"] = round(float(labels.pop("__cpu_seconds__")), 2)
                    by_threshold: dict[str, dict[str, str]] = defaultdict(dict)
                    for key in [k for k in labels if "\x1f" in k]:
                        thr, uid = key.split("\x1f")
                        by_threshold[thr][uid] = labels.pop(key)
                    for lab in (labels, *by_threshold.values()):
                        for i in truth:
                            lab.setdefault(i, f"__single__{i}")
                    row.update(pairwise_scores(truth, labels))
                    if by_threshold:
                        keep = ("precision", "recall", "f1")
                        row["other_thresholds"] = {
                            thr: {k: v for k, v in pairwise_scores(truth, lab).items() if k in keep}
                            for thr, lab in sorted(by_threshold.items())
                        }
                        # Splink's best clustering threshold on this labelled set (each
                        # threshold re-clusters the same predictions; the time is the same).
                        thr, best = max(row["other_thresholds"].items(), key=lambda kv: kv[1]["f1"])
                        if best["f1"] > row["f1"]:
                            row["best_threshold"] = float(thr)
                            row["best"] = best
                    row["seconds"] = round(seconds, 2)
                    row["records_per_second"] = round(n / seconds) if seconds else None
                    if tool == "splink":
                        row["threshold"] = args.splink_threshold
                    out.unlink()
                print(json.dumps(row), flush=True)
                print(f"[{task} {n} {tool}] {row.get('f1')} in {row.get('seconds')} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
