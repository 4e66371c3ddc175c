// name: risk
// description: An explainable risk score per registry firm, highest first: network and import
//   signals (watch list, new importer of a watched precursor, young, tiny, nominee officer,
//   address shared with flagged firms or with a mass-registration office, owners or officers
//   tied to flagged firms, ownership links to flagged firms, flagged owners, officers or
//   spouses) weighed against legitimacy (age, staff, a long history of importing the chemical).
//   Only firms tied to that evidence are scored, and only those with a risk signal beyond age
//   and size are listed. Each signal is listed with its weight (the weights of graphinv.query.risk).
// param: top integer(0..) = 0  Keep the N highest scores (0: all).
// param: as_of date(day) = null  The reference day (null: the latest shipment date in the graph, else today).
// param: since date = null  A first import on or after this day is new (null: 2 or more years after the chemical's first import in the graph).
// param: max_degree integer(0..) = 12  An address with more holders than this is a mass-registration office (0: none is).
// param: nominee_min_firms integer(1..) = 5  An officer of this many firms or more is nominee-like.
// param: watched chemical[] = ["1-boc-4-anilinopiperidine", "1-boc-4-piperidone", "4-anilino-N-phenethylpiperidine",
//   "4-anilinopiperidine", "4-piperidone", "BMK glycidic acid", "N-phenethyl-4-piperidone", "alpha-phenylacetoacetamide",
//   "alpha-phenylacetoacetonitrile", "aniline", "ephedrine", "hydriodic acid", "methyl alpha-phenylacetoacetate",
//   "methylamine", "norephedrine", "norfentanyl", "phenyl-2-propanone", "phenylacetic acid", "propionic anhydride",
//   "propionyl chloride", "pseudoephedrine", "red phosphorus"]  The precursors whose new importers are a signal.
// returns: entity, score, reasons, signals
// mode: read
OPTIONAL MATCH (s0:Shipment)
WHERE s0.date IS NOT NULL AND s0.date <> ''
WITH coalesce($as_of, substring(max(s0.date), 0, 10), toString(date())) AS day
// A vague date (2019, 2019-05) counts as the first day of its period, the reference day too: every
// comparison and age below reads such a day.
WITH CASE size(day) WHEN 4 THEN day + '-01-01' WHEN 7 THEN day + '-01' ELSE day END AS day
// Written so that both Neo4j and ArcadeDB stay local: the only whole-graph passes are the five
// below (one aggregation each); every firm is then scored from its own neighbourhood, never by
// searching a list of all importers, flagged firms or nominees (ArcadeDB has no hash lookups
// for lists, and such a search per firm took over 16 minutes at 100k firms).
CALL (day) {
  OPTIONAL MATCH (ff:Company)
  WHERE ff.flagged AND coalesce(ff.registered, true)
  RETURN collect(ff) AS flagged
}
CALL (day) {
  OPTIONAL MATCH (s:Shipment)<-[:IMPORTED]-(imp)
  WHERE s.chemical IN $watched
  RETURN collect(DISTINCT imp) AS importers
}
CALL (day) {
  OPTIONAL MATCH (s:Shipment)<-[:IMPORTED]-()
  WHERE s.chemical IN $watched AND s.date IS NOT NULL AND s.date <> ''
  WITH s.chemical AS chem, min(CASE size(s.date) WHEN 4 THEN s.date + '-01-01' WHEN 7 THEN s.date + '-01' ELSE s.date END) AS first
  RETURN collect(CASE WHEN chem IS NOT NULL THEN {chem: chem, first: first} END) AS firsts
}
CALL (day) {
  OPTIONAL MATCH (p:Person)-[r:OFFICER_OF]->(c)
  WHERE (r.start_date IS NULL OR r.start_date <= day) AND (r.end_date IS NULL OR r.end_date > day)
  WITH p, collect(DISTINCT c) AS firms
  WHERE size(firms) >= $nominee_min_firms
  RETURN reduce(acc = [], fs IN collect(firms) | acc + fs) AS nominee_firms
}
CALL (day) {
  OPTIONAL MATCH (a:Address)<--(h)
  WHERE $max_degree > 0
  WITH a, count(DISTINCT h) AS holders
  WHERE a IS NOT NULL AND holders > $max_degree
  RETURN collect(a) AS hub_addresses
}
// The firms to score: flagged, importers of a watched precursor, firms one owner, officer,
// address or ownership link from a flagged firm, firms of nominee officers, firms at mass addresses
// (whose holders are candidates already, so the walk from a flagged firm passes only other addresses).
CALL (flagged) {
  UNWIND flagged AS ff
  WITH ff,
       [(ff)<--(pc:Company) | pc]
       + reduce(acc = [], other IN [(ff)<--(o) WHERE (o:Person OR o:Company) AND COUNT { MATCH (o)-->(x) RETURN DISTINCT x } <= 200 | o] |
                acc + [(other)-[:OWNS|OFFICER_OF]->(t) WHERE t <> ff | t])
       + [(ff)-[:OWNS]->(owned:Company) | owned]
       + reduce(acc = [], ad IN [(ff)-->(a:Address) WHERE $max_degree <= 0 OR COUNT { MATCH (a)<--(h) RETURN DISTINCT h } <= $max_degree | a] |
                acc + [(ad)<--(n) WHERE n <> ff | n]) AS tied
  UNWIND tied AS t
  RETURN collect(DISTINCT t) AS tied
}
// Firms a flagged person, or the spouse of one, owns or runs.
CALL (day) {
  OPTIONAL MATCH (fp:Person)
  WHERE fp.flagged
  UNWIND [fp] + [(fp)-[fam:FAMILY]-(sp:Person) WHERE fam.relation = 'spouse' | sp] AS near
  OPTIONAL MATCH (near)-[:OWNS|OFFICER_OF]->(pf)
  RETURN collect(DISTINCT pf) AS person_firms
}
CALL (flagged, importers, tied, nominee_firms, hub_addresses, person_firms) {
  UNWIND flagged + importers + tied + nominee_firms + person_firms + reduce(acc = [], a IN hub_addresses | acc + [(a)<--(h) | h]) AS c
  RETURN collect(DISTINCT c) AS candidates
}
UNWIND candidates AS firm
// hub_addresses stays behind: a list carried on every firm's row is counted once per row against
// ArcadeDB's query heap (at 1M firms the final ranking then needed over 15 GB); a firm's own
// addresses are tested for holders below instead.
WITH firm, day, firsts
WHERE firm:Company AND coalesce(firm.registered, true)
// Imports of watched precursors: new, or a long history from the start.
CALL (firm, firsts) {
  OPTIONAL MATCH (firm)-[:IMPORTED]->(s:Shipment)
  WHERE s.chemical IN $watched
  WITH firsts, s.chemical AS chem, s, coalesce(s.date, '') AS given
  WITH firsts, chem, s, given, CASE size(given) WHEN 4 THEN given + '-01-01' WHEN 7 THEN given + '-01' ELSE given END AS ship_day
  ORDER BY chem, ship_day, given, s.id
  // An undated shipment counts in shipments and kilograms, never as the first import.
  WITH firsts, chem, collect(s) AS ships,
       [x IN collect(CASE WHEN given <> '' THEN {ship: s, day: ship_day} END) WHERE x IS NOT NULL] AS days
  WHERE chem IS NOT NULL
  WITH chem, ships, [x IN days | x.ship] AS dated, days[0].day AS first,
       head([f IN firsts WHERE f.chem = chem | f.first]) AS first_in_case
  WHERE size(dated) > 0
  WITH chem, ships, dated, first_in_case, first,
       reduce(ys = [], s IN dated | CASE WHEN substring(s.date, 0, 4) IN ys THEN ys ELSE ys + [substring(s.date, 0, 4)] END) AS years,
       duration.inDays(date(first_in_case), date(first)).days / 365.25 AS gap
  WITH chem, ships, dated, first, first_in_case, years, gap,
       CASE WHEN $since IS NOT NULL THEN first >= $since ELSE gap >= 2.0 END AS late
  ORDER BY chem
  WITH collect({chem: chem, first: first, late: late, shipments: size(ships), first_shipment: dated[0],
                kg: reduce(kg = 0.0, s IN ships | kg + coalesce(s.quantity_kg, 0.0)),
                history: NOT late AND first = first_in_case AND size(years) >= 4, years: size(years), dated: size(dated)}) AS chems
  WITH chems, [c IN chems WHERE c.late] AS new
  RETURN reduce(m = null, c IN chems | CASE WHEN m IS NULL OR c.first < m THEN c.first ELSE m END) AS first_watched,
         [k IN range(0, size(new) - 1) | {
            name: CASE WHEN k = 0 THEN 'new_importer' ELSE 'new_importer_more' END,
            weight: CASE WHEN k = 0 THEN 3.0 ELSE 1.0 END,
            text: 'new importer of ' + new[k].chem + ': first import ' + new[k].first_shipment.date + ' ('
                  + coalesce(new[k].first_shipment.bundle_id, new[k].first_shipment.id) + '); '
                  + toString(new[k].shipments) + ' shipments, ' + toString(round(new[k].kg)) + ' kg'}]
         + [c IN chems WHERE c.history | {name: 'long_import_history', weight: -1.5,
            text: 'imported ' + c.chem + ' in ' + toString(c.years) + ' distinct years since ' + substring(c.first, 0, 4)
                  + ' (' + toString(c.dated) + ' shipments), from the first year it appears in the graph'}] AS import_signals
}
// Age at the first watched import (or at the reference day), and size.
WITH firm, day, import_signals, first_watched,
     CASE size(firm.incorporation_date)
          WHEN 4 THEN firm.incorporation_date + '-01-01'
          WHEN 7 THEN firm.incorporation_date + '-01'
          ELSE substring(firm.incorporation_date, 0, 10) END AS incorporated
