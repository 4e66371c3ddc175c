// name: shared-owners
// description: Persons or firms that currently own two or more firms (any share), with the firms
//   and the ownership links; with officers, also officers who serve two or more firms (one row
//   per owner and relationship). An owner of more than max_degree firms is a hub: listed last,
//   naming only its flagged firms (count says how many it holds).
// param: flagged boolean = false  Only owners with at least one flagged firm among theirs.
// param: officers boolean = false  Also officers of two or more firms.
// param: as_of date(day) = null  The day ownership and offices must hold on (null: today).
// param: max_degree integer(0..) = 12  More firms than this make the owner a hub (0: no hubs).
// returns: owner, rel, count, companies, flagged, hub, links
// mode: read
WITH coalesce($as_of, toString(date())) AS day
MATCH (c:Company)<-[r:OWNS|OFFICER_OF]-(o)
// A firm's stake in itself (treasury shares) is no other firm held.
WHERE (o:Person OR o:Company) AND o <> c
  AND (type(r) = 'OWNS' OR $officers)
  AND (r.start_date IS NULL OR r.start_date <= day)
  AND (r.end_date IS NULL OR r.end_date > day)
WITH o, type(r) AS rel, c, r
ORDER BY c.name, c.id
WITH o, rel,
     collect(c {.id, .name, .kind, .tax_id, .flagged, .bundle_id}) AS companies,
     collect(r {rel: type(r), source: o.id, target: c.id, .share_pct, .role, .start_date, .end_date, .sources}) AS links
WHERE size(companies) >= 2
WITH o, rel, companies, links, [x IN companies WHERE x.flagged] AS flagged
WHERE NOT $flagged OR size(flagged) > 0
WITH o, rel, companies, links, flagged, size(companies) AS count,
     ($max_degree > 0 AND size(companies) > $max_degree) AS hub
WITH o, rel, count, flagged, hub,
     CASE WHEN hub THEN flagged ELSE companies END AS companies,
     CASE WHEN hub THEN [l IN links WHERE l.target IN [x IN flagged | x.id]] ELSE links END AS links
RETURN o {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS owner, rel, count, companies, flagged, hub, links
ORDER BY hub, count DESC, size(flagged) DESC, rel <> 'OWNS', owner.name, owner.id
