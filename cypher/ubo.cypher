// name: ubo
// description: Who really owns a firm: every owner's effective share (0-100), the sum over its
//   ownership chains (no firm visited twice, so cycles neither loop nor inflate) of the product
//   of the shares along each, with the chains and links. effective_pct counts chains whose
//   shares are all known (null if none is); max_pct adds what chains through an unknown share
//   could at most carry. Ultimate owners (persons, and firms with no current owner but
//   themselves: treasury shares are no outside owner; a firm owned by the firm asked about is
//   not ultimate) unless intermediate. Chains up to 20 links (graphinv.query.ubo follows 40). A
//   link stated for several periods is read with its current values over its whole span
//   (graphinv.query.ubo reads the period in force on as_of).
// param: firm ref(Company)  The firm (an id, a bundle id, a tax id or a name).
// param: threshold float(0..100) = 0  Smallest effective share to list, 0-100 (an unknown share is kept while it could reach it).
// param: as_of date(day) = null  The day ownership must hold on (null: today).
// param: intermediate boolean = false  Also list the firms on the chains.
// returns: owner, effective_pct, max_pct, share_known, direct_pct, ultimate, paths, links
// mode: read
MATCH (f:Company {id: $firm})
WITH f, coalesce($as_of, toString(date())) AS day
// Written from the firm: ArcadeDB starts a variable-length pattern at its first node, and from
// (o) it tried every node of the graph (19 s at 100k firms; from (f), 0.07 s). So p runs from
// the firm up to the owner, and the chains are reversed where their order shows.
MATCH p = (f)<-[:OWNS*1..20]-(o)
WHERE all(r IN relationships(p) WHERE (r.start_date IS NULL OR r.start_date <= day) AND (r.end_date IS NULL OR r.end_date > day))
  AND all(i IN range(0, length(p) - 1) WHERE NOT nodes(p)[i] IN nodes(p)[i + 1..])
WITH f, day, o, p,
     all(r IN relationships(p) WHERE r.share_pct IS NOT NULL) AS known,
     reduce(x = 1.0, r IN relationships(p) | x * (coalesce(r.share_pct, 100.0) / 100.0)) AS product
WITH f, day, o,
     sum(CASE WHEN known THEN product ELSE 0.0 END) AS known_sum,
     sum(CASE WHEN known THEN 0.0 ELSE product END) AS unknown_sum,
     sum(CASE WHEN known THEN 1 ELSE 0 END) AS known_chains,
     sum(CASE WHEN known THEN 0 ELSE 1 END) AS unknown_chains,
     collect(CASE WHEN length(p) = 1 THEN relationships(p)[0].share_pct END) AS direct,
     collect([n IN reverse(nodes(p)) | n.id]) AS paths,
     collect([r IN reverse(relationships(p)) | r {rel: type(r), source: startNode(r).id, target: endNode(r).id, .share_pct, .start_date, .end_date, .sources}]) AS chain_links
WITH f, o, paths, chain_links,
     CASE WHEN known_chains > 0 THEN round(known_sum * 100.0, 6) END AS effective_pct,
     CASE WHEN unknown_chains > 0
          THEN CASE WHEN round((known_sum + unknown_sum) * 100.0, 6) > 100.0 THEN 100.0 ELSE round((known_sum + unknown_sum) * 100.0, 6) END
          WHEN known_chains > 0 THEN round(known_sum * 100.0, 6) END AS max_pct,
     unknown_chains = 0 AS share_known,
     CASE WHEN size(direct) > 0 THEN round(reduce(s = 0.0, d IN direct | s + d), 6) END AS direct_pct,
     CASE WHEN o:Company
          THEN NOT EXISTS { MATCH (o)<-[u:OWNS]-(up) WHERE up <> o AND (u.start_date IS NULL OR u.start_date <= day) AND (u.end_date IS NULL OR u.end_date > day) }
          ELSE true END AS ultimate
WHERE ($intermediate OR ultimate)
  AND (coalesce(effective_pct, 0.0) >= $threshold OR (NOT share_known AND coalesce(max_pct, 0.0) >= $threshold))
RETURN o {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS owner, effective_pct, max_pct, share_known, direct_pct, ultimate,
       paths,
       reduce(acc = [], l IN reduce(all = [], c IN chain_links | all + c) | CASE WHEN l IN acc THEN acc ELSE acc + [l] END) AS links
ORDER BY coalesce(effective_pct, 0.0) DESC, coalesce(max_pct, 0.0) DESC, owner.name, owner.id
