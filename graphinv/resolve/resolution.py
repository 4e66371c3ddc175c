"""Resolving a case: run the matcher, apply the analyst's judgements, record every decision."""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from graphinv.exc import GraphinvError, RefError
from graphinv.resolve.match import Candidate, Match, match
from graphinv.resolve.normalize import normalize_address, normalize_country, tax_id_key
from graphinv.store import CaseFile, Decision, Judgement
from graphinv.store.casefile import record_rank, row_key
from graphinv.store.refs import RefIndex

__all__ = ["ResolveReport", "resolve", "read_judgements", "JudgementError"]


class JudgementError(GraphinvError):
    """A judgements file that cannot be used as written."""


class ResolveReport(BaseModel):
    """What one resolution run decided."""

    case: str
    merged: dict[str, int]
    """Accepted merges by rule (a merge joins two records)."""
    possible: int
    kept_apart: int
    """Matches refused by a judgement or because they would join different registry tax ids (read
    as the matcher reads them, placeholders such as "-" ignored)."""
    judgements: int
    stale_judgements: list[str]
    """Stored judgements whose REFs no longer name one entity (kept, not applied)."""
    entities_before: int
    entities_after: int
    changed: bool


def read_judgements(path: str | os.PathLike[str]) -> list[Judgement]:
    """Read a judgements file: CSV or YAML rows of ``left``, ``right``, ``verdict``, ``note``.

    ``verdict`` is ``same`` or ``not-same``; ``left`` and ``right`` are REFs (id, bundle id, tax
    id or name). Each bad row is an error naming the file and line.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise JudgementError(f"Cannot read judgements {str(file)!r}: {exc.strerror}") from exc
    rows: list[tuple[int, dict[str, Any]]]
    if file.suffix.lower() in (".yml", ".yaml"):
        try:
            loaded = yaml.safe_load(text) or []
        except yaml.YAMLError as exc:
            raise JudgementError(f"{file.name}: not valid YAML ({exc})") from exc
        if not isinstance(loaded, list):
            raise JudgementError(f"{file.name}: expected a list of {{left, right, verdict, note}} entries")
        rows = [(i + 1, r if isinstance(r, dict) else {}) for i, r in enumerate(loaded)]
        where = "entry"
    else:
        reader = csv.DictReader(text.splitlines())
        rows = [(i + 2, r) for i, r in enumerate(reader)]
        where = "line"
    out: list[Judgement] = []
    for number, row in rows:
        left, right = str(row.get("left") or "").strip(), str(row.get("right") or "").strip()
        verdict = str(row.get("verdict") or "").strip().lower().replace("_", "-").replace(" ", "-")
        if not left or not right:
            raise JudgementError(f"{file.name}:{where} {number}: 'left' and 'right' are required (REFs of two entities)")
        if verdict not in ("same", "not-same"):
            raise JudgementError(f"{file.name}:{where} {number}: verdict {verdict!r} must be 'same' or 'not-same'")
        note = str(row.get("note") or "").strip() or None
        out.append(Judgement(left, right, verdict == "same", note, f"{file.name}:{number}"))
    return out


class _Components:
    """Union-find that refuses unions an analyst, the tax ids or a family link forbid."""

    def __init__(
        self, tax: dict[str, str], forbidden: set[tuple[str, str]], relatives: dict[str, set[str]] | None = None
    ) -> None:
        self.parent: dict[str, str] = {}
        self.joined: set[str] = set()
        self.tax: dict[str, set[str]] = {i: {t} for i, t in tax.items()}
        self.forbidden = forbidden
        #: Records a FAMILY link joins: two people by the sources' own word, never one.
        self.relatives = relatives or {}
        self.members: dict[str, list[str]] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str, *, judged: bool = False) -> str | None:
        """Join a and b; or say why not."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        for x, y in self.forbidden:
            if {self.find(x), self.find(y)} == {ra, rb}:
                return "an analyst judged them not the same"
        ta, tb = self.tax.get(ra, set()), self.tax.get(rb, set())
        if ta and tb and ta != tb and not judged:
            return f"would join different tax ids ({', '.join(sorted(ta | tb))})"
        ma, mb = self.members.get(ra, [ra]), self.members.get(rb, [rb])
        (small, _), (big, big_root) = sorted(((ma, ra), (mb, rb)), key=lambda group: len(group[0]))
        if not judged and any(self.find(y) == big_root for x in small for y in self.relatives.get(x, ())):
            return "a family link between them says they are two people"
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.joined.update((a, b))
        self.tax[ra] = ta | tb
        self.tax.pop(rb, None)
        big.extend(small)  # the smaller list into the larger: each id moves O(log n) times
        self.members[ra] = big
        self.members.pop(rb, None)
        return None


