"""Saved Cypher playbooks: finding them, reading and checking their headers, checking parameters, running them.

A playbook is a ``.cypher`` file (``cypher/README.md`` gives the format): a header of ``//`` lines
naming it, describing it, declaring each ``$parameter`` with its type and default, the columns it
returns and whether it reads or writes; then Neo4j 5 Cypher that receives values only as
parameters. The built-in ones ship inside the package; folders named in ``GRAPHINV_PLAYBOOKS``
(separated like ``PATH``) add more, and a user's playbook of the same name takes precedence.

Every run goes through the official ``neo4j`` driver: to a team's Neo4j (``neo4j=BoltTarget``) or
to the no-server engine, a private ArcadeDB loaded with the case (``case=PATH``). Parameters are
checked against the header before anything connects; REF parameters are looked up the way
``graphinv query`` looks them up (id, bundle id, tax id, name) and sent as entity ids.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphinv.exc import GraphinvError, RefError
from graphinv.model import NODE_KINDS, check_date, day_key, last_day, tax_key
from graphinv.store.casefile import CaseFile
from graphinv.store.neo4j import BoltTarget, Progress, connect, run_cypher
from graphinv.store.stream import CaseStream

__all__ = [
    "CASE_PROPERTIES",
    "DERIVED_PROPERTIES",
    "TYPES",
    "Param",
    "Playbook",
    "PlaybookError",
    "PlaybookResult",
    "builtin_dir",
    "case_rows",
    "case_stream",
    "check_params",
    "get_playbook",
    "graph_schema",
    "list_playbooks",
    "parse_cli_params",
    "parse_playbook",
    "playbook_dirs",
    "run_playbook",
]


class PlaybookError(GraphinvError):
    """A playbook cannot be used as asked: no such name, a bad header, wrong parameters, a write refused."""


#: Base parameter types; any type may be a list (``string[]``). In brackets: ``ref`` the kinds it
#: accepts (``ref(Company)``); ``integer`` and ``float`` a range (``integer(0..3)``, ``float(0..100)``,
#: ``integer(1..)``); ``date`` how a vague date given (``2019``, ``2019-05``) is read: its first
#: day (plain ``date``), its last (``date(end)``, for an "until"), or refused (``date(day)``, for an
#: "as of", where which day is meant changes who owns what).
TYPES = ("string", "integer", "float", "boolean", "date", "chemical", "ref")
_TYPE = re.compile(r"^(?P<base>[a-z]+)(?:\((?P<arg>[^()]+)\))?(?P<list>\[\])?$")
_RANGE = re.compile(r"^(?P<low>-?\d+(?:\.\d+)?)?\.\.(?P<high>-?\d+(?:\.\d+)?)?$")
_DATE_RULES = ("day", "end")
_FIELD = re.compile(r"^//\s?(?P<key>[a-z]+):\s*(?P<value>.*)$")
_CONT = re.compile(r"^//\s{2,}(?P<value>\S.*)$")
_PARAM = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>\S+)(?:\s*=\s*(?P<default>(?:\"[^\"]*\"|\[[^\]]*\]|\S+)))?(?:\s+(?P<help>.*))?$")
_USED = re.compile(r"\$(?:`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*))")
_WRITES = re.compile(r"\b(CREATE|MERGE|SET|DELETE|DETACH|REMOVE|DROP|LOAD\s+CSV|FOREACH)\b", re.IGNORECASE)
_FIELDS = ("name", "description", "param", "returns", "mode")


@dataclass(frozen=True)
class Param:
    """One declared parameter: its name, type, default (``required`` when it has none) and help."""

    name: str
    type: str
    default: Any = None
    required: bool = True
    help: str = ""

    @property
    def base(self) -> str:
        match = _TYPE.match(self.type)
        return match["base"] if match else self.type

    @property
    def is_list(self) -> bool:
        return self.type.endswith("[]")

    @property
    def arg(self) -> str:
        match = _TYPE.match(self.type)
        return (match["arg"] or "").strip() if match else ""

    @property
    def kinds(self) -> tuple[str, ...]:
        """The node kinds a ``ref`` accepts (none named: any)."""
        if self.base != "ref":
            return ()
        return tuple(k.strip() for k in self.arg.split(",") if k.strip())

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The smallest and largest value a number may take (None: no bound)."""
        match = _RANGE.match(self.arg) if self.base in ("integer", "float") else None
        if match is None:
            return None, None
        low, high = match["low"], match["high"]
        return (None if low is None else float(low)), (None if high is None else float(high))

    def describe(self) -> str:
        default = "required" if self.required else f"default {json.dumps(self.default, ensure_ascii=False)}"
        return f"{self.name} ({self.type}, {default})"


