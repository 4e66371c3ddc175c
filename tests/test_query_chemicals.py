"""The precursor lexicon: every spelling and salt of a chemical is one chemical, look-alikes are not."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from conftest import FIXTURE

from graphinv.resolve.chemicals import canonical_chemical, chemical_key, find_chemical, lexicon


@pytest.mark.parametrize(
    "product",
    [
        "4-Piperidona",
        "4 PIPERIDONA MONOHIDRATO CLORHIDRATO",
        "4-PIPERIDONA MONOHIDRATO CLORHIDRATO",
        "4-piperidone hydrochloride",
        "4-Piperidone monohydrate hydrochloride",
        "4-Piperidona clorhidrato monohidratada",
        "Piperidin-4-one",
        "piperidin-4-ona",
        "4-PIPERIDINONE HCl 98%",
        "4-piperidona (CAS 40064-34-4)",
    ],
)
def test_every_spelling_and_salt_of_4_piperidone_is_one_chemical(product: str) -> None:
    assert canonical_chemical(product) == "4-piperidone"
    assert canonical_chemical(product, "2933.39") == "4-piperidone"


@pytest.mark.parametrize(
    ("product", "chemical"),
    [
        ("1-Boc-4-piperidona", "1-boc-4-piperidone"),
        ("N-BOC-4-PIPERIDONE", "1-boc-4-piperidone"),
        ("tert-butyl 4-oxopiperidine-1-carboxylate", "1-boc-4-piperidone"),
        ("N-fenilpiperidin-4-amina", "4-anilinopiperidine"),
        ("4-ANILINOPIPERIDINA", "4-anilinopiperidine"),
        ("4-(phenylamino)piperidine", "4-anilinopiperidine"),
        ("N-fenetil-4-piperidona (NPP)", "N-phenethyl-4-piperidone"),
        ("4-ANPP", "4-anilino-N-phenethylpiperidine"),
        ("Norfentanilo", "norfentanyl"),
        ("CLORURO DE PROPIONILO", "propionyl chloride"),
        ("Propionyl chloride 99%", "propionyl chloride"),
        ("Clorhidrato de pseudoefedrina", "pseudoephedrine"),
        ("Sulfato de efedrina", "ephedrine"),
        ("Fenilacetona", "phenyl-2-propanone"),
        ("Ácido fenilacético", "phenylacetic acid"),
        ("Metilamina solución 40%", "methylamine"),
    ],
)
def test_other_precursors_in_english_and_spanish(product: str, chemical: str) -> None:
    assert canonical_chemical(product) == chemical


def test_look_alikes_are_different_chemicals() -> None:
    # fixtures/README.md "Not 4-piperidone": the longer names contain the shorter one.
    assert canonical_chemical("1-Boc-4-piperidona") != "4-piperidone"
    assert canonical_chemical("N-fenilpiperidin-4-amina") != "4-piperidone"
    assert canonical_chemical("4-piperidone ethylene ketal") is None
    # Propionyl chloride is not propionic anhydride, and "chloride" is not a salt word.
    assert canonical_chemical("propionic anhydride") == "propionic anhydride"
    assert chemical_key("propionyl chloride") != chemical_key("propionyl")


def test_an_hs_code_alone_never_decides_but_confirms_a_short_form() -> None:
    assert canonical_chemical(None, "2933.39") is None
    assert canonical_chemical("", "2933.39") is None
    assert canonical_chemical("Reactivos de laboratorio", "2933.39") is None
    assert canonical_chemical("4-AP") == "4-anilinopiperidine"
    assert canonical_chemical("4-AP", "2933.39") == "4-anilinopiperidine"
    assert canonical_chemical("4-AP", "293339") == "4-anilinopiperidine"
    assert canonical_chemical("4-AP", "3824.99") is None
    assert canonical_chemical("P2P", "2914.31") == "phenyl-2-propanone"


def test_find_chemical_accepts_any_name_short_form_or_cas() -> None:
    for name in ("4-piperidone", "4-Piperidona", "4-P", "41661-47-6", "PIPERIDIN-4-ONE"):
        found = find_chemical(name)
        assert found is not None and found.name == "4-piperidone", name
    assert find_chemical("acetone") is None


def test_the_lexicon_covers_the_issue_list_with_cas_and_hs_codes() -> None:
    names = {c.name for c in lexicon()}
    for required in (
        "4-piperidone",
        "1-boc-4-piperidone",
        "4-anilinopiperidine",
        "N-phenethyl-4-piperidone",
        "4-anilino-N-phenethylpiperidine",
        "norfentanyl",
        "propionyl chloride",
        "ephedrine",
        "pseudoephedrine",
        "phenyl-2-propanone",
        "phenylacetic acid",
        "methylamine",
    ):
        assert required in names
    for chem in lexicon():
        assert chem.cas and chem.hs_codes and len(chem.synonyms) >= 2, chem.name
    spanish = {c.name: c.synonyms for c in lexicon()}
    assert "4-piperidona" in spanish["4-piperidone"]
    assert "cloruro de propionilo" in spanish["propionyl chloride"]
    assert "seudoefedrina" in spanish["pseudoephedrine"]


def test_the_fixture_products_read_as_the_story_says() -> None:
    # fixtures/README.md §7: 35 new + 28 (C006) + 17 (C027) rows of 4-piperidone.
    with open(FIXTURE / "shipments.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    counts = Counter(canonical_chemical(r["product"], r["hs_code"]) for r in rows)
    assert counts["4-piperidone"] == 35 + 28 + 17
    assert counts["1-boc-4-piperidone"] == 3 + 6
    assert counts["4-anilinopiperidine"] == 2
    assert counts["propionyl chloride"] == 3 + 14
    # Ordinary chemicals are not precursors.
    for product in ("ACETONA GRADO INDUSTRIAL", "TOLUENE", "CITRIC ACID MONOHYDRATE", "Sulfato de amonio"):
        assert canonical_chemical(product) is None
