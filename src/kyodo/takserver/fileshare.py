"""File-share announcements (`b-f-t-r`) of files Kyodo holds: relayed within the file's label.

ATAK shares a data package by uploading it (`/Marti/sync/missionupload`) and then sending a
`b-f-t-r` event whose `<fileshare sha256 senderUrl …/>` names it, often addressed with
`<marti><dest callsign/></marti>`. When the named file is one Kyodo holds, the announcement is
labelled with its own label joined with the file's, so it reaches only those who may read the
file; one naming a file the sender may not read is refused. Announcements of files Kyodo does
not hold (a peer-to-peer share from the device's own web server) go on as any other event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from kyodo.cot import CotError, Event, read_label
from kyodo.services import files
from kyodo.takserver.encoding import Encoded

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kyodo.domain.tracks import Feed
    from kyodo.services.context import ServiceContext
    from kyodo.takserver.client import CotClient

FILESHARE_TYPE = "b-f-t-r"


def named_hashes(event: Event) -> list[str]:
    """The hashes an announcement names: `sha256`, and the `hash` of its `senderUrl`."""
    found: list[str] = []
    for share in event.detail.findall("fileshare"):
        if digest := share.get("sha256"):
            found.append(digest.strip())
        try:
            query = urlsplit(share.get("senderUrl") or "").query
        except ValueError:  # not a URL (e.g. an unclosed IPv6 bracket): it names nothing
            continue
        found += parse_qs(query).get("hash", [])
    return found


def _addressees(event: Event) -> tuple[set[str], set[str]]:
    """The callsigns and uids of `<marti><dest>` (both empty: to everyone who may read it)."""
    callsigns, uids = set(event.detail.recipients), set()
    for marti in event.detail.findall("marti"):
        for dest in marti.iter("dest"):
            if uid := dest.get("uid"):
                uids.add(uid)
    return callsigns, uids


async def share(
    ctx: ServiceContext,
    feed: Feed | None,
    clients: Iterable[CotClient],
    client: CotClient,
    event: Event,
) -> bool:
    """Relay an announcement of a file Kyodo holds to the clients (its addressees, if it names
    any) that may read both it and the file; False when it names no file held here (the
    caller handles it as any other event). Not stored: it is a message, not an item."""
    hashes = named_hashes(event)
    if not hashes:
        return False
    if feed is None:
        raise CotError("the CoT feed is not ready")
    announced = read_label(event, ctx.registry).label or feed.default_label
    label = await files.share_label(ctx, client.actor, hashes, announced)
    if label is None:
        return False
    can_read = ctx.decisions.can_read
    if not feed.ceiling.dominates(label) or not can_read(client.actor.subject, label):
        raise CotError("file share refused: its label is above what may be sent here")
    callsigns, uids = _addressees(event)
    encoded = Encoded(event, label, ctx.registry)
    for other in tuple(clients):
        if other is client or not can_read(other.actor.subject, label):
            continue
        if (callsigns or uids) and other.callsign not in callsigns and other.uid not in uids:
            continue
        other.offer(encoded.bytes_for(other))
    return True
