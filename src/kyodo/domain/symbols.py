"""MIL-STD-2525C symbol codes (SIDC) derived from CoT atom types such as `a-f-S-C-L-CC`.

A CoT atom type is `a-<affiliation>-<dimension>[-<function atoms>…]`; its letters were taken from
2525, so the 15-character SIDC is: `S` (warfighting), the affiliation, the battle dimension,
`P` (present), the function atoms concatenated (6 characters, `-` padded), then `-----` for the
unused size, country and order-of-battle fields. Types that are not atoms (`b-…`, `t-…`), or whose
function is longer than 6 characters, get the dimension's generic symbol; an unknown affiliation or
dimension gives the "unknown" frame. Exercise/joker/faker affiliations are kept as 2525 has them.
"""

from __future__ import annotations

_AFFILIATIONS = {
    "f": "F",
    "h": "H",
    "n": "N",
    "u": "U",
    "p": "P",
    "a": "A",
    "s": "S",
    "j": "J",
    "k": "K",
    "o": "U",
    "x": "U",
}
_DIMENSIONS = {"P": "P", "A": "A", "G": "G", "S": "S", "U": "U", "F": "F", "X": "X"}
UNKNOWN_SIDC = "SUZP-----------"


def sidc_for(cot_type: str) -> str:
    """The 2525C SIDC of a CoT type (the unknown symbol where the type is not an atom)."""
    atoms = cot_type.split("-")
    if len(atoms) < 3 or atoms[0] != "a":
        return UNKNOWN_SIDC
    affiliation = _AFFILIATIONS.get(atoms[1].lower())
    dimension = _DIMENSIONS.get(atoms[2].upper())
    if affiliation is None or dimension is None:
        return UNKNOWN_SIDC
    function = "".join(atoms[3:]).upper()
    if len(function) > 6 or (not function.isalnum() and function):
        function = ""
    return f"S{affiliation}{dimension}P{function:-<6}-----"
