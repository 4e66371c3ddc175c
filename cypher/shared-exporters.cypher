// name: shared-exporters
// description: Importers that buy from the same foreign exporters as flagged firms: the
//   suppliers a ring uses, and who else they ship to. Each importer with the shared exporters,
//   the flagged firms buying from them, and its shipments from them (of one chemical, if given).
// param: chemical chemical = null  Only shipments of this chemical (null: any shipment).
// param: include_flagged boolean = false  Also list flagged importers.
// returns: importer, exporters, flagged_buyers, shipments, quantity_kg
// mode: read
MATCH (f:Company)-[:IMPORTED]->(fs:Shipment)<-[:EXPORTED]-(e)
WHERE f.flagged AND ($chemical IS NULL OR fs.chemical = $chemical)
WITH e, collect(DISTINCT f) AS buyers
MATCH (e)-[:EXPORTED]->(s:Shipment)<-[:IMPORTED]-(c:Company)
WHERE ($chemical IS NULL OR s.chemical = $chemical) AND ($include_flagged OR NOT c.flagged)
WITH c, e, buyers, collect(DISTINCT s) AS ships
ORDER BY e.name, e.id
WITH c,
     collect(e {.id, .name, .kind, .tax_id, .flagged, .bundle_id}) AS exporters,
     reduce(acc = [], b IN reduce(all = [], bs IN collect(buyers) | all + bs) | CASE WHEN b IN acc OR b = c THEN acc ELSE acc + [b] END) AS buyers,
     reduce(acc = [], ss IN collect(ships) | acc + [s IN ss WHERE NOT s IN acc]) AS ships
WHERE size(buyers) > 0
RETURN c {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS importer,
       exporters,
       [b IN buyers | b {.id, .name, .kind, .tax_id, .flagged, .bundle_id}] AS flagged_buyers,
       size(ships) AS shipments,
       round(reduce(kg = 0.0, s IN ships | kg + coalesce(s.quantity_kg, 0.0)), 3) AS quantity_kg
ORDER BY size(flagged_buyers) DESC, shipments DESC, importer.name, importer.id
