"""matches: resolution's decisions for review, each with its rule, score, reason and the entity it made."""

from __future__ import annotations

from typing import Any, ClassVar

import networkx as nx

from graphinv.query.results import Entity, QueryResult, Row

__all__ = ["MatchDecision", "Matches", "matches"]


class MatchDecision(Row):
    """Two records the resolver merged ('same') or only found alike ('possible'), and why."""

    verdict: str
    rule: str
    score: float
    reason: str
    left: str
    """The first record's name as its source spelled it."""
    right: str
    left_id: str
    right_id: str
    entities: tuple[Entity, ...]
    """The node(s) the two records are now: one when merged, two when kept apart."""

    columns: ClassVar[tuple[str, ...]] = ("verdict", "rule", "score", "left", "right", "now", "reason")

    def flat(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "rule": self.rule,
            "score": round(self.score, 3),
            "left": self.left,
            "right": self.right,
            "now": [e.label for e in self.entities],
            "reason": self.reason,
        }


class Matches(QueryResult):
    investigation: ClassVar[str] = "matches"
    rows: tuple[MatchDecision, ...] = ()


def matches(graph: nx.MultiDiGraph, *, uncertain: bool = False) -> Matches:
    """Every resolution decision, uncertain ones first, then by rule and score (lowest first, the
    ones most worth a second look); with ``uncertain``, only the matches left unmerged.

    A wrong merge is undone, and a missed one made, with ``graphinv resolve --judgements``.
    """
    where: dict[str, str] = {}
    for node_id, attrs in graph.nodes(data=True):
        for merged in attrs.get("merged_ids", ()):
            where[merged] = node_id
    rows = []
    for d in graph.graph.get("decisions", ()):
        if uncertain and d["verdict"] != "possible":
            continue
        now = sorted({where.get(d["a"], d["a"]), where.get(d["b"], d["b"])})
        rows.append(
            MatchDecision(
                verdict=d["verdict"],
                rule=d["rule"],
                score=d["score"],
                reason=d["reason"],
                left=d.get("a_name") or d["a"],
                right=d.get("b_name") or d["b"],
                left_id=d["a"],
                right_id=d["b"],
                entities=tuple(Entity.of(graph, n) for n in now if n in graph),
            )
        )
    rows.sort(key=lambda r: (r.verdict != "possible", r.rule, r.score, r.left_id, r.right_id))
    return Matches(rows=tuple(rows))