@dataclass(frozen=True)
class Playbook:
    """A parsed playbook file."""

    name: str
    path: Path
    description: str
    params: tuple[Param, ...]
    returns: tuple[str, ...]
    mode: str
    query: str
    text: str
    builtin: bool = True

    @property
    def writes(self) -> bool:
        return self.mode == "write"

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def expected(self) -> str:
        return ", ".join(p.describe() for p in self.params) or "none"


@dataclass(frozen=True)
class PlaybookResult:
    """A playbook's answer: its columns (in the header's order) and rows of plain values."""

    playbook: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    params: dict[str, Any] = field(default_factory=dict)
    target: str = ""

    def __len__(self) -> int:
        return len(self.rows)


# -- finding playbooks ------------------------------------------------------------------------------


def builtin_dir() -> Path:
    """The playbooks shipped with graphinv (inside the wheel, or ``cypher/`` in a source checkout)."""
    packaged = Path(__file__).resolve().parent / "cypher"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "cypher"


def playbook_dirs() -> list[tuple[Path, bool]]:
    """(folder, built-in?) in lookup order: ``GRAPHINV_PLAYBOOKS`` folders first, then the built-in ones."""
    dirs: list[tuple[Path, bool]] = []
    for part in (os.environ.get("GRAPHINV_PLAYBOOKS") or "").split(os.pathsep):
        if part.strip():
            folder = Path(part.strip()).expanduser()
            if not folder.is_dir():
                raise PlaybookError(f"GRAPHINV_PLAYBOOKS names {str(folder)!r}, which is not a folder")
            dirs.append((folder, False))
    dirs.append((builtin_dir(), True))
    return dirs


def _files() -> dict[str, tuple[Path, bool]]:
    found: dict[str, tuple[Path, bool]] = {}
    for folder, builtin in playbook_dirs():
        for path in sorted(folder.glob("*.cypher")):
            found.setdefault(path.stem, (path, builtin))
    return found


def list_playbooks() -> list[Playbook]:
    """Every playbook, by name. A file with a bad header is an error naming the file and the fault."""
    return [parse_playbook(path, builtin=builtin) for _, (path, builtin) in sorted(_files().items())]


def get_playbook(name: str) -> Playbook:
    """The playbook of this name (a path to a ``.cypher`` file works too)."""
    if name.endswith(".cypher") and Path(name).is_file():
        return parse_playbook(Path(name), builtin=False)
    files = _files()
    if name not in files:
        raise PlaybookError(f"No such playbook: {name!r} (available: {', '.join(sorted(files))})")
    path, builtin = files[name]
    return parse_playbook(path, builtin=builtin)


# -- reading headers --------------------------------------------------------------------------------


def _parse_default(text: str, param_type: str) -> Any:
    if text == "null":
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    return value


