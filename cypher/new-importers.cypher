// name: new-importers
// description: Firms whose first import of a watched chemical falls on or after a date, earliest
//   first: first date and shipment, shipment count, kilograms, years, suppliers, and the IMPORTED
//   links with their customs rows. Shipments are selected by their canonical chemical (the
//   precursor lexicon's name, which graphinv finds for any synonym, short form or CAS number).
// param: chemical chemical  The chemical (graphinv turns a synonym, short form or CAS number into its canonical name).
// param: since date  First import on or after this day makes a firm new.
// param: until date(end) = null  Ignore shipments after this day (null: none ignored).
// param: established boolean = false  Also list the firms that imported it before since (new = false), after the new ones.
// returns: company, chemical, first_import, first_shipment, last_import, shipments, quantity_kg, years, exporters, new, links
// mode: read
MATCH (s:Shipment {chemical: $chemical})<-[i:IMPORTED]-(c)
WHERE $until IS NULL OR (s.date IS NOT NULL AND s.date <= $until)
WITH c, s, i
ORDER BY coalesce(s.date, ''), s.id
WITH c, collect(s) AS ships,
     collect(i {rel: type(i), source: c.id, target: s.id, date: s.date, .sources}) AS links
WITH c, ships, links,
     CASE WHEN coalesce(ships[0].date, '') = '' THEN null ELSE ships[0].date END AS first_import
WITH c, ships, links, first_import, (first_import IS NOT NULL AND first_import >= $since) AS new
WHERE new OR $established
UNWIND ships AS s
OPTIONAL MATCH (s)<-[:EXPORTED]-(e)
WITH c, ships, links, first_import, new, e
ORDER BY e.name, e.id
WITH c, ships, links, first_import, new,
     collect(DISTINCT e {.id, .name, .kind, .tax_id, .flagged, .bundle_id}) AS exporters
WITH c, ships, links, first_import, new, exporters, ships[0] AS first
RETURN c {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS company,
       $chemical AS chemical,
       first_import,
       first {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS first_shipment,
       CASE WHEN coalesce(ships[-1].date, '') = '' THEN null ELSE ships[-1].date END AS last_import,
       size(ships) AS shipments,
       round(reduce(kg = 0.0, s IN ships | kg + coalesce(s.quantity_kg, 0.0)), 3) AS quantity_kg,
       reduce(ys = [], s IN ships |
              CASE WHEN s.date IS NULL OR toInteger(substring(s.date, 0, 4)) IN ys THEN ys
                   ELSE ys + [toInteger(substring(s.date, 0, 4))] END) AS years,
       exporters, new, links
ORDER BY NOT new, coalesce(first_import, '9999'), company.name, company.id
