"""Normalisers: legal forms, tax ids and address keys on the spellings clerks really write."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from graphinv.resolve.normalize import (
    address_keys,
    is_placeholder_tax_id,
    legal_form_family,
    name_tokens,
    normalize_address,
    normalize_country,
    normalize_tax_id,
    rfc_kind,
    split_legal_form,
    tax_id_key,
)

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "precursor-case"


@pytest.mark.parametrize(
    ("name", "core", "form"),
    [
        ("Química Fina del Norte, S.A. de C.V.", "quimica fina del norte", "S.A. de C.V."),
        ("QUIMICA FINA DEL NORTE SA DE CV", "quimica fina del norte", "S.A. de C.V."),
        ("QUIMICA FNA DEL NORTE, S.A. DE C.V.", "quimica fna del norte", "S.A. de C.V."),
        ("IMPORTADORA PIRAMIDE VERDE S.A.DE C.V.", "importadora piramide verde", "S.A. de C.V."),
        ("Importadora Pirámide Verde S.A. C.V.", "importadora piramide verde", "S.A. de C.V."),
        ("Grupo Bursátil Ejemplo, S.A.B. de C.V.", "grupo bursatil ejemplo", "S.A.B. de C.V."),
        ("DISTRIBUIDORA REACTIVA DEL GOLFO S DE RL DE CV", "distribuidora reactiva del golfo", "S. de R.L. de C.V."),
        ("Distribuidora Reactiva del Golfo, S. de R.L.", "distribuidora reactiva del golfo", "S. de R.L."),
        ("Distribuidora Reactiva del Golfo SRL de CV", "distribuidora reactiva del golfo", "S. de R.L. de C.V."),
        ("LABORATORIOS SELVA AZUL SAPI DE CV", "laboratorios selva azul", "S.A.P.I. de C.V."),
        ("Laboratorios Selva Azul, S.A.P.I. de C.V.", "laboratorios selva azul", "S.A.P.I. de C.V."),
        ("Despacho Corporativo Alameda y Asociados, S.C.", "despacho corporativo alameda y asociados", "S.C."),
        ("Fundación Amigos del Río, A.C.", "fundacion amigos del rio", "A.C."),
        ("Textiles del Sur, Sociedad Anónima de Capital Variable", "textiles del sur", "S.A. de C.V."),
        ("Hangzhou Jadefern Chemical Trading Co., Ltd.", "hangzhou jadefern chemical trading", "Co., Ltd."),
        ("Vapi Saffronleaf Organics Pvt. Ltd.", "vapi saffronleaf organics", "Pvt. Ltd."),
        ("Rheinfeld Feinchemie GmbH", "rheinfeld feinchemie", "GmbH"),
        ("Elbtal Lösemittel AG", "elbtal losemittel", "AG"),
        ("Acme Holdings Limited", "acme holdings", "Ltd"),
        ("ACME HOLDINGS LTD.", "acme holdings", "Ltd"),
        ("Acme Widgets, LLC", "acme widgets", "LLC"),
        ("Acme Widgets Inc", "acme widgets", "Inc."),
        ("Acme Corp.", "acme", "Corp."),
        ("Química Ibérica, S.L.", "quimica iberica", "S.L."),
        ("Chimie Lyonnaise S.A.R.L.", "chimie lyonnaise", "S.A.R.L."),
        ("Rotterdam Chemicals B.V.", "rotterdam chemicals", "B.V."),
        ("Antwerp Trade N.V.", "antwerp trade", "N.V."),
        ("British Solvents PLC", "british solvents", "PLC"),
        ("Andes Insumos S.A.S.", "andes insumos", "S.A.S."),
        ("Minera del Pacífico, S.A.", "minera del pacifico", "S.A."),
        # Russian forms come first, in Latin or Cyrillic letters
        ("LLC CST", "cst", "LLC"),
        ("JSC Kalashnikov Concern", "kalashnikov concern", "JSC"),
        ("Kalashnikov Concern JSC", "kalashnikov concern", "JSC"),
        ('Общество с ограниченной ответственностью "Аэроскан"', "aeroskan", "OOO"),
        # a legal form's words in the middle of a name are the name
        ("Sociedad Anónima Textil", "sociedad anonima textil", None),
        ("Comercializadora Alcázar Insumos", "comercializadora alcazar insumos", None),
        ("Co", "co", None),
        # Colombia, and forms cut short by a customs field's width
        ("Andes Químicos LTDA", "andes quimicos", "Ltda."),
        ("Café Verde S.A.S. BIC", "cafe verde", "S.A.S."),
        ("HUBEI XINYUAN PHARMACEUTICAL CO LT", "hubei xinyuan pharmaceutical", "Co., Ltd."),
        ("QUIMICA DEL NORTE SA DE C", "quimica del norte", "S.A. de C.V."),
        ("Alfa Colt", "alfa colt", None),
    ],
)
def test_split_legal_form(name: str, core: str, form: str | None) -> None:
    assert split_legal_form(name) == (core, form)


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("上海恒瑞贸易有限公司", ["上海恒瑞贸易有限公司"]),
        ("한국화학 주식회사", ["한국화학", "주식회사"]),
        ("Αλφα Χημικά Α.Ε.", ["αλφα", "χημικα", "α", "ε"]),
        ("شركة الفا للكيماويات", ["شركة", "الفا", "للكيماويات"]),
        ("राजेश कुमार", ["राजेश", "कुमार"]),  # vowel signs stay inside their word
        ("ｶﾞｽ化学株式会社", ["ガス化学株式会社"]),
        ("Захаров Никита", ["zakharov", "nikita"]),
        ("Química_del Norte", ["quimica", "del", "norte"]),
    ],
)
def test_name_tokens_keep_every_script(name: str, tokens: list[str]) -> None:
    assert name_tokens(name) == tokens


def test_legal_form_families_group_clerk_swaps() -> None:
    assert legal_form_family("S.A. de C.V.") == legal_form_family("S.A.P.I. de C.V.") == legal_form_family("S.A.")
    assert legal_form_family("S. de R.L.") == legal_form_family("S. de R.L. de C.V.")
    assert legal_form_family("S.A. de C.V.") != legal_form_family("S. de R.L. de C.V.")
    assert legal_form_family(None) is None


@pytest.mark.parametrize(
    ("raw", "norm", "kind"),
    [
        ("QFN170312AB1", "QFN170312AB1", "company"),
        ("qfn-170312-ab1", "QFN170312AB1", "company"),
        ("QFN 170312 AB1", "QFN170312AB1", "company"),
        ("Q.F.N.170312.AB1", "QFN170312AB1", "company"),
        ("RFC: DRG180521K47", "DRG180521K47", "company"),
        ("rfc drg180521k47", "DRG180521K47", "company"),
        ("RFC010101AB1", "RFC010101AB1", "company"),  # a firm whose initials are R, F, C
        ("Taxpayer No. 184101937739", "184101937739", None),
        ("VIIR720418H52", "VIIR720418H52", "person"),
        ("viir-720418-h52", "VIIR720418H52", "person"),
        ("HEAG590617KJ4", "HEAG590617KJ4", "person"),
        ("A&C850101AB1", "A&C850101AB1", "company"),
        ("QFN171312AB1", "QFN171312AB1", None),  # month 13: not an RFC
        ("TIN: 183111242572", "183111242572", None),  # a Russian INN, kept as given
        ("N-1999655120", "N1999655120", None),
        ("", "", None),
    ],
)
def test_normalize_tax_id_and_rfc_kind(raw: str, norm: str, kind: str | None) -> None:
    assert normalize_tax_id(raw) == norm
    assert rfc_kind(raw) == kind


@pytest.mark.parametrize(
    ("raw", "iso2"),
    [("DE", "DE"), ("de", "DE"), ("DEU", "DE"), ("Germany", "DE"), ("Alemania", "DE"), ("US", "US"),
     ("USA", "US"), ("United States of America", "US"), ("Estados Unidos", "US"), ("CO", "CO"),
     ("Colombia", "CO"), ("COL", "CO"), ("CN", "CN"), ("China", "CN"), ("People's Republic of China", "CN"),
     ("MX", "MX"), ("Mexico", "MX"), ("México", "MX"), ("MEX", "MX"), ("The Netherlands", "NL"),
     ("Atlantis", "ATLANTIS"), ("", ""), (None, "")],
)
def test_normalize_country(raw: str | None, iso2: str) -> None:
    assert normalize_country(raw) == iso2


def test_vat_numbers_key_with_or_without_their_country_prefix() -> None:
    assert tax_id_key("NL859012345B01", "NL") == tax_id_key("859012345B01", "NL") == "NL859012345B01"
    assert tax_id_key("DE 123 456 789", "DE") == tax_id_key("123456789", "DE") == "DE123456789"
    assert tax_id_key("094014201", "GR") == "EL094014201"
    # without an EU country the number stays as written: a US EIN, or a country not known
    assert tax_id_key("12-3456789", "US") == tax_id_key("123456789") == "123456789"
    assert tax_id_key("qfn-170312-ab1", "MX") == "QFN170312AB1"


def test_placeholder_tax_ids_never_identify() -> None:
    assert is_placeholder_tax_id("XAXX010101000")  # SAT's "general public"
    assert is_placeholder_tax_id("XEXX-010101-000")  # SAT's "foreigner"
    assert is_placeholder_tax_id("N/A")
    assert is_placeholder_tax_id("000000000")
    assert not is_placeholder_tax_id("QFN170312AB1")


# The four spelling families of fixtures/README.md §4, as the registry clerks typed them.
FAMILIES = {
    "Cedro": [
        "Calle Cedro 14, Col. Santa Rosa, 54000 Tlalnepantla, Edo. Méx.",
        "CALLE CEDRO NUM. 14, COLONIA SANTA ROSA, C.P. 54000, TLALNEPANTLA DE BAZ, ESTADO DE MEXICO",
        "C. Cedro #14 Col. Sta. Rosa, Tlalnepantla, Méx. CP 54000",
    ],
    "Marinos": [
        "Calle Marinos 233, Int. 4, Col. Las Brisas, 28219 Manzanillo, Col.",
        "CALLE MARINOS NO. 233 INT. 4, COL. LAS BRISAS, C.P. 28219, MANZANILLO, COLIMA",
        "C. Marinos #233-4, Fracc. Las Brisas, Manzanillo, Col. 28219",
    ],
    "Hub": [
        "Av. Ciprés Real 880, Piso 5, Of. 501, Col. Lomas de Altavista, 11930 Ciudad de México, CDMX",
        "AV. CIPRES REAL NO. 880 PISO 5 OF. 501, COL. LOMAS DE ALTAVISTA, C.P. 11930, CIUDAD DE MEXICO",
        "Av. Cipres Real #880-501, Lomas de Altavista, CDMX, CP 11930",
    ],
    "Fresnos": [
        "Paseo de los Fresnos 221, Fracc. Arboledas de Atizapán, 52945 Atizapán de Zaragoza, Edo. Méx.",
        "PASEO DE LOS FRESNOS NUM 221, FRACC. ARBOLEDAS DE ATIZAPAN, C.P. 52945, ATIZAPAN DE ZARAGOZA, MEX.",
    ],
}


def test_each_spelling_family_is_one_key_and_buildings_differ() -> None:
    keys = {name: {normalize_address(t).key for t in texts} for name, texts in FAMILIES.items()}
    assert all(len(k) == 1 for k in keys.values()), keys
    assert len({next(iter(k)) for k in keys.values()}) == 4


def test_family_parts_are_read() -> None:
    marinos = [normalize_address(t) for t in FAMILIES["Marinos"]]
    assert {(a.number, a.interior, a.postal_code, a.state) for a in marinos} == {("233", "4", "28219", "Colima")}
    assert {a.city for a in marinos} == {"manzanillo"}
    hub = [normalize_address(t) for t in FAMILIES["Hub"]]
    parts = {(a.number, a.interior, a.postal_code, a.state) for a in hub}
    assert parts == {("880", "501", "11930", "Ciudad de México")}
    cedro = normalize_address(FAMILIES["Cedro"][2])
    assert (cedro.street, cedro.number, cedro.neighbourhood, cedro.state, cedro.country) == (
        "calle cedro", "14", "santa rosa", "México", "MX")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Calle Cedro 14, Col. Santa Rosa, 54000 Tlalnepantla", "Calle Cedro 16, Col. Santa Rosa, 54000 Tlalnepantla"),
        ("Calle Marinos 233, Int. 4, 28219 Manzanillo", "Calle Marinos 233, Int. 5, 28219 Manzanillo"),
        ("Calle Marinos 233, Int. 4, 28219 Manzanillo", "Calle Marinos 233, 28219 Manzanillo"),
        ("Calle Cedro 14, 54000 Tlalnepantla", "Calle Cedro 14, 54010 Tlalnepantla"),
        ("Calle Cedro 14, 54000 Tlalnepantla", "Calle Roble 14, 54000 Tlalnepantla"),
        ("Calle Norte 45 2534, 37393 León", "Calle Norte 45 2543, 37393 León"),
        # a Colombian plate is two numbers of the building; a later unit adds to the first
        ("Calle 93 # 11-26 Of 301, Bogotá", "Calle 93 # 11-80 Of 301, Bogotá"),
        ("Av. Insurgentes Sur #1605-2 Int. 7, 03900 CDMX", "Av. Insurgentes Sur #1605-9 Int. 7, 03900 CDMX"),
        ("Calle Marinos #233-4, Int. 7, 28219 Manzanillo", "Calle Marinos #233-4, Int. 8, 28219 Manzanillo"),
    ],
)
def test_different_buildings_keep_different_keys(a: str, b: str) -> None:
    assert normalize_address(a).key != normalize_address(b).key


@pytest.mark.parametrize(
    "spellings",
    [
        # street types, number markers, saints and generals, C.P. anywhere
        ["Av. Juárez 100, Col. Centro, 06000 Ciudad de México, CDMX",
         "AVENIDA JUAREZ NUM 100, COLONIA CENTRO, C.P. 06000, CIUDAD DE MEXICO",
         "Ave. Juarez No. 100 Centro CDMX CP 06000",
         "Avenida Juárez Número 100, Centro, D.F. 06000"],
        ["Blvd. Gral. Lázaro Cárdenas 2400, 21000 Mexicali, B.C.",
         "BOULEVARD GENERAL LAZARO CARDENAS # 2400, C.P. 21000, MEXICALI, BAJA CALIFORNIA"],
        ["Calz. de Tlalpan 1500, Int. 3, 04000 Coyoacán, CDMX",
         "Calzada Tlalpan No. 1500 Interior 3, CP 04000, Coyoacan, Ciudad de México",
         "CALZ. TLALPAN #1500-3 C.P. 04000 COYOACAN D.F."],
        ["Prol. Sta. Fe 20, Of. 12, 05348 Cuajimalpa, CDMX",
         "Prolongación Santa Fe Núm. 20, Oficina 12, C.P. 05348, Cuajimalpa, Ciudad de México"],
        ["Carr. Federal 57 Km 12.5, 78395 San Luis Potosí, S.L.P.",
         "Carretera Federal 57 km 12.5, C.P. 78395, San Luis Potosi, SLP"],
        ["Calle 60 No. 491, Col. Centro, 97000 Mérida, Yuc.", "C. 60 #491, Centro, Mérida, Yucatán, CP 97000"],
        ["Calle Sto. Domingo 7, Fracc. Las Lomas, 76000 Querétaro, Qro.",
         "CALLE SANTO DOMINGO NO 7, FRACCIONAMIENTO LAS LOMAS, C.P. 76000, QUERETARO, QUERETARO"],
        # other countries' registries
        ["130 Vorovskogo st., Izhevsk, Udmurt Republic, 436063, Russia", "130 VOROVSKOGO ST., IZHEVSK, 436063"],
        ["3/2 Perunovsky Lane, Floor 3, Room 21, Moscow, 127055",
         "3 Perunovsky Per., Building 2, Floor 3, Room 21, Moscow, 127055"],
        ["Российская Федерация, 127055, г. Москва, пер. Перуновский, д. 3, строение 2",
         "3 Perunovsky Pereulok, Building 2, Moscow, 127055"],
        ["272 Pushkinskaya Street, Apt 41, Izhevsk, 426008", "272-41 Pushkinskaya, Izhevsk, 426008",
         "272 Pushkinskaya St., Apt. 41, Izhevsk, 426008"],
        ["Ul. 10 Let Oktyabrya D. 24, Kv. 62, Izhevsk, 426011",
         "24 10 Let Oktyabrya Street, Apartment 62, Izhevsk, 426011",
         "str. 10 Let Oktyabrya, 24, flat 62, 426011, Izhevsk, Russian Federation"],
        ["23 Avenue Monterey; L-2086; Luxembourg", "L-2086 Luxembourg, 23 Avenue Monterey"],
        ["7 Hadrmout St - Um Uthina; P.O. Box 95012; 11195 Amman; Jordan",
         "7 Hadrmout ST.-Um Uthina; P.O. Box 950912; Amman 11195; Jordan"],
        ["Flat 612, Romney House, 47 Marsham Street, London SW1P 3DS", "47 Marsham St, Flat 612, London, SW1P3DS"],
        ["Calle 93 # 11-26 Of 301, Bogotá", "CALLE 93 NO. 11-26, OFICINA 301, BOGOTA"],
        ["Calle 80 # 45-20, Bogotá", "Calle 80 No. 45-20, Bogota"],
    ],
)
def test_spellings_of_one_building_share_a_key(spellings: list[str]) -> None:
    keys = {normalize_address(t).key for t in spellings}
    assert len(keys) == 1, {t: normalize_address(t).key for t in spellings}


def test_fixture_addresses_unify_only_the_four_families() -> None:
    texts: set[str] = set()
    for file in ("companies.csv", "persons.csv"):
        with open(FIXTURE / file, encoding="utf-8") as handle:
            texts |= {row["address"] for row in csv.DictReader(handle) if row["address"]}
    groups: dict[str, set[str]] = defaultdict(set)
    for text, key in address_keys(texts).items():
        groups[key].add(text)
    shared = sorted(sorted(g) for g in groups.values() if len(g) > 1)
    assert shared == sorted(sorted(f) for f in FAMILIES.values())
    assert all(normalize_address(t).postal_code for t in texts)


def test_address_without_postal_code_keys_on_city() -> None:
    a = normalize_address("Av. 5 de Mayo 120 Int. B, Centro, Puebla, Pue.")
    assert (a.number, a.interior, a.postal_code, a.city, a.state) == ("120", "b", None, "puebla", "Puebla")
    assert a.key == "~puebla|5 mayo|120|b"
    assert normalize_address("").key.startswith("raw|")
