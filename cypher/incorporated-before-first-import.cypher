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
// A vague date (2019, 2019-05) stands for the first day of its period, as everywhere in graphinv.
WITH c, s, i, CASE size(s.date) WHEN 4 THEN s.date + '-01-01' WHEN 7 THEN s.date + '-01' ELSE s.date END AS day
ORDER BY day, s.date, s.id
WITH c, collect({s: s, i: i, day: day}) AS imports
WITH c, imports[0].s AS first, imports[0].i AS link, imports[0].day AS first_day,
     CASE size(c.incorporation_date) WHEN 4 THEN c.incorporation_date + '-01-01'
          WHEN 7 THEN c.incorporation_date + '-01' ELSE c.incorporation_date END AS incorporated_day
WITH c, first, link, duration.inDays(date(incorporated_day), date(first_day)).days AS days
WHERE 0 <= days AND days <= $max_days
RETURN c {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS company,
       c.incorporation_date AS incorporated,
       first.date AS first_import,
       first.chemical AS chemical,
       first {.id, .name, .kind, .bundle_id, .product, .quantity_kg} AS first_shipment,
       days,
       [link {rel: type(link), source: c.id, target: first.id, .sources}] AS links
ORDER BY days, company.name, company.id
