"""Nets: who sees them, creating and changing them, membership and read markers (the public API)."""

from kyodo.services.nets.access import (
    find_net,
    get_net,
    list_my_nets,
    net_roster,
    net_view,
)
from kyodo.services.nets.lifecycle import create_net, update_net
from kyodo.services.nets.markers import mark_read, read_marker, read_markers
from kyodo.services.nets.members import (
    add_member,
    list_members,
    remove_member,
    revalidate_memberships,
)

__all__ = [
    "add_member",
    "create_net",
    "find_net",
    "get_net",
    "list_members",
    "list_my_nets",
    "mark_read",
    "net_roster",
    "net_view",
    "read_marker",
    "read_markers",
    "remove_member",
    "revalidate_memberships",
    "update_net",
]
