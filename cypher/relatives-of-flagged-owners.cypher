// name: relatives-of-flagged-owners
// description: Spouses and other relatives of the persons who currently own flagged firms: the
//   people a freeze request or a PEP check should look at next, each with the owner, the
//   relation (what the relative is to the owner), the flagged firms owned and the FAMILY and
//   OWNS links with their sources.
// param: relations string[] = ["spouse", "parent", "child", "sibling", "other"]  Which FAMILY relations count.
// param: as_of date(day) = null  The day ownership must hold on (null: today).
// returns: relative, relation, owner, firms, links
// mode: read
WITH coalesce($as_of, toString(date())) AS day
MATCH (f:Company)<-[o:OWNS]-(p:Person)
WHERE f.flagged
  AND (o.start_date IS NULL OR o.start_date <= day) AND (o.end_date IS NULL OR o.end_date > day)
MATCH (p)-[fam:FAMILY]-(rel:Person)
WHERE rel <> p
// A FAMILY link says what its target is to its source: read from the owner's side, a 'child'
// link pointing at the owner makes the relative the owner's parent.
WITH f, o, p, fam, rel,
     CASE WHEN startNode(fam) = p THEN fam.relation
          WHEN fam.relation = 'child' THEN 'parent'
          WHEN fam.relation = 'parent' THEN 'child'
          ELSE fam.relation END AS relation
WHERE relation IN $relations
WITH rel, relation, fam, p, f, o
ORDER BY f.name, f.id
WITH rel, relation, fam, p,
     collect(f {.id, .name, .kind, .tax_id, .flagged, .bundle_id}) AS firms,
     collect(o {rel: type(o), source: p.id, target: f.id, .share_pct, .sources}) AS owns
RETURN rel {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS relative,
       relation,
       p {.id, .name, .kind, .tax_id, .flagged, .bundle_id} AS owner,
       firms,
       [fam {rel: type(fam), source: startNode(fam).id, target: endNode(fam).id, .relation, .sources}] + owns AS links
ORDER BY relative.name, relative.id, owner.name, owner.id