def parse_playbook(path: str | os.PathLike[str], *, builtin: bool = False) -> Playbook:
    """Read and check a playbook file: the header is complete and every ``$parameter`` is declared."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(f"Cannot read playbook {str(path)!r}: {exc}") from exc
    where = str(path)
    fields: dict[str, list[str]] = {k: [] for k in _FIELDS}
    last: str | None = None
    lines = text.splitlines()
    body_start = len(lines)
    for number, line in enumerate(lines):
        stripped = line.rstrip()
        if not stripped.startswith("//"):
            body_start = number
            break
        cont = _CONT.match(stripped)
        match = _FIELD.match(stripped)
        if match and match["key"] in _FIELDS:
            last = match["key"]
            fields[last].append(match["value"].strip())
        elif cont and last is not None:
            fields[last][-1] = f"{fields[last][-1]} {cont['value'].strip()}".strip()
        elif stripped.strip("/ ").strip():
            raise PlaybookError(
                f"{where}:{number + 1}: header line {stripped!r} is not one of "
                f"{', '.join(k + ':' for k in _FIELDS)} (continue a field on lines indented by two spaces)"
            )
        else:
            last = None
    query = "\n".join(lines[body_start:]).strip()
    for key in ("name", "description", "returns", "mode"):
        if not fields[key] or not fields[key][0]:
            raise PlaybookError(f"{where}: the header has no '// {key}:' line")
        if len(fields[key]) > 1:
            raise PlaybookError(f"{where}: the header has more than one '// {key}:' line")
    name = fields["name"][0]
    if name != path.stem:
        raise PlaybookError(f"{where}: the header names it {name!r}, but the file is {path.name!r}")
    mode = fields["mode"][0]
    if mode not in ("read", "write"):
        raise PlaybookError(f"{where}: mode must be 'read' or 'write', not {mode!r}")
    params = []
    for spec in fields["param"]:
        match = _PARAM.match(spec)
        if not match:
            raise PlaybookError(f"{where}: cannot read parameter {spec!r} (expected: NAME TYPE [= DEFAULT] description)")
        param_type = match["type"]
        type_match = _TYPE.match(param_type)
        if not type_match or type_match["base"] not in TYPES or not _arg_fits(type_match["base"], type_match["arg"]):
            raise PlaybookError(
                f"{where}: parameter {match['name']!r} has unknown type {param_type!r} (types: {', '.join(TYPES)}, "
                "ref(Kind,...), integer(LOW..HIGH), float(LOW..HIGH), date(day), date(end), and TYPE[] lists)"
            )
        unknown_kinds = [
            k for k in (type_match["arg"] or "").split(",")
            if type_match["base"] == "ref" and k.strip() and k.strip() not in NODE_KINDS
        ]
        if unknown_kinds:
            raise PlaybookError(f"{where}: parameter {match['name']!r} names unknown kinds {unknown_kinds!r} (kinds: {', '.join(NODE_KINDS)})")
        required = match["default"] is None
        default = None if required else _parse_default(match["default"], param_type)
        param = Param(name=match["name"], type=param_type, default=default, required=required, help=(match["help"] or "").strip())
        if not required and default is not None:
            try:
                _convert(param, default, where)
            except PlaybookError as exc:
                raise PlaybookError(f"{where}: the default of {param.name!r} does not fit its type: {exc}") from None
        params.append(param)
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise PlaybookError(f"{where}: a parameter is declared twice ({', '.join(names)})")
    if not query:
        raise PlaybookError(f"{where}: there is no query after the header")
    used = {a or b for a, b in _USED.findall(_strip_comments_and_strings(query))}
    undeclared = sorted(used - set(names))
    if undeclared:
        raise PlaybookError(f"{where}: the query uses undeclared parameter(s) {', '.join('$' + u for u in undeclared)}")
    unused = sorted(set(names) - used)
    if unused:
        raise PlaybookError(f"{where}: declared parameter(s) {', '.join(unused)} are not used by the query")
    if mode == "read":
        found = _WRITES.search(_strip_comments_and_strings(query))
        if found:
            raise PlaybookError(f"{where}: a 'read' playbook uses {found[0].upper()}; declare '// mode: write'")
    returns = tuple(c.strip() for c in fields["returns"][0].split(",") if c.strip())
    return Playbook(
        name=name,
        path=path,
        description=fields["description"][0],
        params=tuple(params),
        returns=returns,
        mode=mode,
        query=query,
        text=text,
        builtin=builtin,
    )


#: Comments, string literals and quoted names, matched left to right in one pass: whichever starts
#: first wins, so an apostrophe in a comment or "//" in a string is read as what it is.
_LEXEMES = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`]|``)*`", re.DOTALL)


def _strip_comments_and_strings(query: str) -> str:
    """The query with string literals, quoted names and comments blanked, so keywords and $names
    inside them are not mistaken for code."""
    return _LEXEMES.sub(lambda m: " " if m[0][0] == "/" else "''", query)


# -- parameters -------------------------------------------------------------------------------------

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _arg_fits(base: str, arg: str | None) -> bool:
    """Whether a type's bracket suits its base: kinds for ``ref``, a range for numbers, a rule for dates."""
    if arg is None:
        return True
    if base == "ref":
        return True  # the kinds are checked against NODE_KINDS next
    if base in ("integer", "float"):
        return _RANGE.match(arg.strip()) is not None
    return base == "date" and arg.strip() in _DATE_RULES


def _in_bounds(param: Param, value: float, label: str) -> None:
    low, high = param.bounds
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"from {low:g}" if high is None else f"up to {high:g}" if low is None else f"from {low:g} to {high:g}"
        raise PlaybookError(f"{label} must be {span}, got {value:g}")


