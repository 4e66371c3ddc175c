// name: hubs
// description: Addresses, officers and owners linked to many firms: formation agents' virtual
//   offices, nominee directors, holding vehicles. Each with how it links (address, officer or
//   owner), how many firms, how many of them flagged, and the first 20 firms by name.
// param: min_firms integer(1..) = 10  Least number of firms linked.
// returns: hub, as, firms, flagged, sample, degree
// mode: read
MATCH (c:Company)-[:HAS_ADDRESS]->(h:Address)
WITH h, 'address' AS as, c
ORDER BY c.name, c.id
WITH h, as, collect(c) AS cs
WHERE size(cs) >= $min_firms
RETURN h {.id, .name, .kind, .tax_id, .flagged, .bundle_id, .text} AS hub, as, size(cs) AS firms,
       size([c IN cs WHERE c.flagged]) AS flagged,
       [c IN cs[..20] | c {.id, .name, .kind, .tax_id, .flagged, .bundle_id}] AS sample, h.party_degree AS degree
UNION
MATCH (c:Company)<-[r:OFFICER_OF|OWNS]-(h)
WHERE r.end_date IS NULL
WITH h, CASE type(r) WHEN 'OWNS' THEN 'owner' ELSE 'officer' END AS as, c
ORDER BY c.name, c.id
WITH h, as, collect(DISTINCT c) AS cs
WHERE size(cs) >= $min_firms
RETURN h {.id, .name, .kind, .tax_id, .flagged, .bundle_id, .text} AS hub, as, size(cs) AS firms,
       size([c IN cs WHERE c.flagged]) AS flagged,
       [c IN cs[..20] | c {.id, .name, .kind, .tax_id, .flagged, .bundle_id}] AS sample, h.party_degree AS degree
ORDER BY firms DESC, flagged DESC, hub.name, hub.id
