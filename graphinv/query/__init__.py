"""Investigations: one pure function per question, each returning typed rows with their evidence.

The same name in three places (DESIGN §5): ``shared_owners()`` here, ``graphinv query
shared-owners`` on the command line, ``cypher/shared-owners.cypher`` as a playbook.
"""

from graphinv.query.cluster import Cluster, Group, Member, cluster
from graphinv.query.freeze_list import FreezeEntry, FreezeList, freeze_list
from graphinv.query.matches import MatchDecision, Matches, matches
from graphinv.query.new_importers import Importer, NewImporters, new_importers
from graphinv.query.path import Connection, Paths, path
from graphinv.query.refs import RefIndex, resolve_ref, resolve_refs
from graphinv.query.results import Account, Entity, Evidence, Hub, QueryResult, Row
from graphinv.query.risk import Risk, RiskScore, Signal, risk
from graphinv.query.runner import INVESTIGATIONS, OPTIONS, run
from graphinv.query.shared_addresses import SharedAddress, SharedAddresses, shared_addresses
from graphinv.query.shared_owners import SharedOwner, SharedOwners, shared_owners
from graphinv.query.ubo import Ubo, UboOwner, ubo

__all__ = [
    "INVESTIGATIONS",
    "OPTIONS",
    "Account",
    "Cluster",
    "Connection",
    "Entity",
    "Evidence",
    "FreezeEntry",
    "FreezeList",
    "Group",
    "Hub",
    "Importer",
    "MatchDecision",
    "Matches",
    "Member",
    "NewImporters",
    "Paths",
    "QueryResult",
    "RefIndex",
    "Risk",
    "RiskScore",
    "Row",
    "SharedAddress",
    "SharedAddresses",
    "SharedOwner",
    "SharedOwners",
    "Signal",
    "Ubo",
    "UboOwner",
    "cluster",
    "freeze_list",
    "matches",
    "new_importers",
    "path",
    "resolve_ref",
    "resolve_refs",
    "risk",
    "run",
    "shared_addresses",
    "shared_owners",
    "ubo",
]
