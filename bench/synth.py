"""Synthetic canonical CSV bundles (DESIGN section 4) of any size, for graphinv benchmarks.

Every attribute another file needs (a company's name, tax id, incorporation date, address; a
person's name, tax id, address; who is married to whom; which firms import 4-piperidone) is a pure
function of the entity's index and the seed, so each file is written in one streaming pass with
memory flat in the number of companies, and files can be written in parallel processes while
staying byte-identical run to run.

Names and tax ids are bijections of the index (an affine permutation decoded in mixed radix), so
they are unique even accent- and case-insensitively: a flag that names an entity exactly names one.

Usage: ``python bench/synth.py OUT_DIR --companies N [--seed S] [--jobs J]``
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import random
import sys
import time
import unicodedata
from pathlib import Path

__all__ = ["COLUMNS", "MAX_COMPANIES", "generate"]

COLUMNS: dict[str, list[str]] = {
    "companies.csv": ["id", "name", "tax_id", "registration_number", "jurisdiction",
                      "incorporation_date", "address", "status", "employees", "industry"],
    "persons.csv": ["id", "name", "tax_id", "birth_date", "nationality", "address"],
    "ownership.csv": ["owner_id", "company_id", "share_pct", "start_date", "end_date"],
    "officers.csv": ["person_id", "company_id", "role", "start_date", "end_date"],
    "family.csv": ["person_id", "relative_id", "relation"],
    "accounts.csv": ["id", "holder_id", "bank", "number", "status", "frozen_date"],
    "flags.csv": ["entity_ref", "list", "reason", "date"],
    "shipments.csv": ["id", "date", "importer", "importer_tax_id", "exporter", "exporter_country",
                      "product", "hs_code", "quantity_kg", "value_usd", "port", "origin_country",
                      "bill_of_lading"],
}

PERSONS_PER_COMPANY = 0.8
SHIPMENTS_PER_COMPANY = 0.5

_M64 = (1 << 64) - 1

# ---------------------------------------------------------------------------------------------
# Word lists. Each is de-duplicated after accent/case folding and the lists that combine into one
# name are made disjoint, which is what keeps the index -> name map injective.


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn").casefold()


def _uniq(words: str | list[str], *, exclude: set[str] = frozenset()) -> list[str]:
    seen: set[str] = set(exclude)
    out = []
    for w in (words.split() if isinstance(words, str) else words):
        w = w.replace("_", " ")
        k = _fold(w)
        if k not in seen:
            seen.add(k)
            out.append(w)
    return out


_SURNAMES = _uniq("""
Hernández García Martínez López González Pérez Rodríguez Sánchez Ramírez Flores Gómez Morales
Vázquez Reyes Jiménez Torres Díaz Gutiérrez Ruiz Mendoza Aguilar Ortiz Moreno Castillo Romero
Álvarez Méndez Chávez Rivera Juárez Ramos Domínguez Herrera Medina Castro Vargas Guzmán Velázquez
Muñoz Rojas Contreras Salazar Luna Ortega Guerrero Estrada Bautista Cortés Soto Alvarado Espinoza
Lara Ávila Ríos Cervantes Silva Delgado Vega Márquez Sandoval Fernández Carrillo Mejía Solís
Núñez Rosas Valdez Ibarra Campos Santos Camacho Navarro Peña Maldonado Rosales Acosta Miranda Trejo
Cabrera Valencia Nava Robles Molina Salinas Rangel Fuentes Pacheco Zamora Vera Padilla Cárdenas
Mora Trujillo Meza Rubio Benítez Ochoa Valenzuela Arellano Figueroa Tapia Marín Zúñiga Bravo Salas
Pineda Montes Galván Beltrán Lozano Orozco Villanueva Cano Aguirre Sosa Escobar Serrano Velasco
Quintero Olvera Villegas Barrera Ayala Cuevas Osorio Rocha Macías Avendaño Esquivel Zavala Lugo
Becerra Alonso Arroyo Barajas Bernal Calderón Carmona Castañeda Cisneros Córdova Corona Dávila
Duarte Elizondo Escamilla Esparza Franco Gallardo Gallegos Garza Gil Godínez Granados Huerta
Hidalgo Islas Jaramillo Lira Limón Loera Lucero Magaña Manzano Mata Medrano Mercado Montoya Muñiz
Murillo Nieto Ocampo Olivares Oropeza Palacios Paredes Parra Pedraza Peralta Ponce Posadas Quiroz
Reséndiz Rincón Robledo Saavedra Saldaña Sauceda Segura Sierra Solano Tamayo Tovar Treviño Urbina
Uribe Valadez Valle Varela Vidal Villalobos Villarreal Yáñez Zapata Zárate Arriaga Anaya Bañuelos
Bustamante Cantú Casas Chacón Corral Cuéllar Enríquez Escalante Farías Frías Galindo Gamboa Garibay
Guerra Iglesias Jasso Ledesma Lomelí Mares Meléndez Moctezuma Montañez Nájera Noriega Orta Patiño
Plascencia Preciado Quezada Rentería Rivas Sepúlveda Tello Terrazas Toledo Urías Valdivia Zepeda
""")
_FIRST = _uniq("""
Juan José Luis Carlos Jorge Miguel Francisco Alejandro Fernando Ricardo Roberto Eduardo Javier
Sergio Arturo Raúl Manuel Daniel Héctor Óscar Rafael Alberto Enrique Gerardo Mario Jesús Pedro
Alfredo Salvador Rubén Víctor Guillermo Gustavo Ignacio Rodrigo Adrián Emilio Ernesto Armando
Hugo Julio Marco Pablo Andrés Diego Gabriel Martín Sebastián Tomás Joaquín Ramiro Agustín Rogelio
Felipe Octavio Mauricio Leonardo Gilberto Efraín Israel Abel Esteban Benjamín Cristian Iván
María Guadalupe Ana Patricia Laura Verónica Rosa Elizabeth Claudia Adriana Gabriela Alejandra
Leticia Martha Silvia Margarita Teresa Araceli Sandra Mónica Norma Lorena Beatriz Yolanda Carmen
Sofía Valeria Fernanda Daniela Mariana Paola Andrea Karla Diana Lucía Elena Isabel Cecilia Irma
Liliana Susana Angélica Rocío Graciela Alicia Gloria Josefina Ximena Regina Renata Camila Natalia
Jimena Brenda Carolina Esther Julieta Marisol Maricela Dolores Ivonne Lourdes Citlali
""", exclude={_fold(w) for w in _SURNAMES})
_SECOND = _uniq("""
Antonio Ángel Alfonso Arcadio Bernardo Cruz Concepción Eugenio Evaristo Fabián Federico Gonzalo
Horacio Humberto Jaime Leopoldo Lorenzo Mateo Nicolás Ramón Samuel Santiago Saúl Ulises Vicente
Alondra Amparo Aurora Beatriz_Eugenia Consuelo Esperanza Estela Eugenia Inés Jazmín Luz Mercedes
Pilar Rebeca Refugio Soledad Victoria Yesenia
""", exclude={_fold(w) for w in _SURNAMES + _FIRST})

# Company "types" (the first word of a trade name) and the industry each most often means.
_TYPE_INDUSTRY = [
    ("Comercializadora", "Comercio al por mayor"), ("Distribuidora", "Comercio al por mayor"),
    ("Importadora", "Comercio exterior"), ("Exportadora", "Comercio exterior"),
    ("Grupo", "Servicios corporativos"), ("Servicios", "Servicios profesionales"),
    ("Industrias", "Manufactura"), ("Química", "Comercio al por mayor de productos químicos"),
    ("Laboratorios", "Fabricación de productos farmacéuticos"),
    ("Inmobiliaria", "Servicios inmobiliarios"), ("Constructora", "Construcción"),
    ("Transportes", "Autotransporte de carga"), ("Logística", "Almacenamiento y logística"),
    ("Corporativo", "Servicios corporativos"), ("Consultores", "Servicios profesionales"),
    ("Agropecuaria", "Agricultura y ganadería"),
    ("Farmacéutica", "Fabricación de productos farmacéuticos"),
    ("Soluciones", "Servicios profesionales"), ("Operadora", "Servicios corporativos"),
    ("Promotora", "Servicios inmobiliarios"), ("Desarrolladora", "Construcción"),
    ("Abastecedora", "Comercio al por mayor"), ("Proveedora", "Comercio al por mayor"),
    ("Suministros", "Comercio al por mayor"), ("Manufacturas", "Manufactura"),
    ("Productos", "Manufactura"), ("Tecnologías", "Tecnologías de la información"),
    ("Alimentos", "Industria alimentaria"), ("Textiles", "Industria textil"),
    ("Minera", "Minería"), ("Petroquímica", "Fabricación de productos químicos"),
    ("Plásticos", "Fabricación de productos de plástico"),
    ("Envases", "Fabricación de productos de plástico"), ("Maquinaria", "Comercio exterior"),
    ("Materiales", "Construcción"), ("Insumos", "Comercio al por mayor de productos químicos"),
    ("Equipos", "Comercio al por mayor"), ("Agencia_Aduanal", "Agencia aduanal"),
    ("Fletes", "Autotransporte de carga"), ("Almacenadora", "Almacenamiento y logística"),
    ("Solventes", "Comercio al por mayor de productos químicos"),
    ("Reactivos", "Comercio al por mayor de productos químicos"),
    ("Fertilizantes", "Fabricación de productos químicos"),
    ("Pinturas", "Fabricación de productos químicos"),
    ("Resinas", "Fabricación de productos químicos"), ("Administradora", "Servicios corporativos"),
    ("Inversiones", "Servicios financieros"), ("Tenedora", "Servicios financieros"),
]
_TYPES = [t.replace("_", " ") for t, _ in _TYPE_INDUSTRY]
_INDUSTRIES = sorted({i for _, i in _TYPE_INDUSTRY})
_TYPE_IND = [_INDUSTRIES.index(i) for _, i in _TYPE_INDUSTRY]
_MODS = _uniq("""
Industrial Integral Global Nacional Internacional Empresarial Continental Regional Mercantil
Universal Central Federal Occidental Oriental Peninsular Mundial Profesional Sustentable Confiable
Versátil Ágil Patrimonial Comercial Ambiental Digital Express Premier Plus Élite Estelar Imperial
Capital Avanzada Ejecutiva
""", exclude={_fold(w) for w in _SURNAMES})
_PLACES = _uniq([
    "del Norte", "del Sur", "del Centro", "del Bajío", "del Pacífico", "del Golfo",
    "de Occidente", "del Sureste", "del Noreste", "de la Frontera", "de México", "de Jalisco",
    "de Monterrey", "de Veracruz", "de Puebla", "de Querétaro", "de Sonora", "de Sinaloa",
    "de Tamaulipas", "de Chihuahua", "de Coahuila", "de Guanajuato", "de Michoacán",
    "de Oaxaca", "de Yucatán", "de Tabasco", "del Valle", "de las Américas", "del Istmo",
    "del Altiplano", "de la Laguna", "de Colima", "de Toluca", "de Tijuana", "de Mexicali",
    "de León", "de Hidalgo", "de Anáhuac", "del Caribe", "de la Huasteca", "de los Altos",
    "del Soconusco", "de Manzanillo", "de Altamira", "de Lázaro Cárdenas",
])
_BRAND_HEADS = _uniq("""
Quim Indu Pro Tec Agro Farma Plast Metal Bio Eco Tran Logi Inter Multi Servi Maxi Nova Prime Vita
Aqua Ferro Petro Poli Termo Hidro Electro Geo Alfa Omega Delta Sigma Nexo Vanguard Top Mega Ultra
Astra Cosmo Neo Orbi Pacific Atlan Sol Luna Terra Maya Azte Olme Tolte Mexi Nor Sur Occi Ori Cen
Alta Baja Costa Valle Sierra
""")
_BRAND_TAILS = _uniq("""
mex tec sa plus lab tek on ia ex al ix ova tron med chem vet pharma com trade corp net soft pack
gas oil quim max tex sur nor lux via mar ser pro lin gen dyn flex
""")
_BRANDS = _uniq([h + t for h in _BRAND_HEADS for t in _BRAND_TAILS],
                exclude={_fold(w) for w in _SURNAMES + _MODS + _TYPES + _FIRST + _SECOND})
assert _BRANDS and _FIRST and _SECOND and _MODS

# (legal form, weight) by jurisdiction kind.
_LEGAL_MX = ["S.A. de C.V."] * 60 + ["S. de R.L. de C.V."] * 20 + ["S.A.P.I. de C.V."] * 8 + \
    ["S.C."] * 4 + ["S.A."] * 4 + ["S.A.S. de C.V."] * 4
_FOREIGN = [("PA", "Corp."), ("PA", "S.A."), ("VG", "Ltd."), ("BZ", "Ltd."), ("US-DE", "Inc."),
            ("US-DE", "LLC"), ("ES", "S.L.")]
_STATUS = ["active"] * 88 + ["inactive"] * 7 + ["dissolved"] * 5
_NATIONALITY = ["MX"] * 92 + ["US"] * 2 + ["ES"] * 2 + ["CO"] + ["VE"] + ["CN"] + ["GT"]

_STREET_TYPES = ["Calle"] * 5 + ["Av."] * 4 + ["Blvd.", "Calz.", "Privada", "Cerrada", "Prol."]
_STREETS = [
    "Insurgentes", "Reforma", "Juárez", "Hidalgo", "Morelos", "5 de Mayo", "16 de Septiembre",
    "Benito Juárez", "Lázaro Cárdenas", "Revolución", "Constitución", "Independencia", "Madero",
    "Zaragoza", "Allende", "Aldama", "Guerrero", "Matamoros", "Niños Héroes", "Emiliano Zapata",
    "Francisco Villa", "Venustiano Carranza", "Álvaro Obregón", "Miguel Alemán",
    "Adolfo López Mateos", "Ruiz Cortines", "Vallarta", "Chapultepec", "Universidad",
    "Tecnológico", "Las Torres", "Los Pinos", "Del Trabajo", "Industria", "Ferrocarril", "Puerto",
    "Aduana", "Del Mar", "Costera", "Río Lerma", "Río Bravo", "Río Nazas", "Río Balsas",
    "Río Grijalva", "Río Pánuco", "Nogal", "Fresno", "Cedro", "Sauce", "Olivo", "Jacarandas",
    "Tulipanes", "Gardenias", "Azucenas", "Bugambilias", "Hortensias", "Alcatraces", "Orquídeas",
    "Mina", "Minería", "Comercio", "Progreso", "Libertad", "Patriotismo", "Tlalpan",
    "Ermita Iztapalapa", "Periférico", "Circunvalación", "Ejército Nacional", "Gustavo Baz",
    "Vasco de Quiroga", "Montevideo", "Bolivia", "Perú", "Venezuela", "Colombia", "Chile",
    "Argentina", "Brasil", "Cuba", "Nicaragua", "Honduras", "Guatemala", "Panamá", "Ecuador",
    "Sonora", "Sinaloa", "Durango", "Zacatecas", "Nayarit", "Campeche", "Tabasco",
]
_COLONIAS = [
    "Centro", "Industrial Vallejo", "Del Valle", "Roma Norte", "Condesa", "Polanco", "Doctores",
    "Obrera", "Guerrero", "Santa Fe", "Lomas de Chapultepec", "Narvarte", "Nápoles", "San Rafael",
    "Tabacalera", "Juárez", "Escandón", "Portales", "Moderna", "Industrial", "Parque Industrial",
    "Las Américas", "Jardines del Bosque", "Providencia", "Americana", "Chapultepec", "Obispado",
    "Mitras Centro", "San Jerónimo", "Cumbres", "Zona Portuaria", "El Rosario", "Tlatilco",
    "Pantitlán", "Agrícola Oriental", "Granjas México", "Santa Cruz", "San Miguel", "La Joya",
    "Las Flores", "Los Álamos", "El Mirador", "Lomas Verdes", "Ciudad Satélite", "Valle Dorado",
    "Anzures", "Cuauhtémoc", "Tacubaya", "San Pedro de los Pinos", "Vista Hermosa", "Bellavista",
    "Buenos Aires", "Algarín", "Atlampa", "Santa María la Ribera", "Peralvillo", "Morelos",
    "Ampliación Granada", "Irrigación", "Anáhuac", "Tepeyac Insurgentes", "Lindavista",
    "Magdalena de las Salinas", "Industrial Alce Blanco", "San Andrés Atoto", "Los Reyes",
    "El Carmen", "La Merced", "Barrio de Santiago", "Fraccionamiento Las Palmas",
]
_CITIES = [  # (city, state, first CP, CP span, weight)
    ("Ciudad de México", "CDMX", 1000, 16000, 22), ("Naucalpan", "Estado de México", 53000, 1000, 4),
    ("Tlalnepantla", "Estado de México", 54000, 200, 3), ("Ecatepec", "Estado de México", 55000, 300, 3),
    ("Toluca", "Estado de México", 50000, 300, 3), ("Guadalajara", "Jalisco", 44100, 1900, 8),
    ("Zapopan", "Jalisco", 45000, 250, 3), ("Monterrey", "Nuevo León", 64000, 1000, 8),
    ("Guadalupe", "Nuevo León", 67100, 200, 2), ("Puebla", "Puebla", 72000, 1000, 4),
    ("Querétaro", "Querétaro", 76000, 300, 3), ("Manzanillo", "Colima", 28200, 200, 2),
    ("Lázaro Cárdenas", "Michoacán", 60950, 50, 2), ("Veracruz", "Veracruz", 91700, 300, 3),
    ("Altamira", "Tamaulipas", 89600, 100, 2), ("Tampico", "Tamaulipas", 89000, 350, 2),
    ("Tijuana", "Baja California", 22000, 700, 3), ("Mexicali", "Baja California", 21000, 400, 2),
    ("Ensenada", "Baja California", 22800, 100, 1), ("Culiacán", "Sinaloa", 80000, 400, 2),
    ("Hermosillo", "Sonora", 83000, 300, 2), ("León", "Guanajuato", 37000, 700, 3),
    ("Mérida", "Yucatán", 97000, 400, 2), ("Chihuahua", "Chihuahua", 31000, 400, 2),
    ("Ciudad Juárez", "Chihuahua", 32000, 700, 2), ("Saltillo", "Coahuila", 25000, 300, 2),
    ("San Luis Potosí", "San Luis Potosí", 78000, 400, 2),
    ("Aguascalientes", "Aguascalientes", 20000, 400, 2), ("Morelia", "Michoacán", 58000, 350, 2),
    ("Oaxaca de Juárez", "Oaxaca", 68000, 300, 1), ("Villahermosa", "Tabasco", 86000, 300, 1),
    ("Cancún", "Quintana Roo", 77500, 100, 1), ("Nuevo Laredo", "Tamaulipas", 88000, 300, 1),
]
_CITY_PICK = [c for c in _CITIES for _ in range(c[4])]
# "Nondescript buildings near the capital and the ports" that host many small firms.
_MASS_CITIES = [_CITIES[0], _CITIES[1], _CITIES[11], _CITIES[12], _CITIES[13], _CITIES[14]]

_BANKS = [(2, "Banamex"), (12, "BBVA México"), (14, "Santander México"), (21, "HSBC México"),
          (72, "Banorte"), (44, "Scotiabank"), (36, "Inbursa"), (30, "BanBajío"),
          (127, "Banco Azteca"), (62, "Afirme"), (58, "Banregio"), (59, "Invex")]
_BANK_PICK = [0] * 12 + [1] * 22 + [2] * 12 + [3] * 8 + [4] * 14 + [5] * 7 + [6] * 5 + \
    [7] * 6 + [8] * 6 + [9] * 3 + [10] * 3 + [11] * 2

# CLABE check digit: weights 3,7,1 repeat from the first digit, so every 3-digit group aligned on
# a multiple of 3 contributes _W371[group] and the last two digits contribute _W37[pair].
_W371 = [(3 * (x // 100) + 7 * (x // 10 % 10) + x % 10) % 10 for x in range(1000)]
_W37 = [(3 * (x // 10) + 7 * (x % 10)) % 10 for x in range(100)]

_OFFICER_ROLES = ["administrador único", "director general", "apoderado legal", "comisario",
                  "presidente del consejo", "consejero", "secretario del consejo", "gerente general"]
_FAMILY_OTHER = ["parent"] * 3 + ["child"] * 3 + ["sibling"] * 3 + ["other"]

_FLAG_LISTS = [
    ("UIF-LPB", "Inclusión en la Lista de Personas Bloqueadas de la UIF"),
    ("UIF-LPB", "Operaciones con recursos de procedencia ilícita"),
    ("OFAC-SDN", "Designado bajo la Kingpin Act"),
    ("OFAC-SDN", "Designación por narcotráfico (E.O. 14059)"),
    ("SAT-69B", "Contribuyente con operaciones simuladas (EFOS)"),
    ("FGR-CARPETA", "Vinculado a carpeta de investigación"),
]
_DEA_LIST = ("DEA-2021-PRECURSORES", "Sospecha de importación de precursores de fentanilo")

# Products: (text variants, hs_code, usd per kg, is 4-piperidone)
_P4 = (["4-Piperidona", "4-PIPERIDONA MONOHIDRATO CLORHIDRATO", "4-piperidone hydrochloride",
        "Piperidin-4-ona", "4-Piperidona HCl monohidratada", "1-Boc-4-piperidona",
        "N-fenetil-4-piperidona (NPP)"], "2933.39", 90.0)
_PRODUCTS = [  # (variants, hs, usd/kg, weight)
    (["Acetona", "ACETONA", "acetona grado industrial", "Acetona 99.5%"], "2914.11", 1.1, 22),
    (["Tolueno", "TOLUENO", "tolueno (metilbenceno)", "Toluene"], "2902.30", 1.0, 22),
    (["Ácido clorhídrico", "ACIDO CLORHIDRICO 32%"], "2806.10", 0.3, 8),
    (["Anhídrido acético", "ANHIDRIDO ACETICO"], "2915.24", 1.5, 4),
    (["Metanol", "METANOL"], "2905.11", 0.5, 8),
    (["Ácido sulfúrico", "ACIDO SULFURICO 98%"], "2807.00", 0.2, 6),
    (["Hidróxido de sodio", "SOSA CAUSTICA EN ESCAMAS"], "2815.11", 0.6, 6),
    (["Permanganato de potasio"], "2841.61", 3.0, 2),
    (["Metilamina solución 40%"], "2921.11", 2.0, 2),
    (["Éter etílico", "ETER DIETILICO"], "2909.11", 2.5, 2),
    (["Resina PET grado botella"], "3907.61", 1.2, 6),
    (["Reactivos de laboratorio", "Reactivos analíticos diversos"], "3822.19", 40.0, 4),
    (["Solventes industriales (mezcla)", "THINNER"], "3814.00", 0.9, 6),
    (["Paracetamol USP"], "2924.29", 5.0, 2),
]
_PRODUCT_PICK = [p for p in _PRODUCTS for _ in range(p[3])]
_PORTS = ["Manzanillo"] * 8 + ["Lázaro Cárdenas"] * 5 + ["Veracruz"] * 5 + ["Altamira"] * 3 + \
    ["AICM Ciudad de México"] * 3 + ["Ensenada", "Nuevo Laredo", "Tijuana", "Progreso"]
_CARRIERS = ["MEDU", "MSCU", "COSU", "MAEU", "HLCU", "ONEY", "EGLV", "CMDU"]
_CN_CITIES = ["Hubei", "Wuhan", "Shanghai", "Jiangsu", "Zhejiang", "Shandong", "Hebei", "Tianjin",
              "Guangzhou", "Shenzhen", "Nanjing", "Hangzhou"]
_CN_WORDS = ["Jusheng", "Yuancheng", "Amarvel", "Xinhua", "Golden Bridge", "Huayang", "Longsheng",
             "Rongda", "Tianfu", "Weiming", "Kaiyuan", "Haoyun", "Fuxin", "Baichuan"]
_CN_TAILS = ["Chemical Co., Ltd.", "Technology Co., Ltd.", "Pharmaceutical Co., Ltd.",
             "Trading Co., Ltd.", "Biotech Co., Ltd.", "Import & Export Co., Ltd."]
_IN_WORDS = ["Aarti", "Deepak", "Sudarshan", "Vinati", "Navin", "Jubilant", "Alkyl", "Balaji",
             "Gujarat", "Meghmani", "Shree", "Atul"]
_WEST = [("DE", "Chemie GmbH"), ("DE", "Handels GmbH"), ("US", "Chemical Inc."),
         ("US", "Solvents LLC"), ("NL", "Chemicals B.V."), ("ES", "Química S.L."),
         ("BE", "Chemicals N.V."), ("KR", "Chemical Co., Ltd.")]
_WEST_WORDS = ["Rhein", "Nordic", "Atlas", "Summit", "Harbor", "Keystone", "Meridian", "Polar",
               "Brightwater", "Lindner", "Vogel", "Hansen"]


def _exporters() -> list[tuple[str, str]]:
    out = [(f"{c} {w} {t}", "CN") for c in _CN_CITIES for w in _CN_WORDS for t in _CN_TAILS]
    out += [(f"{w} {t} Pvt. Ltd.", "IN") for w in _IN_WORDS
            for t in ("Chemicals", "Organics", "Industries", "Fine Chem")]
    out += [(f"{w} {t}", cc) for w in _WEST_WORDS for cc, t in _WEST]
    return out


_EXPORTERS = _exporters()
_EXP_CN_IN = [e for e in _EXPORTERS if e[1] in ("CN", "IN")]

_NOACCENT = str.maketrans("áéíóúÁÉÍÓÚüÜ", "aeiouAEIOUuU")
_RFC_FOLD = str.maketrans("ÁÉÍÓÚÜÑáéíóúüñ", "AEIOUUXaeiouux")
_HC1 = "123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"  # 34 symbols
_HC2 = "0123456789A"
_HOMO = [a + b + c for a in _HC1 for b in _HC1 for c in _HC2]

_DAY0 = dt.date(1940, 1, 1).toordinal()
_DAYN = dt.date(2024, 12, 31).toordinal()
_ISO = [dt.date.fromordinal(o).isoformat() for o in range(_DAY0, _DAYN + 1)]
_YYMMDD = [s[2:4] + s[5:7] + s[8:10] for s in _ISO]


def _day(y: int, m: int = 1, d: int = 1) -> int:
    return dt.date(y, m, d).toordinal() - _DAY0


_INC_FIRST, _INC_LAST = _day(1970), _day(2022, 12, 31)
_BIRTH_FIRST, _BIRTH_LAST = _day(1940), _day(2003, 12, 31)
_LINK_LAST = _day(2023, 12, 31)
_ADULT = 18 * 365 + 5
_SHIP_FIRST, _SHIP_LAST, _SHIP_2019 = _day(2016), _day(2022, 12, 31), _day(2019)


def _initials(words: str) -> str:
    skip = {"de", "del", "la", "las", "los", "y", "e"}
    return "".join(w[0] for w in words.translate(_RFC_FOLD).upper().split()
                   if w.lower() not in skip)


def _first_vowel(s: str) -> str:
    s = s.translate(_RFC_FOLD).upper()
    return next((c for c in s[1:] if c in "AEIOU"), "X")


_SUR_I = [_initials(s) for s in _SURNAMES]
_SUR_RFC2 = [s.translate(_RFC_FOLD).upper()[0] + _first_vowel(s) for s in _SURNAMES]
_TYPE_I = [_initials(t) for t in _TYPES]
_MOD_I = [_initials(m) for m in _MODS]
_PLACE_I = [_initials(p) for p in _PLACES]
_BRAND_I = [_initials(b) for b in _BRANDS]
_FIRST_I = [_initials(f) for f in _FIRST]

_NT, _NS, _NM, _NP, _NB = len(_TYPES), len(_SURNAMES), len(_MODS), len(_PLACES), len(_BRANDS)
# Company trade-name patterns; the name space is their disjoint union.
_CP1 = _NT * _NS * _NS          # Distribuidora Ramírez Treviño
_CP2 = _NT * _NB * _NM          # Importadora Quimtex Global
_CP3 = _NT * _NM * _NP          # Química Industrial del Bajío
_CP4 = _NT * _NB                # Laboratorios Farmalab
_CSPACE = _CP1 + _CP2 + _CP3 + _CP4
_NF, _N2 = len(_FIRST), len(_SECOND)
_PA = _NF * _NS * _NS           # Juan Ramírez Treviño
_PB = _NF * _N2 * _NS * _NS     # María Guadalupe... (first + second name)
_NHOMO = len(_HOMO)
_CTAX = (_INC_LAST - _INC_FIRST + 1) * _NHOMO
_PTAX = (_BIRTH_LAST - _BIRTH_FIRST + 1) * _NHOMO

MAX_COMPANIES = min(_CSPACE, int(_PA / PERSONS_PER_COMPANY), 10 ** 7)


def _coprime(rng: random.Random, n: int) -> int:
    if n <= 1:
        return 1
    a = rng.randrange(n // 3 + 1, n) | 1
    while math.gcd(a, n) != 1:
        a += 1
    return a


def _mix(x: int) -> int:
    x = (x * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & _M64
    x ^= x >> 31
    x = (x * 0xBF58476D1CE4E5B9) & _M64
    return x ^ (x >> 29)


class _World:
    """All per-entity derivations for one (companies, seed); cheap to build in every process."""

    def __init__(self, companies: int, seed: int) -> None:
        if not 0 <= companies <= MAX_COMPANIES:
            raise ValueError(f"companies must be in 0..{MAX_COMPANIES}, got {companies!r}")
        self.seed = seed
        self.n = n = companies
        self.np = int(n * PERSONS_PER_COMPANY)
        self.ns = int(n * SHIPMENTS_PER_COMPANY)
        rng = random.Random(f"graphinv-synth:{seed}:world")
        salt = lambda: rng.getrandbits(62)  # noqa: E731
        self.s_comp, self.s_addr, self.s_street, self.s_pers, self.s_paddr, self.s_spouse, \
            self.s_flag, self.s_mass = (salt() for _ in range(8))
        self.c_name = (_coprime(rng, _CSPACE), rng.randrange(_CSPACE))
        self.c_tax = (_coprime(rng, _CTAX), rng.randrange(_CTAX))
        self.c_reg = (_coprime(rng, 10 ** 8), rng.randrange(10 ** 8))
        self.p_name_a = (_coprime(rng, _PA), rng.randrange(_PA))
        self.p_name_b = (_coprime(rng, _PB), rng.randrange(_PB))
        self.p_tax = (_coprime(rng, _PTAX), rng.randrange(_PTAX))
        self.clabe = (_coprime(rng, 10 ** 11), rng.randrange(10 ** 11))
        self.bol = (_coprime(rng, 10 ** 10), rng.randrange(10 ** 10))
        # The 4-piperidone story: a few established importers (large distributors), and shell
        # firms at shared addresses that start importing in 2019 (and are on the DEA list).
        self.story = (_coprime(rng, n), rng.randrange(n)) if n else (1, 0)
        self.story_inv = pow(self.story[0], -1, n) if n else 0
        self.n_regular = min(n, max(2, n // 50_000))
        self.n_new = min(n - self.n_regular, max(5, n // 20_000))
        self.importer_pool = max(1, n // 5)
        self.n_mass = max(1, n // 2_000)

    # -- companies ----------------------------------------------------------------------------
    def story_rank(self, i: int) -> int:
        """Position of company i in the story permutation (0..n_regular+n_new-1 are actors)."""
        return ((i - self.story[1]) * self.story_inv) % self.n

    def story_company(self, k: int) -> int:
        return (self.story[0] * k + self.story[1]) % self.n

    def company_core(self, i: int) -> tuple[str, str]:
        """Trade name without legal form, and its RFC initials."""
        a, b = self.c_name
        x = (a * i + b) % _CSPACE
        t = x % _NT
        x //= _NT
        if x < _NS * _NS:
            s1, s2 = x % _NS, x // _NS
            return f"{_TYPES[t]} {_SURNAMES[s1]} {_SURNAMES[s2]}", _TYPE_I[t] + _SUR_I[s1] + _SUR_I[s2]
        x -= _NS * _NS
        if x < _NB * _NM:
            br, m = x % _NB, x // _NB
            return f"{_TYPES[t]} {_BRANDS[br]} {_MODS[m]}", _TYPE_I[t] + _BRAND_I[br] + _MOD_I[m]
        x -= _NB * _NM
        if x < _NM * _NP:
            m, p = x % _NM, x // _NM
            return f"{_TYPES[t]} {_MODS[m]} {_PLACES[p]}", _TYPE_I[t] + _MOD_I[m] + _PLACE_I[p]
        x -= _NM * _NP
        return f"{_TYPES[t]} {_BRANDS[x]}", _TYPE_I[t] + _BRAND_I[x]

    def company_legal(self, i: int) -> tuple[str, str]:
        """(legal form, jurisdiction)."""
        h = _mix(i + self.s_comp)
        if h % 100 == 0:
            jur, legal = _FOREIGN[(h >> 8) % len(_FOREIGN)]
            return legal, jur
        return _LEGAL_MX[(h >> 16) % 100], "MX"

    def company_tax(self, i: int, initials: str) -> tuple[str, int]:
        """(RFC, incorporation day index); the date and homoclave part is a bijection of i."""
        a, b = self.c_tax
        y = (a * i + b) % _CTAX
        day = _INC_FIRST + y // _NHOMO
        return (initials + "XXX")[:3] + _YYMMDD[day] + _HOMO[y % _NHOMO], day

    def company_inc_day(self, i: int) -> int:
        a, b = self.c_tax
        return _INC_FIRST + ((a * i + b) % _CTAX) // _NHOMO

    def company_name_tax(self, i: int) -> tuple[str, str, str]:
        core, ini = self.company_core(i)
        legal, _ = self.company_legal(i)
        return core, legal, self.company_tax(i, ini)[0]

    def company_addr_key(self, i: int) -> int:
        """Address key: >= 0 a company's own address, < 0 a mass-registration address."""
        n_story = self.n_regular + self.n_new
        while True:
            if self.n_regular <= self.story_rank(i) < n_story:
                return -1 - (_mix(i + self.s_mass) % min(self.n_mass, 12))
            h = _mix(i + self.s_addr)
            u = h % 1000
            if u < 118 and i > 0:  # moved in with an earlier firm
                i = i - 1 - ((h >> 10) % min(i, 300))
                continue
            if u < 128:
                return -1 - ((h >> 10) % self.n_mass)
            return i

    # -- addresses ----------------------------------------------------------------------------
    def address(self, key: int, salt: int, variant: int = 0) -> str:
        h = _mix(key + salt)
        if key < 0:
            city, state, cp0, span, _ = _MASS_CITIES[(h >> 40) % len(_MASS_CITIES)]
        else:
            city, state, cp0, span, _ = _CITY_PICK[(h >> 40) % len(_CITY_PICK)]
        stype = _STREET_TYPES[h % len(_STREET_TYPES)]
        street = _STREETS[(h >> 4) % len(_STREETS)]
        num = 1 + (h >> 11) % 1999 if key < 0 else 1 + (h >> 11) % 400
        col = _COLONIAS[(h >> 22) % len(_COLONIAS)]
        cp = cp0 + (h >> 29) % span
        extra = ""
        if key < 0:
            extra = f" Piso {1 + (h >> 50) % 12}"
        elif (h >> 50) % 7 == 0:
            extra = f" Int. {1 + (h >> 53) % 30}"
        if variant == 0:
            return f"{stype} {street} {num}{extra}, Col. {col}, {cp:05d} {city}, {state}"
        if variant == 1:
            return f"{stype} {street} {num}{extra}, Col. {col}, {cp:05d} {city}, {state}".upper()
        if variant == 2:
            stype = {"Av.": "Avenida", "Blvd.": "Boulevard", "Calz.": "Calzada",
                     "Prol.": "Prolongación"}.get(stype, stype)
            return f"{stype} {street} No. {num}{extra}, Colonia {col}, C.P. {cp:05d}, {city}, {state}"
        return f"{street} {num}{extra} {col} {city} {state}".translate(_NOACCENT)

    def company_address(self, i: int) -> str:
        key = self.company_addr_key(i)
        v = 0
        if key != i:
            r = _mix(i + self.s_addr + 1) % 10
            v = 1 if r == 0 else 2 if r == 1 else 3 if r == 2 else 0
        return self.address(key, self.s_street, v)

    # -- persons ------------------------------------------------------------------------------
    def person_name_tax(self, p: int) -> tuple[str, str, int]:
        """(name, RFC or '', birth day index)."""
        h = _mix(p + self.s_pers)
        if h % 10 < 7:
            a, b = self.p_name_a
            x = (a * p + b) % _PA
            f = x % _NF
            x //= _NF
            s1, s2 = x % _NS, x // _NS
            name = f"{_FIRST[f]} {_SURNAMES[s1]} {_SURNAMES[s2]}"
        else:
            a, b = self.p_name_b
            x = (a * p + b) % _PB
            f = x % _NF
            x //= _NF
            g = x % _N2
            x //= _N2
            s1, s2 = x % _NS, x // _NS
            name = f"{_FIRST[f]} {_SECOND[g]} {_SURNAMES[s1]} {_SURNAMES[s2]}"
        a, b = self.p_tax
        y = (a * p + b) % _PTAX
        day = _BIRTH_FIRST + y // _NHOMO
        if (h >> 8) % 10 == 0:
            return name, "", day
        return name, _SUR_RFC2[s1] + _SUR_I[s2] + _FIRST_I[f][0] + _YYMMDD[day] + \
            _HOMO[y % _NHOMO], day

    def person_birth_day(self, p: int) -> int:
        a, b = self.p_tax
        return _BIRTH_FIRST + ((a * p + b) % _PTAX) // _NHOMO

    def married_to_next(self, p: int) -> bool:
        """Persons 2k and 2k+1 are spouses for about half of k."""
        return p % 2 == 0 and p + 1 < self.np and _mix(p + self.s_spouse) % 100 < 50


