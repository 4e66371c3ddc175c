// name: path
// description: The shortest connections between two firms or persons within max_hops links (read
//   in both directions), each with its entities in order and every link between each two, with
//   sources; total says how many shortest connections exist, the first limit are returned. A
//   connection never passes through a hub (a node linked to more than max_degree firms and
//   persons, counting a shipment's parties as linked); uncertain matches are never walked.
// param: source ref(Company,Person)  One end (an id, a bundle id, a tax id or a name).
// param: target ref(Company,Person)  The other end.
// param: max_hops integer(1..6) = 6  Longest connection to look for (at most 6).
// param: max_degree integer(0..) = 12  Nodes linked to more firms and persons than this are not walked through (0: no hubs).
// param: limit integer(1..) = 10  Most connections to return.
// returns: length, entities, links, total
// mode: read
MATCH (a:Company|Person {id: $source}), (b:Company|Person {id: $target})
WHERE a <> b
CALL (a, b) {
  // No hubs to avoid: a shortest-path search.
  MATCH p = allShortestPaths((a)-[:OWNS|OFFICER_OF|FAMILY|HAS_ADDRESS|HOLDS|IMPORTED|EXPORTED*..6]-(b))
  WHERE $max_degree <= 0 AND length(p) <= $max_hops
  RETURN length(p) AS hops, nodes(p) AS ns
  UNION
  // Hubs avoided: a walk that never enters one. Not allShortestPaths with the same WHERE:
  // ArcadeDB applies that WHERE after the search, and so misses longer ways around a hub.
  MATCH p = (a)-[:OWNS|OFFICER_OF|FAMILY|HAS_ADDRESS|HOLDS|IMPORTED|EXPORTED*1..6]-(b)
  WHERE $max_degree > 0 AND length(p) <= $max_hops
    AND all(n IN nodes(p)[1..-1] WHERE n.party_degree <= $max_degree)
  RETURN length(p) AS hops, nodes(p) AS ns
}
WITH hops, collect(DISTINCT ns) AS found
ORDER BY hops
LIMIT 1
UNWIND found AS ns
WITH ns, [n IN ns | n.id] AS ids
ORDER BY ids
WITH collect(ns) AS found
WITH found[..$limit] AS shown, size(found) AS total
UNWIND range(0, size(shown) - 1) AS k
WITH shown[k] AS ns, k, total
UNWIND range(0, size(ns) - 2) AS i
WITH ns, k, total, i, ns[i] AS x, ns[i + 1] AS y
MATCH (x)-[r]-(y)
WHERE type(r) <> 'POSSIBLY_SAME_AS'
WITH ns, k, total, i, r
ORDER BY k, i, type(r), startNode(r).id, endNode(r).id
WITH ns, k, total, collect(r {rel: type(r), source: startNode(r).id, target: endNode(r).id, .share_pct, .role, .relation, .sources}) AS links
RETURN size(ns) - 1 AS length, [n IN ns | n {.id, .name, .kind, .tax_id, .flagged, .bundle_id}] AS entities, links, total
ORDER BY k
UNION
MATCH (a:Company|Person {id: $source})
WHERE $source = $target
RETURN 0 AS length, [a {.id, .name, .kind, .tax_id, .flagged, .bundle_id}] AS entities, [] AS links, 1 AS total
