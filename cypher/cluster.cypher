// name: cluster
// description: Everything within hops links of the starting entities (default: every flagged
//   registry firm), links read in both directions: one row per member with its distance from
//   the nearest start and the links it has to other members (with sources), then the hubs the
//   walk stopped at (hub = true). A hub, a node linked to more than max_degree firms and persons
//   (a formation agent's office, a nominee), is never walked through unless it is a start.
//   Splitting the members into connected groups is graphinv query cluster's job.
// param: around ref[] = []  Start from these entities (ids, bundle ids, tax ids or names; empty: every flagged firm).
// param: hops integer(0..3) = 2  Links to walk from the start (0 to 3).
// param: max_degree integer(0..) = 12  Nodes linked to more firms and persons than this are hubs (0: no hubs).
// returns: entity, hops, seed, hub, degree, links
// mode: read
OPTIONAL MATCH (given:Company|Person|Address|Account|Shipment)
WHERE given.id IN $around
WITH collect(given) AS given
OPTIONAL MATCH (f:Company)
WHERE size(given) = 0 AND f.flagged AND coalesce(f.registered, true)
WITH given, collect(f) AS flagged_firms
WITH CASE WHEN size(given) > 0 THEN given ELSE flagged_firms END AS seeds
UNWIND seeds AS s
MATCH p = (s)-[:OWNS|OFFICER_OF|FAMILY|HAS_ADDRESS|HOLDS|IMPORTED|EXPORTED*0..3]-(m)
WHERE length(p) <= $hops
  AND all(n IN nodes(p)[1..] WHERE n IN seeds OR $max_degree <= 0 OR n.party_degree <= $max_degree)
WITH seeds, m, min(length(p)) AS hops
WITH seeds, collect({node: m, hops: hops}) AS found
WITH seeds, found, [x IN found | x.node.id] AS ids,
     [x IN found WHERE x.hops < $hops | x.node] AS inner
WITH seeds, found, ids,
     reduce(hs = [], n IN inner |
            hs + [(n)-[r]-(h) WHERE type(r) <> 'POSSIBLY_SAME_AS' AND $max_degree > 0 AND NOT h IN seeds
                              AND h.party_degree > $max_degree AND NOT h IN hs | h]) AS hubs
UNWIND [x IN found | {node: x.node, hops: x.hops, hub: false}] + [h IN hubs | {node: h, hops: null, hub: true}] AS row
WITH DISTINCT row.node AS m, row.hops AS hops, row.hub AS hub, seeds, ids
RETURN m {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS entity,
       hops,
       m IN seeds AS seed,
       hub,
       m.party_degree AS degree,
       CASE WHEN hub THEN [] ELSE
         [(m)-[r]-(o) WHERE o.id IN ids AND type(r) <> 'POSSIBLY_SAME_AS'
          | r {rel: type(r), source: startNode(r).id, target: endNode(r).id, .share_pct, .role, .relation, .sources}]
       END AS links
ORDER BY hub, hops, entity.kind, entity.name, entity.id
