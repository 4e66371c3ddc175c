// name: incorporated-before-first-import
// description: Firms incorporated shortly before their first import of a watched precursor: a
//   shell set up to import. Each with its incorporation date, the first such shipment, the
//   chemical, the days between, and the IMPORTED link with its customs row.
// param: max_days integer(0..) = 730  Most days between incorporation and the first import.
// param: chemicals chemical[] = ["1-boc-4-piperidone", "4-anilinopiperidine", "4-piperidone",
//   "N-phenethyl-4-piperidone", "norfentanyl", "propionyl chloride", "propionic anhydride",
//   "phenyl-2-propanone", "ephedrine", "pseudoephedrine", "methylamine"]  The precursors that count.
// returns: company, incorporated, first_import, chemical, first_shipment, days, links
// mode: read
MATCH (c:Company)-[i:IMPORTED]->(s:Shipment)
WHERE s.chemical IN $chemicals AND s.date IS NOT NULL AND s.date <> '' AND c.incorporation_date IS NOT NULL
WITH c, s, i
ORDER BY s.date, s.id
WITH c, collect({s: s, i: i}) AS imports
WITH c, imports[0].s AS first, imports[0].i AS link
WITH c, first, link,
     duration.inDays(
       CASE WHEN size(c.incorporation_date) >= 10 THEN date(substring(c.incorporation_date, 0, 10))
            ELSE date(substring(c.incorporation_date, 0, 4) + '-07-01') END,
       CASE WHEN size(first.date) >= 10 THEN date(substring(first.date, 0, 10))
            ELSE date(substring(first.date, 0, 4) + '-07-01') END).days AS days
WHERE 0 <= days AND days <= $max_days
RETURN c {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS company,
       c.incorporation_date AS incorporated,
       first.date AS first_import,
       first.chemical AS chemical,
       first {.id, .name, .kind, .bundle_id, .product, .quantity_kg} AS first_shipment,
       days,
       [link {rel: type(link), source: c.id, target: first.id, .sources}] AS links
ORDER BY days, company.name, company.id
