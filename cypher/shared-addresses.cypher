// name: shared-addresses
// description: Addresses that two or more firms or persons give, largest first, with who gives
//   each and the source rows. An address given by more than max_degree of them (a formation
//   agent's virtual office) is a hub: listed after the leads, with hub = true, naming only the
//   flagged ones (count says how many give it).
// param: flagged boolean = false  Only addresses where at least one of them is flagged.
// param: max_degree integer(0..) = 12  More firms and persons than this make the address a hub (0: no hubs).
// returns: address, address_ids, count, entities, flagged, hub, links
// mode: read
MATCH (a:Address)<-[r:HAS_ADDRESS]-(e)
WHERE e:Company OR e:Person
WITH a, e, r
ORDER BY CASE WHEN e:Company THEN 0 ELSE 1 END, e.name, e.id
WITH a,
     collect(e {.id, .name, .kind, .tax_id, .flagged, .bundle_id}) AS entities,
     collect({rel: type(r), source: e.id, target: a.id, sources: r.sources}) AS links
WHERE size(entities) >= 2
WITH a, entities, links, [x IN entities WHERE x.flagged] AS flagged
WHERE NOT $flagged OR size(flagged) > 0
WITH a, entities, links, flagged, size(entities) AS count,
     ($max_degree > 0 AND size(entities) > $max_degree) AS hub
WITH a, count, flagged, hub,
     CASE WHEN hub THEN flagged ELSE entities END AS entities,
     CASE WHEN hub THEN [l IN links WHERE l.source IN [x IN flagged | x.id]] ELSE links END AS links
RETURN coalesce(a.text, a.name, a.id) AS address, [a.id] AS address_ids, count, entities, flagged, hub, links
ORDER BY hub, count DESC, size(flagged) DESC, address, a.id