# ---------------------------------------------------------------------------------------------
# File writers: each streams one (or two) files with its own RNG stream.

_CHUNK = 20_000


class _Out:
    def __init__(self, path: Path, name: str) -> None:
        self.f = open(path / name, "w", encoding="utf-8", newline="")
        self.w = csv.writer(self.f, lineterminator="\n")
        self.w.writerow(COLUMNS[name])
        self.buf: list[list] = []
        self.rows = 0

    def add(self, row: list) -> None:
        self.buf.append(row)
        if len(self.buf) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        self.w.writerows(self.buf)
        self.rows += len(self.buf)
        self.buf.clear()

    def close(self) -> int:
        self.flush()
        self.f.close()
        return self.rows


def _rng(w: _World, name: str):
    return random.Random(f"graphinv-synth:{w.seed}:{name}").random


def _write_companies(w: _World, out: Path) -> dict[str, int]:
    o = _Out(out, "companies.csv")
    add = o.add
    n_reg, n_story = w.n_regular, w.n_regular + w.n_new
    a_reg, b_reg = w.c_reg
    a_name, b_name = w.c_name
    s_comp = w.s_comp
    for i in range(w.n):
        core, ini = w.company_core(i)
        tax, day = w.company_tax(i, ini)
        h = _mix(i + s_comp)
        if h % 100 == 0:  # same draw as _World.company_legal
            jur, legal = _FOREIGN[(h >> 8) % len(_FOREIGN)]
        else:
            legal, jur = _LEGAL_MX[(h >> 16) % 100], "MX"
        t = (a_name * i + b_name) % _CSPACE % _NT  # the trade name's type word
        ind = _INDUSTRIES[_TYPE_IND[t]] if (h >> 24) % 100 < 85 else \
            _INDUSTRIES[(h >> 32) % len(_INDUSTRIES)]
        emp_u = ((h >> 40) & 0xFFFF) / 65536.0
        employees = "" if (h >> 56) % 10 == 0 else str(int(2.718281828 ** (emp_u * 7.2)))
        status = _STATUS[(h >> 8) % 100]
        rank = w.story_rank(i)
        if rank < n_reg:
            ind = "Comercio al por mayor de productos químicos"
            employees = str(1500 + (h >> 20) % 8000)
            status = "active"
        elif rank < n_story:
            ind = "Comercio al por mayor de productos químicos"
            employees = str(2 + (h >> 20) % 10)
            status = "active"
        reg = "" if (h >> 60) == 0 else f"N-{_ISO[day][:4]}{(a_reg * i + b_reg) % 10 ** 8:08d}"
        add([f"C{i}", f"{core} {legal}", tax, reg, jur, _ISO[day], w.company_address(i), status,
             employees, ind])
    return {"companies.csv": o.close()}


