"""Which files a `b-f-t-r` names: never an exception, whatever the sender wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import quoteattr

from hypothesis import given
from hypothesis import strategies as st

from kyodo.cot import parse_event
from kyodo.takserver.fileshare import named_hashes

SHA = "ab" * 32


def _share(attributes: str) -> bytes:
    now = datetime.now(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (
        f'<event version="2.0" uid="s1" type="b-f-t-r" how="h-e" time="{now.strftime(fmt)}"'
        f' start="{now.strftime(fmt)}" stale="{(now + timedelta(seconds=9)).strftime(fmt)}">'
        f'<point lat="0" lon="0" hae="NaN" ce="NaN" le="NaN"/><detail><fileshare {attributes}/>'
        "</detail></event>"
    ).encode()


def test_the_sha256_and_the_hash_of_the_sender_url() -> None:
    url = f"https://kyodo.example:8443/Marti/sync/content?hash={SHA}&x=1"
    event = parse_event(_share(f'sha256="{"cd" * 32}" senderUrl={quoteattr(url)}'))
    assert named_hashes(event) == ["cd" * 32, SHA]
    assert named_hashes(parse_event(_share('senderUrl="http://[::1"'))) == []
    assert named_hashes(parse_event(_share('filename="x.zip"'))) == []


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=80)


@given(sha=_TEXT, url=_TEXT)
def test_never_raises(sha: str, url: str) -> None:
    event = parse_event(_share(f"sha256={quoteattr(sha)} senderUrl={quoteattr(url)}"))
    assert all(isinstance(h, str) for h in named_hashes(event))
