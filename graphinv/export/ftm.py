"""FollowTheMoney export (``--format ftm``): the case as FtM entity JSON lines for Aleph and friends.

Nodes become Company/Person/Address/BankAccount/EconomicActivity entities (an entity read from FtM
keeps its schema and id), links become Ownership/Directorship/Family/Associate entities, addresses
and customs parties become the holder's ``addressEntity`` and the activity's ``receiver``/``sender``,
and each watchlist flag becomes a Sanction. Each entity cites its source rows in ``notes``, or in
``summary`` where its schema has no ``notes``. Writing needs no followthemoney installed; the tests
check the output with it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

import orjson

from graphinv.export.jsonl import write_lines
from graphinv.model import make_id
from graphinv.store import CaseFile
from graphinv.store.casefile import link_in_period

__all__ = ["ftm_entities", "write_ftm"]

_NODE_SCHEMA = {
    "Company": "Company",
    "Person": "Person",
    "Address": "Address",
    "Account": "BankAccount",
    "Shipment": "EconomicActivity",
}
_PARTY_SCHEMATA = {"Company", "Organization", "LegalEntity", "PublicBody"}
# In FtM 4.x only Thing's descendants have `notes`; the Interval ones (EconomicActivity, the links,
# Sanction) have `summary` and `description` instead, and FtM drops an unknown property silently.
_NOTES_SCHEMATA = _PARTY_SCHEMATA | {"Person", "Address", "BankAccount"}


def _values(*values: Any) -> list[str]:
    out: list[str] = []
    for value in values:
        if value is None or value == "" or value == []:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, float) and item.is_integer():
                item = int(item)
            text = str(item)
            if text and text not in out:
                out.append(text)
    return out


def _props(**values: Any) -> dict[str, list[str]]:
    return {key: found for key, value in values.items() if (found := _values(value))}


def ftm_entities(case: CaseFile) -> Iterator[dict[str, Any]]:
    """Every node, link and flag of the (resolved) case as an FtM entity dict."""
    nodes = case.nodes()
    links = case.links()
    # An entity read from FtM keeps its own id, unless two nodes would then share one.
    wanted = {
        n["id"]: str(n["ftm_id"] if n.get("ftm_id") else n.get("bundle_id")) for n in nodes if n.get("ftm_schema")
    }
    taken = Counter(wanted.values())
    ids = {node_id: (ftm if taken[ftm] == 1 else node_id) for node_id, ftm in wanted.items()}

    def ref(node_id: str) -> str:
        return ids.get(node_id, node_id)

    kinds = {n["id"]: n["kind"] for n in nodes}
    addresses: dict[str, list[str]] = {}
    address_text: dict[str, str] = {}
    parties: dict[str, dict[str, list[str]]] = {}
    for link in links:
        if link["rel"] == "HAS_ADDRESS":
            addresses.setdefault(link["source"], []).append(ref(link["target"]))
        elif link["rel"] in ("IMPORTED", "EXPORTED"):
            role = "receiver" if link["rel"] == "IMPORTED" else "sender"
            parties.setdefault(link["target"], {}).setdefault(role, []).append(ref(link["source"]))
    for node in nodes:
        if node["kind"] == "Address":
            address_text[ref(node["id"])] = str(node.get("text") or node.get("name"))
    for node in nodes:
        schema = _NODE_SCHEMA.get(node["kind"])
        if schema is None:
            continue
        if node["kind"] == "Company" and node.get("ftm_schema") in _PARTY_SCHEMATA:
            schema = str(node["ftm_schema"])
        entity_id = ref(node["id"])
        notes = [f"graphinv id {node['id']}"] + [f"source {s}" for s in node.get("sources", [])]
        if node["kind"] in ("Company", "Person"):
            own = addresses.get(node["id"], [])
            props = _props(
                name=node.get("name"),
                alias=[*_values(node.get("alias")), *_values(node.get("aliases"))],
                taxNumber=node.get("tax_id"),
                addressEntity=own,
                address=[address_text[a] for a in own if a in address_text],
                topics=node.get("topics"),
            )
            if node["kind"] == "Company":
                props.update(
                    _props(
                        registrationNumber=node.get("registration_number"),
                        jurisdiction=node.get("jurisdiction"),
                        incorporationDate=node.get("incorporation_date"),
                        status=node.get("status"),
                        sector=node.get("industry"),
                    )
                )
            else:
                props.update(_props(birthDate=node.get("birth_date"), nationality=node.get("nationality")))
        elif node["kind"] == "Address":
            props = _props(
                full=node.get("text") or node.get("name"),
                city=node.get("city"),
                region=node.get("state"),
                country=node.get("country"),
                postalCode=node.get("postal_code"),
            )
        elif node["kind"] == "Account":
            props = _props(bankName=node.get("bank"), accountNumber=node.get("number"), name=node.get("name"))
            if node.get("status"):
                notes.append(
                    f"status {node['status']}" + (f" since {node['frozen_date']}" if node.get("frozen_date") else "")
                )
        else:
            props = _props(
                date=node.get("date"),
                goodsDescription=node.get("product"),
                vedCode=node.get("hs_code"),
                originCountry=node.get("origin_country"),
                **parties.get(node["id"], {}),
            )
            details = [
                f"{k} {node[k]}"
                for k in ("quantity_kg", "value_usd", "port", "bill_of_lading", "chemical")
                if node.get(k) is not None
            ]
            if details:
                props["description"] = ["; ".join(details)]
        if schema in _NOTES_SCHEMATA:
            props["notes"] = notes
        else:
            props["summary"] = ["; ".join(notes)]
        yield {"id": entity_id, "schema": schema, "properties": props, "datasets": _datasets(node)}
        for name in node.get("flags") or []:
            reasons = [r for r in node.get("flag_reasons") or [] if r.startswith(name)]
            # A flag's reason ends with the row that states it: "... [dataset:file:line]".
            cited = [f"source {r.rsplit('[', 1)[1].rstrip(']')}" for r in reasons if "[" in r]
            yield {
                "id": make_id("ftm-sanction", node["id"], name),
                "schema": "Sanction",
                "properties": _props(entity=entity_id, authority=name, reason=reasons, summary="; ".join(cited)),
                "datasets": _datasets(node),
            }
    for link in links:
        for part in _by_period(link):
            entity = _link_entity(part, ref, kinds)
            if entity is not None:
                yield entity


def _by_period(link: dict[str, Any]) -> list[dict[str, Any]]:
    """A link stated for several periods as one link per period, each with its own dates, share or
    role and row (FtM has no periods: an Ownership is one holding over one span)."""
    periods = link.get("periods")
    if not periods:
        return [link]
    return [
        {
            **link_in_period(link, period),
            "ftm_id": make_id("ftm-link", link["rel"], link["source"], link["target"], period["source"]),
        }
        for period in periods
    ]


def _datasets(item: dict[str, Any]) -> list[str]:
    found = [str(s).split(":", 1)[0] for s in item.get("sources", [])]
    return sorted(set(found))


def _link_entity(link: dict[str, Any], ref: Any, kinds: dict[str, str]) -> dict[str, Any] | None:
    rel = link["rel"]
    source, target = ref(link["source"]), ref(link["target"])
    dates = {"startDate": link.get("start_date"), "endDate": link.get("end_date")}
    entity_id = str(link.get("ftm_id") or make_id("ftm-link", rel, link["source"], link["target"]))
    notes = [f"source {s}" for s in link.get("sources", [])]
    if rel == "OWNS":
        percentage = link.get("share_pct")
        props = _props(owner=source, asset=target, percentage=percentage, **dates, role=link.get("role"))
        if percentage is None and link.get("share_unpaired"):
            notes.append(f"percentages stated for this group of holdings, pairing unknown: {link['share_unpaired']}")
        schema = "Ownership"
    elif rel == "HOLDS":
        props = _props(owner=source, asset=target, role="account holder")
        schema = "Ownership"
        entity_id = make_id("ftm-link", rel, link["source"], link["target"])
    elif rel == "OFFICER_OF":
        props = _props(director=source, organization=target, role=link.get("role"), **dates)
        schema = "Directorship"
    elif rel == "FAMILY":
        if link.get("ftm_schema") == "Associate":
            props = _props(
                person=source, associate=target, relationship=link.get("relationship") or link.get("relation")
            )
            schema = "Associate"
        else:
            props = _props(
                person=source, relative=target, relationship=link.get("relationship") or link.get("relation")
            )
            schema = "Family"
    elif rel == "POSSIBLY_SAME_AS":
        props = _props(
            subject=source, object=target, role=f"possibly same as (score {link.get('score')}): {link.get('reason')}"
        )
        schema = "UnknownLink"
        entity_id = make_id("ftm-link", rel, link["source"], link["target"])
    else:
        return None  # HAS_ADDRESS, IMPORTED and EXPORTED are properties of the entities above
    if notes:
        props["summary"] = ["; ".join(notes)]
    return {"id": entity_id, "schema": schema, "properties": props, "datasets": _datasets(link)}


def write_ftm(case: str | os.PathLike[str], output: str | os.PathLike[str] | IO[bytes]) -> int:
    """Write the case as FtM JSON lines to a path, ``-`` (standard output) or a binary stream.

    Returns the number of entities written. A file is written whole or not at all.
    """
    return write_lines(case, output, lambda opened: (orjson.dumps(e) + b"\n" for e in ftm_entities(opened)))