def _candidates(nodes: list[dict[str, Any]], links: list[dict[str, Any]]) -> list[Candidate]:
    address_of: dict[str, str] = {}
    texts = {n["id"]: n.get("text") for n in nodes if n["kind"] == "Address"}
    for link in links:
        if link["rel"] == "HAS_ADDRESS" and link["source"] not in address_of:
            address_of[link["source"]] = texts.get(link["target"]) or ""
    return [
        Candidate(
            id=n["id"],
            kind=n["kind"],
            name=str(n.get("name", "")),
            tax_id=n.get("tax_id"),
            registration_number=n.get("registration_number"),
            country=n.get("jurisdiction") or n.get("nationality"),
            address=address_of.get(n["id"]) or None,
            date=n.get("incorporation_date") or n.get("birth_date"),
            registered=n.get("registered", True) is not False,
        )
        for n in nodes
        if n["kind"] in ("Company", "Person")
    ]


def _tax_id(node: dict[str, Any]) -> str | None:
    """The node's tax id as the matcher reads it (an EU VAT number with its country's prefix);
    None for none or a placeholder ("-", "N/A")."""
    country = normalize_country(node.get("jurisdiction") or node.get("nationality"))
    return tax_id_key(str(node.get("tax_id") or ""), country or None) or None


def _registry_tax_ids(nodes: list[dict[str, Any]]) -> dict[str, str]:
    """Registry firm or person id → its tax id; a customs clerk's tax id is no registry fact."""
    return {
        n["id"]: tax
        for n in nodes
        if n["kind"] in ("Company", "Person") and n.get("registered", True) is not False and (tax := _tax_id(n))
    }


def _anchored_parties(nodes: list[dict[str, Any]], tax: dict[str, str]) -> dict[str, Match]:
    """Customs parties whose tax id is one registry firm's, with the merge that joins them to it.

    A shipment ingested after the registry is linked to that firm by tax id and no party is
    stated (``Context.company_by_tax``); ingested before it, the clerk's spelling is a party.
    These parties are joined to their firm and kept out of the matcher, whose answer must not
    depend on the order the sources came in: a name typed against another firm's tax id must not
    make a third firm's spelling look ambiguous in one order and not in the other.
    """
    firms: dict[str, list[str]] = {}
    for n in nodes:
        if n["kind"] == "Company" and n["id"] in tax:
            firms.setdefault(tax[n["id"]], []).append(n["id"])
    out = {}
    for n in nodes:
        if n["kind"] == "Company" and n.get("registered", True) is False and (key := _tax_id(n)):
            found = firms.get(key, [])
            if len(found) == 1:
                out[n["id"]] = Match(a=found[0], b=n["id"], score=1.0, rule="same-tax-id", reason=f"same tax id {key}")
    return out


def _address_matches(nodes: list[dict[str, Any]]) -> list[Match]:
    by_key: dict[str, list[str]] = {}
    for n in nodes:
        if n["kind"] == "Address" and n.get("text"):
            by_key.setdefault(normalize_address(str(n["text"])).key, []).append(n["id"])
    out = []
    for key, ids in sorted(by_key.items()):
        ids.sort()
        for other in ids[1:]:
            out.append(Match(a=ids[0], b=other, score=1.0, rule="same-address-key", reason=f"both read as {key!r}"))
    return out


def _judged_pairs(
    judgements: Iterable[Judgement], index: RefIndex, *, strict: bool
) -> tuple[list[tuple[str, str, Judgement]], list[str]]:
    """Judgements with their REFs found; those whose REFs no longer name one entity, as text."""
    out, stale = [], []
    for j in judgements:
        ends = []
        for ref in (j.left_ref, j.right_ref):
            found = index.find(ref)
            if len(found) != 1:
                what = "no entity" if not found else f"{len(found)} entities ({', '.join(found[:5])})"
                message = f"judgement {j.origin}: {ref!r} names {what}; use the entity id"
                if strict:
                    raise RefError(message[0].upper() + message[1:])
                stale.append(message)
                break
            ends.append(found[0])
        else:
            out.append((ends[0], ends[1], j))
    return out, stale


