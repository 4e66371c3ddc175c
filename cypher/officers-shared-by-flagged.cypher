// name: officers-shared-by-flagged
// description: Persons or firms who are current officers of several flagged firms (a nominee
//   director, a shared administrator), with the flagged firms, how many firms they serve in all,
//   and the OFFICER_OF links with their sources.
// param: min_firms integer(1..) = 2  Least number of flagged firms served.
// param: as_of date(day) = null  The day offices must hold on (null: today).
// returns: officer, flagged_firms, count, all_firms, links
// mode: read
WITH coalesce($as_of, toString(date())) AS day
MATCH (f:Company)<-[r:OFFICER_OF]-(p)
WHERE f.flagged
  AND (r.start_date IS NULL OR r.start_date <= day) AND (r.end_date IS NULL OR r.end_date > day)
WITH day, p, f, r
ORDER BY f.name, f.id
WITH day, p,
     collect(f {.id, .name, .kind, .tax_id, .flagged, .bundle_id}) AS flagged_firms,
     collect(r {rel: type(r), source: p.id, target: f.id, .role, .start_date, .end_date, .sources}) AS links
WHERE size(flagged_firms) >= $min_firms
RETURN p {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS officer,
       flagged_firms,
       size(flagged_firms) AS count,
       COUNT { MATCH (p)-[a:OFFICER_OF]->(c:Company)
               WHERE (a.start_date IS NULL OR a.start_date <= day) AND (a.end_date IS NULL OR a.end_date > day)
               RETURN DISTINCT c } AS all_firms,
       links
ORDER BY count DESC, all_firms DESC, officer.name, officer.id