def _write_persons(w: _World, out: Path) -> dict[str, int]:
    o = _Out(out, "persons.csv")
    add = o.add
    s_paddr, s_pers = w.s_paddr, w.s_pers
    married = w.married_to_next
    for p in range(w.np):
        name, tax, day = w.person_name_tax(p)
        key = p - 1 if p % 2 == 1 and married(p - 1) else p
        nat = _NATIONALITY[(_mix(p + s_pers) >> 16) % 100]
        add([f"P{p}", name, tax, _ISO[day], nat, w.address(key, s_paddr)])
    return {"persons.csv": o.close()}


def _write_ownership_officers(w: _World, out: Path) -> dict[str, int]:
    own = _Out(out, "ownership.csv")
    off = _Out(out, "officers.csv")
    add_own, add_off = own.add, off.add
    r = _rng(w, "ownership")
    n, np_ = w.n, w.np
    iso = _ISO
    holdings = max(1, n // 1_000)
    magnates = max(1, np_ // 2_000)
    for i in range(n):
        inc = w.company_inc_day(i)
        cid = f"C{i}"
        u = r()
        k = 0 if u < 0.10 else 1 if u < 0.57 else 2 if u < 0.87 else 3 if u < 0.96 else 4
        owners: list[str] = []
        person_owners: list[int] = []
        base = i * np_ // n if n else 0
        for _ in range(k):
            if i > 0 and (np_ == 0 or r() < 0.25):
                if r() < 0.3:
                    j = int(r() * min(i, holdings))
                else:
                    j = i - 1 - int(r() * min(i, 5_000))
                oid = f"C{j}"
            else:
                if np_ == 0:
                    continue
                if r() < 0.03:
                    p = int(r() * magnates) * 2_000 % np_
                else:
                    p = (base + int((r() - 0.5) * 800)) % np_
                oid = f"P{p}"
                if oid not in owners:
                    person_owners.append(p)
            if oid not in owners:
                owners.append(oid)
        if owners:
            m = len(owners)
            if m == 1:
                u = r()
                shares = ["100.00" if u < 0.8 else f"{50 + r() * 50:.2f}"]
            else:
                ws = [r() + 0.1 for _ in range(m)]
                total = 90.0 if r() < 0.1 else 100.0  # a minority holder left unrecorded
                scale = total / sum(ws)
                vals = [round(x * scale, 2) for x in ws[:-1]]
                vals.append(round(total - sum(vals), 2))
                shares = [f"{v:.2f}" for v in vals]
            for oid, share in zip(owners, shares):
                if r() < 0.05:
                    share = ""
                start = inc if r() < 0.7 else inc + int(r() * (_LINK_LAST - inc))
                if oid[0] == "P":
                    start = min(max(start, w.person_birth_day(int(oid[1:])) + _ADULT), _LINK_LAST)
                end = iso[start + 1 + int(r() * (_LINK_LAST - start - 1))] if r() < 0.08 else ""
                add_own([oid, cid, share, iso[start], end])
        u = r()
        k = 0 if u < 0.15 else 1 if u < 0.85 else 2
        used: set[int] = set()
        for q in range(k):
            if person_owners and r() < 0.5:
                p = person_owners[int(r() * len(person_owners))]
            elif np_:
                p = (base + int((r() - 0.5) * 800)) % np_
            else:
                break
            if p in used:
                continue
            used.add(p)
            role = _OFFICER_ROLES[0 if q == 0 and r() < 0.4 else int(r() * len(_OFFICER_ROLES))]
            start = inc + int(r() * 30) if r() < 0.6 else inc + int(r() * (_LINK_LAST - inc))
            start = min(max(start, w.person_birth_day(p) + _ADULT), _LINK_LAST)
            end = iso[start + 1 + int(r() * (_LINK_LAST - start))] if r() < 0.1 else ""
            add_off([f"P{p}", cid, role, iso[start], end])
    return {"ownership.csv": own.close(), "officers.csv": off.close()}


def _write_family(w: _World, out: Path) -> dict[str, int]:
    o = _Out(out, "family.csv")
    add = o.add
    r = _rng(w, "family")
    np_ = w.np
    married = w.married_to_next
    for p in range(np_):
        if married(p):
            add([f"P{p}", f"P{p + 1}", "spouse"])
        if r() < 0.05:
            q = p + 2 + int(r() * 48)
            if q < np_:
                add([f"P{p}", f"P{q}", _FAMILY_OTHER[int(r() * len(_FAMILY_OTHER))]])
    return {"family.csv": o.close()}


def _write_accounts(w: _World, out: Path) -> dict[str, int]:
    o = _Out(out, "accounts.csv")
    add = o.add
    r = _rng(w, "accounts")
    a, b = w.clabe
    w371, w37, npick = _W371, _W37, len(_BANK_PICK)
    seq = 0

    def account(holder: str) -> None:
        nonlocal seq
        code, bank = _BANKS[_BANK_PICK[int(r() * npick)]]
        plaza = 180 + int(r() * 720)
        acct = (a * seq + b) % 10 ** 11
        check = (10 - (w371[code] + w371[plaza] + w371[acct // 10 ** 8] + w371[acct // 10 ** 5 % 1000]
                       + w371[acct // 100 % 1000] + w37[acct % 100]) % 10) % 10
        if r() < 0.1:  # as typed on a form: spaced groups
            number = f"{code:03d} {plaza:03d} {acct:011d} {check}"
        else:
            number = f"{code:03d}{plaza:03d}{acct:011d}{check}"
        if r() < 0.01:
            status, frozen = "frozen", _ISO[_day(2019) + int(r() * 1460)]
        else:
            status, frozen = "active", ""
        add([f"A{seq}", holder, bank, number, status, frozen])
        seq += 1

    for i in range(w.n):
        u = r()
        for _ in range(0 if u < 0.15 else 1 if u < 0.87 else 2 if u < 0.98 else 3):
            account(f"C{i}")
    for p in range(w.np):
        u = r()
        for _ in range(0 if u < 0.715 else 1 if u < 0.985 else 2):
            account(f"P{p}")
    return {"accounts.csv": o.close()}


def _write_flags(w: _World, out: Path) -> dict[str, int]:
    o = _Out(out, "flags.csv")
    add = o.add
    r = _rng(w, "flags")
    s = w.s_flag
    n_reg, n_story = w.n_regular, w.n_regular + w.n_new
    date0 = _day(2017)

    def ref(h: int, eid: str, name: str, tax: str) -> str:
        kind = (h >> 10) % 10
        if kind < 4 or (kind < 7 and not tax):
            return eid
        return tax if kind < 7 else name

    for i in range(w.n):
        h = _mix(i + s)
        dea = n_reg <= w.story_rank(i) < n_story
        if h % 1000 >= 5 and not dea:
            continue
        core, legal, tax = w.company_name_tax(i)
        name = f"{core} {legal}"
        if h % 1000 < 5:
            lst, reason = _FLAG_LISTS[int(r() * len(_FLAG_LISTS))]
            add([ref(h, f"C{i}", name, tax), lst, reason, _ISO[date0 + int(r() * 2000)]])
        if dea:
            add([ref(h >> 3, f"C{i}", name, tax), *_DEA_LIST, _ISO[_day(2021, 3, 1) + int(r() * 60)]])
    for p in range(w.np):
        h = _mix(p + s + 0x5EED)
        if h % 1000 >= 5:
            continue
        name, tax, _ = w.person_name_tax(p)
        lst, reason = _FLAG_LISTS[int(r() * len(_FLAG_LISTS))]
        add([ref(h, f"P{p}", name, tax), lst, reason, _ISO[date0 + int(r() * 2000)]])
    return {"flags.csv": o.close()}


def _write_shipments(w: _World, out: Path) -> dict[str, int]:
    o = _Out(out, "shipments.csv")
    add = o.add
    r = _rng(w, "shipments")
    n = w.n
    n_reg, n_new, pool = w.n_regular, w.n_new, w.importer_pool
    ba, bb = w.bol
    span = _SHIP_LAST - _SHIP_FIRST + 1
    nexp, ncnin = len(_EXPORTERS), len(_EXP_CN_IN)
    for s in range(w.ns):
        day = _SHIP_FIRST + int(r() * span)
        if r() < 0.03:
            variants, hs, price = _P4
            if n_new and day >= _SHIP_2019 and r() < 0.6:
                i = w.story_company(n_reg + int(r() * n_new))
                qty = 200 + r() * 1800
            else:
                i = w.story_company(int(r() * n_reg))
                qty = 25 + r() * 400
            exporter, ecc = _EXP_CN_IN[int(r() * ncnin)]
        else:
            variants, hs, price, _ = _PRODUCT_PICK[int(r() * len(_PRODUCT_PICK))]
            i = w.story_company(int(r() * pool)) if r() < 0.8 else int(r() * n)
            qty = 100 + (r() ** 3) * 40_000
            exporter, ecc = _EXPORTERS[int(r() * nexp)]
        product = variants[int(r() * len(variants))]
        core, legal, tax = w.company_name_tax(i)
        u = r()
        if u < 0.5:
            importer = f"{core} {legal}"
        elif u < 0.65:
            importer = f"{core} {legal}".upper()
        elif u < 0.8:
            importer = f"{core} {legal}".translate(_NOACCENT)
        elif u < 0.9:
            importer = f"{core} {legal}".translate(_NOACCENT).upper()
        elif u < 0.95:
            importer = f"{core}, {legal.replace('.', '')}".upper()
        else:
            importer = core
        u = r()
        itax = tax if u < 0.6 else f"{tax[:3]}-{tax[3:9]}-{tax[9:]}" if u < 0.65 else ""
        origin = ecc if r() < 0.9 else _EXPORTERS[int(r() * nexp)][1]
        value = qty * price * (0.8 + 0.4 * r())
        add([f"S{s}", _ISO[day], importer, itax, exporter, ecc, product, hs, f"{qty:.1f}",
             f"{value:.2f}", _PORTS[int(r() * len(_PORTS))], origin,
             f"{_CARRIERS[s % len(_CARRIERS)]}{(ba * s + bb) % 10 ** 10:010d}"])
    return {"shipments.csv": o.close()}


# Longest first, so two workers finish together.
_TASKS = [_write_ownership_officers, _write_companies, _write_shipments, _write_persons,
          _write_accounts, _write_family, _write_flags]


def _run_task(args: tuple[int, int, int, str]) -> dict[str, int]:
    idx, companies, seed, out = args
    return _TASKS[idx](_World(companies, seed), Path(out))


def generate(out_dir: Path, companies: int, *, seed: int = 7,
             jobs: int | None = None) -> dict[str, int]:
    """Write a canonical bundle with ``companies`` companies into ``out_dir``.

    Returns the number of data rows written per file. ``jobs`` processes write files in
    parallel (default: the CPU count, at most 4); the output does not depend on it.
    """
    _World(companies, seed)  # validate before forking
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = min(4, os.cpu_count() or 1) if jobs is None else max(1, jobs)
    args = [(k, companies, seed, str(out_dir)) for k in range(len(_TASKS))]
    counts: dict[str, int] = {}
    if jobs == 1 or companies < 20_000:
        for a in args:
            counts.update(_run_task(a))
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(jobs) as pool:
            for res in pool.imap_unordered(_run_task, args):
                counts.update(res)
    return {name: counts[name] for name in COLUMNS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Write a synthetic graphinv canonical CSV bundle.",
        epilog="example: python bench/synth.py /tmp/bundle --companies 100000 --seed 7")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--companies", type=int, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPUs, max 4)")
    ap.add_argument("--time", action="store_true", help="report elapsed seconds on stderr")
    ns = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        counts = generate(ns.out_dir, ns.companies, seed=ns.seed, jobs=ns.jobs)
    except ValueError as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 2
    if ns.time:
        print(f"synth: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