WITH firm, day, import_signals, first_watched,
     CASE WHEN incorporated IS NULL THEN null
          ELSE duration.inDays(date(incorporated), date(coalesce(first_watched, day))).days / 365.25 END AS age
WITH firm, day, import_signals,
     CASE WHEN firm.flagged THEN [{name: 'watchlist', weight: 1.0,
          text: 'on watch list: ' + reduce(t = '', l IN coalesce(firm.flags, []) | t + CASE WHEN t = '' THEN '' ELSE '; ' END + l)}] ELSE [] END
     + import_signals
     + CASE WHEN age IS NULL THEN []
            WHEN 0 <= age AND age < 3 THEN [{name: 'very_young', weight: 2.0, text: 'incorporated ' + firm.incorporation_date + ', ' + toString(round(age, 1)) + ' years before ' + coalesce(first_watched, day)}]
            WHEN 3 <= age AND age < 6 THEN [{name: 'young', weight: 1.0, text: 'incorporated ' + firm.incorporation_date + ', ' + toString(round(age, 1)) + ' years before ' + coalesce(first_watched, day)}]
            WHEN age >= 20 THEN [{name: 'old', weight: -2.0, text: 'incorporated ' + firm.incorporation_date + ', ' + toString(toInteger(round(age))) + ' years before ' + coalesce(first_watched, day)}]
            WHEN age >= 10 THEN [{name: 'established', weight: -1.0, text: 'incorporated ' + firm.incorporation_date + ', ' + toString(toInteger(round(age))) + ' years before ' + coalesce(first_watched, day)}]
            ELSE [] END
     + CASE WHEN firm.employees IS NULL THEN []
            WHEN firm.employees <= 10 THEN [{name: 'tiny', weight: 1.0, text: toString(firm.employees) + ' employees'}]
            WHEN firm.employees >= 250 THEN [{name: 'large', weight: -2.0, text: toString(firm.employees) + ' employees'}]
            WHEN firm.employees >= 50 THEN [{name: 'mid_size', weight: -1.0, text: toString(firm.employees) + ' employees'}]
            ELSE [] END AS signals
