"""TAK's `<auth><cot username password uid/></auth>`: the credentials a client sends first."""

from __future__ import annotations

from dataclasses import dataclass, field

from kyodo.cot import xmltext
from kyodo.cot.errors import CotError
from kyodo.cot.safexml import parse_xml

AUTH_TAG = "auth"
# TAK Server buffers at most 1 KiB for it; a little more room costs nothing.
MAX_AUTH_BYTES = 4096
MAX_FIELD = 256  # characters of a username, password, uid or callsign


@dataclass(frozen=True, slots=True)
class Credentials:
    """What an `<auth>` element says: who the client claims to be and the password that proves
    it. The password is left out of `repr`, so a stray log line or traceback cannot show it."""

    username: str
    password: str = field(repr=False)
    uid: str = ""
    callsign: str = ""


def parse_auth(data: bytes) -> Credentials:
    """The credentials of one `<auth>` element (hardened XML, as events are); CotError says why
    it is refused, in words that never quote the input (it holds a password)."""
    if len(data) > MAX_AUTH_BYTES:
        raise CotError(f"an <auth> element larger than {MAX_AUTH_BYTES} bytes")
    root = parse_xml(data, mark_depth=0).root
    if root.tag != AUTH_TAG:
        raise CotError("the root element is not <auth>")
    cot = root.find("cot")
    if cot is None:
        raise CotError("an <auth> without <cot>")
    username, password = cot.get("username", ""), cot.get("password")
    if not username.strip() or password is None:
        raise CotError("an <auth> whose <cot> lacks username or password")
    uid, callsign = cot.get("uid", ""), cot.get("callsign", "")
    if any(len(value) > MAX_FIELD for value in (username, password, uid, callsign)):
        raise CotError(f"an <auth> with a value longer than {MAX_FIELD} characters")
    return Credentials(username.strip(), password, uid, callsign)


def serialise_auth(credentials: Credentials) -> bytes:
    """The `<auth>` element a client sends first (for `kyodo cot send` and tests)."""
    values = [("username", credentials.username), ("password", credentials.password)]
    values += [
        (n, v) for n, v in (("uid", credentials.uid), ("callsign", credentials.callsign)) if v
    ]
    attributes = "".join(f' {name}="{xmltext.attribute(value)}"' for name, value in values)
    return f"<auth><cot{attributes}/></auth>".encode()
