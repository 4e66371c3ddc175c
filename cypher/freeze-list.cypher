// name: freeze-list
// description: The entities a freeze order must name, why each is there, and every account they
//   hold. It starts from the firms (or persons) in around, or from every flagged registry firm;
//   adds every owner whose effective share in one of those firms (as ubo computes it) is at
//   least min_share, every firm on those owners' ownership chains, the spouses of the persons so
//   added (unless spouses is false) and, with officers, the current officers of every firm on
//   the list. Owners whose share is unknown are left out (a freeze order needs a known stake).
// param: around ref(Company,Person)[] = []  Start from these firms or persons (empty: every flagged firm).
// param: min_share float(0..100) = 25  Smallest effective share (0-100) that puts an owner on the list.
// param: spouses boolean = true  Add the spouses of the persons on the list.
// param: officers boolean = false  Add the current officers of every firm on the list.
// param: as_of date(day) = null  The day ownership and offices must hold on (null: today).
// returns: entity, role, reasons, accounts
// mode: read
OPTIONAL MATCH (given:Company|Person)
WHERE given.id IN $around
WITH collect(given) AS given
OPTIONAL MATCH (f:Company)
WHERE size(given) = 0 AND f.flagged AND coalesce(f.registered, true)
WITH given, collect(f) AS flagged_firms
WITH coalesce($as_of, toString(date())) AS day, CASE WHEN size(given) > 0 THEN given ELSE flagged_firms END AS seeds
CALL (seeds, day) {
  UNWIND seeds AS firm
  // From the firm up (see ubo.cypher): p runs firm ... owner, reversed where the order shows.
  OPTIONAL MATCH p = (firm)<-[:OWNS*1..20]-(o)
  WHERE firm:Company
    AND all(r IN relationships(p) WHERE (r.start_date IS NULL OR r.start_date <= day) AND (r.end_date IS NULL OR r.end_date > day))
    AND all(i IN range(0, length(p) - 1) WHERE NOT nodes(p)[i] IN nodes(p)[i + 1..])
  WITH firm, o, p,
       all(r IN relationships(p) WHERE r.share_pct IS NOT NULL) AS known,
       reduce(x = 1.0, r IN relationships(p) | x * (coalesce(r.share_pct, 100.0) / 100.0)) AS product
  WITH firm, o, collect(reverse(nodes(p))) AS chains,
       sum(CASE WHEN known THEN product ELSE 0.0 END) AS known_sum,
       sum(CASE WHEN known THEN 1 ELSE 0 END) AS known_chains
  WITH firm, o, chains, round(known_sum * 100.0, 6) AS pct, known_chains
  RETURN collect(CASE WHEN o IS NOT NULL AND known_chains > 0 AND pct >= $min_share
                      THEN {firm: firm, owner: o, pct: pct, chains: chains} END) AS stakes
}
WITH day, seeds, stakes,
     [s IN seeds | {node: s, rank: 0, role: 'named',
                    reason: CASE WHEN size(coalesce(s.flags, [])) > 0
                                 THEN 'flagged (' + reduce(t = '', l IN s.flags | t + CASE WHEN t = '' THEN '' ELSE ', ' END + l) + ')'
                                 ELSE 'named in the request' END}]
     + [s IN stakes | {node: s.owner, rank: 2, role: 'owner', reason: 'owns ' + toString(round(s.pct, 2)) + '% of ' + s.firm.name}]
     + reduce(acc = [], s IN stakes | acc + reduce(links = [], c IN s.chains |
              links + [n IN c[1..-1] | {node: n, rank: 1, role: 'chain',
                                        reason: 'on the ownership chain of ' + s.owner.name + ' to ' + s.firm.name}])) AS entries
WITH day, entries,
     [e IN entries WHERE e.rank IN [0, 2] AND e.node:Person | e.node] AS persons
WITH day, entries
     + CASE WHEN $spouses THEN reduce(acc = [], p IN persons | acc +
              [(p)-[r:FAMILY]-(sp) WHERE r.relation = 'spouse' AND sp <> p
               | {node: sp, rank: 3, role: 'spouse', reason: 'spouse of ' + p.name}]) ELSE [] END AS entries
WITH day, entries
     + CASE WHEN $officers THEN reduce(acc = [], c IN [e IN entries WHERE e.node:Company | e.node] | acc +
              [(c)<-[r:OFFICER_OF]-(o) WHERE (r.start_date IS NULL OR r.start_date <= day) AND (r.end_date IS NULL OR r.end_date > day)
               | {node: o, rank: 4, role: 'officer', reason: coalesce(r.role, 'officer') + ' of ' + c.name}]) ELSE [] END AS entries
UNWIND entries AS e
WITH e.node AS n, min(e.rank) AS rank, collect(DISTINCT e.reason) AS reasons
OPTIONAL MATCH (n)-[:HOLDS]->(a:Account)
WITH n, rank, reasons, a
ORDER BY coalesce(a.bundle_id, ''), coalesce(a.number, ''), a.id
WITH n, rank, reasons, collect(a {.id, .name, .kind, .bundle_id, .bank, .number, .status, .frozen_date, .sources}) AS accounts
RETURN n {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS entity,
       ['named', 'chain', 'owner', 'spouse', 'officer'][rank] AS role,
       reasons, accounts
ORDER BY rank, n.kind <> 'Company', n.name, n.id