def _decision(info: dict[str, dict[str, Any]], a: str, b: str, verdict: str, rule: str, score: float, reason: str) -> Decision:
    a, b = sorted((a, b))
    return Decision(a, b, verdict, rule, score, reason, str(info[a].get("name", "")), str(info[b].get("name", "")))


def _canonical(members: list[str], info: dict[str, dict[str, Any]]) -> str:
    # The registry's own record names the merged entity: registered first, bundle entities next
    # (the rank by which the case file folds the merged records' statements, canonical first);
    # among equals (an address's spellings), the one stated first: by dataset, file and line, so
    # the same whichever source came in first.
    def rank(i: str) -> tuple[bool, bool, tuple[str, str, int], str]:
        registry, bundled, _ = record_rank(i, [info[i]])
        return registry, bundled, min(map(row_key, info[i].get("sources") or ()), default=("", "", 0)), i

    return min(members, key=rank)


def resolve(case: str | os.PathLike[str], *, judgements: str | os.PathLike[str] | None = None) -> ResolveReport:
    """Resolve the case: deterministic and re-runnable; judgements override the matcher.

    A judgements file given here is stored in the case and applied on every later run too, so
    the analyst's rulings survive re-ingest and re-resolution.
    """
    new_judgements = read_judgements(judgements) if judgements is not None else []
    with CaseFile(case) as opened:
        nodes = opened.nodes(resolved=False)
        links = opened.links(resolved=False)
        info = {n["id"]: n for n in nodes}
        index = RefIndex(nodes)
        fresh, _ = _judged_pairs(new_judgements, index, strict=True)
        stored, stale = _judged_pairs(opened.judgements(), index, strict=False)
        judged = stored + fresh

        tax = _registry_tax_ids(nodes)
        anchored = _anchored_parties(nodes, tax)
        merges, possible = match(_candidates([n for n in nodes if n["id"] not in anchored], links))
        merges = merges + list(anchored.values()) + _address_matches(nodes)
        forbidden = {tuple(sorted((a, b))) for a, b, j in judged if not j.same}
        relatives: dict[str, set[str]] = {}
        for link in links:
            if link["rel"] == "FAMILY" and link["source"] != link["target"]:
                relatives.setdefault(link["source"], set()).add(link["target"])
                relatives.setdefault(link["target"], set()).add(link["source"])
        components = _Components(tax, forbidden, relatives)  # type: ignore[arg-type]
        decisions: list[Decision] = []
        merged: Counter[str] = Counter()
        kept_apart = 0
        for a, b, j in sorted(judged, key=lambda t: t[2].origin):
            if j.same:
                refused = components.union(a, b, judged=True)
                reason = f"judgement {j.origin}" + (f": {j.note}" if j.note else "")
                if refused is None:
                    decisions.append(_decision(info, a, b, "same", "judgement", 1.0, reason))
                    merged["judgement"] += 1
        for m in sorted(merges, key=lambda m: (-m.score, m.a, m.b)):
            refused = components.union(m.a, m.b)
            if refused is None:
                decisions.append(_decision(info, m.a, m.b, "same", m.rule, m.score, m.reason))
                merged[m.rule] += 1
            elif components.find(m.a) != components.find(m.b):
                kept_apart += 1
                decisions.append(_decision(info, m.a, m.b, "possible", m.rule, m.score, f"{m.reason}; kept apart: {refused}"))
        for m in possible:
            pair = tuple(sorted((m.a, m.b)))
            if pair in forbidden or components.find(m.a) == components.find(m.b):
                continue
            decisions.append(_decision(info, m.a, m.b, "possible", m.rule, m.score, m.reason))

        groups: dict[str, list[str]] = {}
        for node_id in sorted(components.joined):
            groups.setdefault(components.find(node_id), []).append(node_id)
        aliases: dict[str, str] = {}
        for members in groups.values():
            canonical = _canonical(members, info)
            aliases.update({m: canonical for m in members if m != canonical})

        with opened.writer() as writer:
            if new_judgements:
                writer.judge(new_judgements)
            writer.replace_resolution(decisions, aliases)
            changed = writer.changed
        return ResolveReport(
            case=str(case),
            merged=dict(sorted(merged.items())),
            possible=sum(1 for d in decisions if d.verdict == "possible"),
            kept_apart=kept_apart,
            judgements=len(judged),
            stale_judgements=stale,
            entities_before=len(nodes),
            entities_after=len(nodes) - len(aliases),
            changed=changed,
        )