def _one(param: Param, value: Any, where: str) -> Any:
    base = param.base
    label = f"{where}parameter {param.name!r} ({param.type})"
    if base in ("string", "ref", "chemical"):
        if not isinstance(value, str) or not value.strip():
            raise PlaybookError(f"{label} needs a non-empty text, got {value!r}")
        return value
    if base == "integer":
        if isinstance(value, bool):
            raise PlaybookError(f"{label} needs a whole number, got {value!r}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise PlaybookError(f"{label} needs a whole number, got {value!r}") from None
        _in_bounds(param, number, label)
        return number
    if base == "float":
        if isinstance(value, bool):
            raise PlaybookError(f"{label} needs a number, got {value!r}")
        try:
            real = float(value)
        except (TypeError, ValueError):
            raise PlaybookError(f"{label} needs a number, got {value!r}") from None
        if not math.isfinite(real):
            raise PlaybookError(f"{label} needs a finite number, got {value!r}")
        _in_bounds(param, real, label)
        return real
    if base == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise PlaybookError(f"{label} needs true or false, got {value!r}")
    if base == "date":
        try:
            text = check_date(str(value).strip())
        except ValueError as exc:
            raise PlaybookError(f"{label} needs a date as YYYY-MM-DD: {exc}") from None
        if len(text) == 10:
            return text
        if param.arg == "day":
            raise PlaybookError(
                f"{label} needs a day (YYYY-MM-DD), got {text!r}: which of its days is meant changes the answer"
            )
        return last_day(text) if param.arg == "end" else day_key(text)  # "end": through the period's last day
    raise PlaybookError(f"{label}: unknown type")


def _convert(param: Param, value: Any, where: str = "") -> Any:
    if value is None:
        return None
    if param.is_list:
        items = value if isinstance(value, (list, tuple)) else [value]
        return [_one(param, v, where) for v in items]
    if isinstance(value, (list, tuple)):
        raise PlaybookError(f"{where}parameter {param.name!r} ({param.type}) takes one value, got {len(value)}: {list(value)!r}")
    return _one(param, value, where)


def parse_cli_params(pairs: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings from ``--param`` (repeat a key for a list, or give a JSON list)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise PlaybookError(f"--param takes KEY=VALUE, got {pair!r}")
        parsed: Any = value
        if value.startswith("[") and value.endswith("]"):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = value
        if key in out:
            before = out[key] if isinstance(out[key], list) else [out[key]]
            out[key] = before + (parsed if isinstance(parsed, list) else [parsed])
        else:
            out[key] = parsed
    return out


def check_params(playbook: Playbook, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared parameter with a value of its type (defaults filled in), or a PlaybookError
    naming what is unknown, missing or ill-typed, and listing the expected parameters."""
    expected = f" (expected: {playbook.expected()})"
    unknown = sorted(set(given) - {p.name for p in playbook.params})
    if unknown:
        raise PlaybookError(f"Playbook {playbook.name!r} has no parameter {', '.join(map(repr, unknown))}{expected}")
    missing = [p.name for p in playbook.params if p.required and given.get(p.name) in (None, [])]
    if missing:
        raise PlaybookError(f"Playbook {playbook.name!r} needs parameter {', '.join(map(repr, missing))}{expected}")
    out: dict[str, Any] = {}
    for param in playbook.params:
        value = given.get(param.name, param.default)
        try:
            out[param.name] = _convert(param, value, f"Playbook {playbook.name!r}: ")
        except PlaybookError as exc:
            raise PlaybookError(f"{exc}{expected}") from None
    return out


def _chemical(name: str) -> str:
    from graphinv.resolve.chemicals import find_chemical, lexicon

    found = find_chemical(name)
    if found is None:
        raise PlaybookError(f"Unknown chemical {name!r}: give a name, synonym, short form or CAS number of one of: "
                            f"{', '.join(c.name for c in lexicon())}")
    return found.name


# -- REFs over Bolt ---------------------------------------------------------------------------------


def _ref_levels(kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    """(what, Cypher) per lookup level, in ``graphinv query``'s order: id, bundle id, tax id, name."""
    labels = kinds or tuple(k for k in NODE_KINDS if k != "Shipment")
    ret = " RETURN n.id AS id, n.name AS name, labels(n)[0] AS kind, n.bundle_id AS bundle_id, n.tax_id AS tax_id"

    def union(where: str, match: str = "") -> str:
        return " UNION ".join(f"MATCH (n:{label}{match}){where}{ret}" for label in labels)

    return [
        ("id", union("", " {id: $ref}")),
        ("merged id", union(" WHERE $ref IN n.merged_ids")),
        ("bundle id", union("", " {bundle_id: $ref}")),
        ("tax id", union(" WHERE n.tax_id IN $tax")),
        ("name", union("", " {name: $ref}")),
        ("name (any case)", union(" WHERE toLower(n.name) = $lower OR $lower IN [a IN coalesce(n.aliases, []) | toLower(a)]")),
    ]


def _resolve_ref(driver: Any, target: BoltTarget, ref: str, kinds: tuple[str, ...], cache: dict[Any, str]) -> str:
    key = (ref, kinds)
    if key in cache:
        return cache[key]
    ref = ref.strip()
    variants = sorted({ref, tax_key(ref)})
    params = {"ref": ref, "tax": variants, "lower": ref.lower()}
    for _, query in _ref_levels(kinds):
        _, rows, _ = run_cypher(driver, target, query, params)
        found = {r["id"]: r for r in rows if r.get("id")}
        if len(found) == 1:
            cache[key] = next(iter(found))
            return cache[key]
        if len(found) > 1:
            shown = "; ".join(
                f"{r['id']} {r.get('name') or ''} ({r.get('kind')}{', ' + r['bundle_id'] if r.get('bundle_id') else ''})"
                for r in sorted(found.values(), key=lambda r: r["id"])[:10]
            )
            raise RefError(f"REF {ref!r} is ambiguous: it names {len(found)} entities: {shown}. Give one of their ids.")
    what = f" {' or '.join(kinds)}" if kinds else ""
    raise RefError(f"No{what} entity matches REF {ref!r} in {target.where}. Give an entity id, a bundle id, a tax id or a name.")


def _resolve_params(driver: Any, target: BoltTarget, playbook: Playbook, values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    cache: dict[Any, str] = {}
    for param in playbook.params:
        value = out.get(param.name)
        if value is None:
            continue
        if param.base == "ref":
            if param.is_list:
                out[param.name] = list(dict.fromkeys(_resolve_ref(driver, target, v, param.kinds, cache) for v in value))
            else:
                out[param.name] = _resolve_ref(driver, target, value, param.kinds, cache)
    return out


def _prepare(playbook: Playbook, values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for param in playbook.params:
        value = out.get(param.name)
        if value is not None and param.base == "chemical":
            out[param.name] = [_chemical(v) for v in value] if param.is_list else _chemical(value)
    return out


# -- the graph as playbooks see it ------------------------------------------------------------------


#: Properties graphinv derives when it loads a case into Neo4j or the engine (beside the model's):
#: ``chemical`` on shipments, and ``party_degree`` on every node.
DERIVED_PROPERTIES = ("chemical", "party_degree")
#: Properties the case graph gives nodes beyond the model's fields: the bundle's own id, whether a
#: firm is in a registry (customs parties are not), other spellings of its name, the statement
#: ids resolution merged into it, and the watch-list rows that flag it.
CASE_PROPERTIES = ("bundle_id", "registered", "aliases", "merged_ids", "flag_reasons")


def graph_schema() -> dict[str, Any]:
    """The graph schema playbooks are written against, from ``graphinv.model`` (the single source
    of labels and relationship types) plus the properties the case and the loader add: the
    ``DbSchema`` Neo4j's linter takes."""
    from graphinv.model import LINK_KINDS

    keys: set[str] = {"kind", *CASE_PROPERTIES, *DERIVED_PROPERTIES}
    for cls in NODE_KINDS.values():
        keys.update(cls.model_fields)
    for cls in LINK_KINDS.values():
        keys.update(k for k in cls.model_fields if k not in ("source", "target"))
    paths = [
        {"from": a, "to": b, "relType": rel}
        for rel, cls in LINK_KINDS.items()
        for a in cls.source_kinds
        for b in cls.target_kinds
    ]
    return {
        "labels": list(NODE_KINDS),
        "relationshipTypes": list(LINK_KINDS),
        "propertyKeys": sorted(keys),
        "graphSchema": paths,
    }
_PARTIES = frozenset({"Company", "Person"})


def _with_chemical(node: dict[str, Any]) -> None:
    from graphinv.resolve.chemicals import canonical_chemical

    if node.get("kind") == "Shipment" and not node.get("chemical"):
        chemical = canonical_chemical(node.get("product"), node.get("hs_code"))
        if chemical:
            node["chemical"] = chemical


def case_stream(case: CaseFile) -> CaseStream:
    """The rows of :func:`case_rows`, read in bounded memory (a ``CaseStream``: use it in ``with``):
    what ``graphinv neo4j push``, the neo4j-csv export and the no-server engine load."""
    return CaseStream(case, finish=_with_chemical)


def case_rows(case: CaseFile) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The case's nodes and links as they go into Neo4j or the engine: resolved, every shipment
    carrying ``chemical`` (the precursor lexicon's reading of its product when ingest left it out),
    so playbooks select shipments by chemical with an index, and every node its ``party_degree``.

    ``party_degree`` is how many distinct firms and persons a node is linked to, a shipment's other
    parties counting as linked (uncertain matches left out): the measure ``graphinv query`` uses to
    call a node a hub. Cypher cannot count it cheaply inside a path search, and ArcadeDB applies a
    shortest-path WHERE only after the search, so playbooks read it as a property.
    """
    from graphinv.resolve.chemicals import canonical_chemical

    nodes = case.nodes()
    links = case.links()
    kind = {n["id"]: n.get("kind") for n in nodes}
    for node in nodes:
        if node.get("kind") == "Shipment" and not node.get("chemical"):
            chemical = canonical_chemical(node.get("product"), node.get("hs_code"))
            if chemical:
                node["chemical"] = chemical
    linked: dict[str, set[str]] = {}
    shipment_parties: dict[str, set[str]] = {}
    for link in links:
        if link.get("rel") == "POSSIBLY_SAME_AS":
            continue
        a, b = link["source"], link["target"]
        if a not in kind or b not in kind:
            continue
        for x, y in ((a, b), (b, a)):
            if kind[y] in _PARTIES:
                linked.setdefault(x, set()).add(y)
            if kind[x] == "Shipment" and kind[y] in _PARTIES:
                shipment_parties.setdefault(x, set()).add(y)
    for parties in shipment_parties.values():
        for party in parties:
            linked.setdefault(party, set()).update(parties - {party})
    for node in nodes:
        node["party_degree"] = len(linked.get(node["id"], ()))
    return nodes, links


# -- running ----------------------------------------------------------------------------------------


def run_playbook(
    name: str | Playbook,
    params: Mapping[str, Any] | None = None,
    *,
    case: str | os.PathLike[str] | None = None,
    neo4j: BoltTarget | None = None,
    allow_write: bool = False,
    progress: Progress | None = None,
) -> PlaybookResult:
    """Run a playbook on a Neo4j server (``neo4j``) or, with no server, on a case file (``case``).

    Parameters are checked against the header first (nothing connects before that); a write
    playbook is refused unless ``allow_write``. On the no-server engine, a write playbook changes
    only the engine's copy, which is then dropped (the case file is never written).
    """
    playbook = name if isinstance(name, Playbook) else get_playbook(name)
    if (case is None) == (neo4j is None):
        raise PlaybookError("Give either a case file (--case CASE) or a Neo4j server (--neo4j URI), not both or neither")
    values = _prepare(playbook, check_params(playbook, params or {}))
    if playbook.writes and not allow_write:
        raise PlaybookError(
            f"Playbook {playbook.name!r} writes to the graph (mode: write); run it with --allow-write if that is what you want"
        )
    if neo4j is not None:
        return _run_on(neo4j, playbook, values)
    from graphinv.store.arcade import case_engine, require_engine

    require_engine()
    with CaseFile(case) as opened:  # type: ignore[arg-type]
        with case_engine(opened, progress=progress, discard=playbook.writes, rows=case_stream) as target:
            return _run_on(target, playbook, values)


def _run_on(target: BoltTarget, playbook: Playbook, values: dict[str, Any]) -> PlaybookResult:
    with connect(target) as driver:
        sent = _resolve_params(driver, target, playbook, values)
        keys, rows, _ = run_cypher(driver, target, playbook.query, sent, write=playbook.writes)
    columns = tuple(keys) if keys else playbook.returns
    return PlaybookResult(playbook=playbook.name, columns=columns, rows=tuple(rows), params=sent, target=target.where)