// The network: officers, owners, their spouses, ownership, addresses.
CALL (firm, day) {
  OPTIONAL MATCH (firm)<-[r:OWNS|OFFICER_OF]-(other)
  WHERE (r.start_date IS NULL OR r.start_date <= day) AND (r.end_date IS NULL OR r.end_date > day)
  WITH firm, day, other,
       collect(type(r)) AS rels
  WITH firm, day, other,
       'OFFICER_OF' IN rels AS officer, 'OWNS' IN rels AS owner
  // A nominee-like officer: a person who is a current officer of $nominee_min_firms firms or more.
  WITH firm, day, other, officer, owner,
       CASE WHEN officer AND other:Person
            THEN size(reduce(fs = [], f IN [(other)-[r2:OFFICER_OF]->(f)
                                            WHERE (r2.start_date IS NULL OR r2.start_date <= day) AND (r2.end_date IS NULL OR r2.end_date > day) | f]
                             | CASE WHEN f IN fs THEN fs ELSE fs + [f] END))
            ELSE 0 END AS officer_firms
  RETURN
    collect(CASE WHEN officer AND officer_firms >= $nominee_min_firms
                 THEN {name: 'nominee_officer', weight: 2.0,
                       text: 'officer ' + other.name + ' is an officer of ' + toString(officer_firms) + ' firms (nominee-like)'} END) AS nominee_signals,
    reduce(acc = [], xs IN collect(CASE WHEN other IS NULL THEN [] ELSE
        CASE WHEN other:Person AND other.flagged THEN [other] ELSE [] END
        + CASE WHEN other:Person THEN [(other)-[fam:FAMILY]-(sp) WHERE fam.relation = 'spouse' AND sp.flagged | sp] ELSE [] END
      END) | acc + [x IN xs WHERE NOT x IN acc]) AS flagged_people,
    reduce(acc = [], xs IN collect(CASE WHEN other IS NULL OR COUNT { MATCH (other)-->(x) RETURN DISTINCT x } > 200 THEN [] ELSE
        [(other)-[l2:OWNS|OFFICER_OF]->(firm2) WHERE firm2 <> firm AND (firm2:Company AND firm2.flagged AND coalesce(firm2.registered, true))
           AND (l2:OWNS OR NOT EXISTS { (other)-[:OWNS]->(firm2) })
           AND (l2.start_date IS NULL OR l2.start_date <= day) AND (l2.end_date IS NULL OR l2.end_date > day) | firm2]
      END) | acc + [x IN xs WHERE NOT x IN acc]) AS tied_flagged,
    [x IN collect(CASE WHEN owner AND (other:Company AND other.flagged AND coalesce(other.registered, true)) THEN other END) WHERE x IS NOT NULL] AS owned_by_flagged
}
WITH firm, day, signals, nominee_signals, flagged_people, tied_flagged,
     owned_by_flagged
     + [(firm)-[o:OWNS]->(owned) WHERE (owned:Company AND owned.flagged AND coalesce(owned.registered, true)) AND NOT owned IN owned_by_flagged
          AND (o.start_date IS NULL OR o.start_date <= day) AND (o.end_date IS NULL OR o.end_date > day) | owned] AS ownership_flagged
