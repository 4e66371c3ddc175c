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
// A vague date (2019, 2019-05) counts as the first day of its period: compared and ordered by that
// day, shown as given. An undated shipment counts in shipments and kilograms but is never the first
// import, and with until it is left out (nothing places it before that day).
WITH c, s, i, coalesce(s.date, '') AS given
WITH c, s, i, given, CASE size(given) WHEN 4 THEN given + '-01-01' WHEN 7 THEN given + '-01' ELSE given END AS day
WHERE $until IS NULL OR (given <> '' AND day <= $until)
WITH c, s, i, given, day
ORDER BY day, given, s.id
WITH c, collect(s) AS ships,
     [x IN collect(CASE WHEN given <> '' THEN {ship: s, day: day} END) WHERE x IS NOT NULL] AS days,
     collect(i {rel: type(i), source: c.id, target: s.id, date: s.date, .sources}) AS links
WITH c, ships, links, days[0].ship AS first, days[-1].ship AS last, days[0].day AS first_day,
     [x IN days | x.ship] AS dated
WITH c, ships, links, first, last, first_day, dated, (first_day IS NOT NULL AND first_day >= $since) AS new
WHERE new OR $established
UNWIND ships AS s
OPTIONAL MATCH (s)<-[:EXPORTED]-(e)
WITH c, ships, links, first, last, first_day, dated, new, e
ORDER BY e.name, e.id
WITH c, ships, links, first, last, first_day, dated, new,
     collect(DISTINCT e {.id, .name, .kind, .tax_id, .flagged, .bundle_id}) AS exporters
WITH c, ships, links, first_day, dated, new, exporters, first.date AS first_import, last.date AS last_import,
     coalesce(first, ships[0]) AS first
RETURN c {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS company,
       $chemical AS chemical,
       first_import,
       first {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS first_shipment,
       last_import,
       size(ships) AS shipments,
       round(reduce(kg = 0.0, s IN ships | kg + coalesce(s.quantity_kg, 0.0)), 3) AS quantity_kg,
       reduce(ys = [], s IN dated |
              CASE WHEN toInteger(substring(s.date, 0, 4)) IN ys THEN ys
                   ELSE ys + [toInteger(substring(s.date, 0, 4))] END) AS years,
       exporters, new, links
ORDER BY NOT new, coalesce(first_day, '9999'), company.name, company.id