WITH firm,
     signals + nominee_signals
     + CASE WHEN size(tied_flagged) > 0 THEN [{name: 'owner_links_flagged',
              weight: 1.0 * CASE WHEN size(tied_flagged) > 3 THEN 3 ELSE size(tied_flagged) END,
              text: 'its owners or officers also own or run ' + toString(size(tied_flagged)) + ' flagged firm(s)'}] ELSE [] END
     + CASE WHEN size(ownership_flagged) > 0 THEN [{name: 'ownership_flagged',
              weight: 1.0 * CASE WHEN size(ownership_flagged) > 2 THEN 2 ELSE size(ownership_flagged) END,
              text: 'owns or is owned by ' + toString(size(ownership_flagged)) + ' flagged firm(s)'}] ELSE [] END
     + CASE WHEN size(flagged_people) > 0 THEN [{name: 'flagged_person',
              weight: 1.0 * CASE WHEN size(flagged_people) > 2 THEN 2 ELSE size(flagged_people) END,
              text: toString(size(flagged_people)) + ' flagged person(s) among its owners, officers or their spouses'}] ELSE [] END
     + [(firm)-[:HAS_ADDRESS]->(a) WHERE ($max_degree > 0 AND COUNT { MATCH (a)<--(h) RETURN DISTINCT h } > $max_degree)
        | {name: 'mass_address', weight: 1.5, text: 'registered at ' + coalesce(a.text, a.name) + ', a mass-registration office?'}]
     + reduce(acc = [], a IN [(firm)-[:HAS_ADDRESS]->(a) WHERE NOT ($max_degree > 0 AND COUNT { MATCH (a)<--(h) RETURN DISTINCT h } > $max_degree) | a] |
          acc + CASE WHEN size([(a)<-[:HAS_ADDRESS]-(h) WHERE h <> firm AND (h:Company AND h.flagged AND coalesce(h.registered, true)) | h]) = 0 THEN [] ELSE
            [{name: 'shared_address_flagged',
              weight: 1.0 * CASE WHEN size([(a)<-[:HAS_ADDRESS]-(h) WHERE h <> firm AND (h:Company AND h.flagged AND coalesce(h.registered, true)) | h]) > 3 THEN 3
                                 ELSE size([(a)<-[:HAS_ADDRESS]-(h) WHERE h <> firm AND (h:Company AND h.flagged AND coalesce(h.registered, true)) | h]) END,
              text: 'shares its address ' + coalesce(a.text, a.name) + ' with '
                    + toString(size([(a)<-[:HAS_ADDRESS]-(h) WHERE h <> firm AND (h:Company AND h.flagged AND coalesce(h.registered, true)) | h])) + ' flagged firm(s)'}] END) AS signals
// Legitimacy alone is no reason to list a firm.
WHERE any(s IN signals WHERE s.weight > 0 AND NOT s.name IN ['very_young', 'young', 'tiny'])
UNWIND signals AS s
WITH firm, s
ORDER BY abs(s.weight) DESC, s.name, s.text
WITH firm, collect(s) AS signals
WITH firm, signals, round(reduce(t = 0.0, s IN signals | t + s.weight), 3) AS score
ORDER BY score DESC, firm.name, firm.id
WITH collect({firm: firm, signals: signals, score: score}) AS ranked
UNWIND (CASE WHEN $top > 0 THEN ranked[..$top] ELSE ranked END) AS row
WITH row.firm AS firm, row.score AS score, row.signals AS signals
RETURN firm {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS entity, score,
       [s IN signals | CASE WHEN s.weight > 0 THEN '+' ELSE '' END + toString(s.weight) + ' ' + s.text] AS reasons,
       signals
ORDER BY score DESC, entity.name, entity.id
