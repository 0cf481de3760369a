"""Rules from a TOML document (text or parsed mapping); format in docs/spillage-rules.md."""

from __future__ import annotations

import re
import tomllib
from typing import TYPE_CHECKING, Any, Final

from kyodo.errors import GuardRulesError
from kyodo.labels import CategoryKind
from kyodo.spillage.detectors import DETECTORS
from kyodo.spillage.markings import MarkingFinder
from kyodo.spillage.rules import (
    CombinationRule,
    DetectorRule,
    MarkingRule,
    ModelRule,
    PatternRule,
    ProximityRule,
    Requirement,
    Rule,
    RuleSet,
    Unit,
)
from kyodo.spillage.signals import Context, Signal
from kyodo.spillage.terms import LIST_PREFIX, compile_terms

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kyodo.labels import SchemeRegistry
    from kyodo.spillage.model import WordModel
    from kyodo.spillage.terms import TermSet

FORMAT_VERSION: Final = 2
VERSIONS: Final = (1, 2)  # version 1 files (no signals, contexts nor combinations) still load
_V2_KEYS: Final = frozenset({"signals", "context"})
_TOP_KEYS: Final = frozenset({"version", "extends", "disable", "lists", "rules"}) | _V2_KEYS
SHIPPED: Final = "shipped"
_COMMON: Final = frozenset({"id", "name", "name_ja", "description", "description_ja", "kind"})
_LEVEL: Final = frozenset({"level", "categories", "strength", "explain", "explain_ja"})
_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "pattern": _COMMON | _LEVEL | {"pattern"},
    "proximity": _COMMON | _LEVEL | {"terms", "near", "within", "unit", "unless"},
    "detector": _COMMON | _LEVEL | {"detector"},
    "combination": _COMMON | _LEVEL | {"needs", "within", "at_least"},
    "model": _COMMON | _LEVEL | {"model", "threshold", "needs", "at_least"},
    "marking": _COMMON,
}
_V2_RULE_KEYS: Final = frozenset({"strength", "explain", "explain_ja"})
_SIGNAL_KEYS: Final = frozenset({"name", "name_ja", "terms"})
_CONTEXT_KEYS: Final = frozenset({"name", "name_ja", "lowers", "terms"})
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


def rules_from_toml(
    text: str,
    registry: SchemeRegistry,
    *,
    origin: str = "rules",
    shipped: str | None = None,
    models: Mapping[str, WordModel] | None = None,
) -> RuleSet:
    """Rules from TOML text; `shipped` is the shipped rules' TOML, for `extends = "shipped"`;
    `models` the learned models a `kind = "model"` rule may name (None: such rules are left out,
    e.g. to read a rules file without the package's model; a name not in `models` is an error)."""
    base = None if shipped is None else _loads(shipped, "shipped rules")
    return rules_from_mapping(
        _loads(text, origin), registry, origin=origin, shipped=base, models=models
    )


def _loads(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GuardRulesError(f"{origin}: not valid TOML: {exc}") from None


def rules_from_mapping(
    data: Mapping[str, Any],
    registry: SchemeRegistry,
    *,
    origin: str = "rules",
    shipped: Mapping[str, Any] | None = None,
    models: Mapping[str, WordModel] | None = None,
) -> RuleSet:
    """Rules from a parsed document; GuardRulesError names the file, the rule and the key."""
    _check_document(data, origin)
    if "extends" in data:
        if data["extends"] != SHIPPED:
            raise GuardRulesError(f'{origin}: extends must be "{SHIPPED}", not {data["extends"]!r}')
        if shipped is None:
            raise GuardRulesError(f"{origin}: extends the shipped rules, which were not given")
        _check_document(shipped, "shipped rules")
        lists, raw_rules = _merge(shipped, data, origin)
        raw_signals = _merge_tables(shipped.get("signals", {}), data.get("signals", {}))
        raw_contexts = _merge_tables(shipped.get("context", {}), data.get("context", {}))
    else:
        if "disable" in data:
            raise GuardRulesError(f'{origin}: disable only makes sense with extends = "{SHIPPED}"')
        lists, raw_rules = dict(data.get("lists", {})), list(data.get("rules", ()))
        raw_signals = dict(data.get("signals", {}))
        raw_contexts = dict(data.get("context", {}))
    signals = {
        name: _signal(name, raw, lists, f"{origin}: signal {name!r}")
        for name, raw in raw_signals.items()
    }
    contexts = tuple(
        _context(name, raw, lists, f"{origin}: context {name!r}")
        for name, raw in raw_contexts.items()
    )
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        if models is None and raw.get("kind") == "model":
            continue
        rule = _rule(raw, index, lists, registry, origin, signals, models)
        if rule.id in seen:
            raise GuardRulesError(f"{origin}: two rules have the id {rule.id!r}")
        seen.add(rule.id)
        rules.append(rule)
    return RuleSet(tuple(rules), signals, contexts)


def _merge_tables(shipped: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Shipped signals or contexts; the file's terms add to one of the same name, or define it."""
    merged = {name: dict(raw) for name, raw in shipped.items()}
    for name, raw in data.items():
        if name in merged:
            base = merged[name]
            merged[name] = {**base, **raw, "terms": [*base.get("terms", []), *raw.get("terms", [])]}
        else:
            merged[name] = dict(raw)
    return merged


def _table(raw: object, keys: frozenset[str], where: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise GuardRulesError(f"{where}: must be a table")
    unknown = set(raw) - keys
    if unknown:
        raise GuardRulesError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(keys))}"
        )
    return raw


def _signal(name: str, raw: object, lists: Mapping[str, list[str]], where: str) -> Signal:
    table = _table(raw, _SIGNAL_KEYS, where)
    if not _ID.match(name):
        raise GuardRulesError(f"{where}: a signal's name must be letters, digits, '-', '_' or '.'")
    return Signal(
        name,
        _text(table, "name", where),
        _text(table, "name_ja", where, default=""),
        _terms(table, "terms", lists, where),
    )


def _context(name: str, raw: object, lists: Mapping[str, list[str]], where: str) -> Context:
    table = _table(raw, _CONTEXT_KEYS, where)
    lowers = table.get("lowers")
    if not isinstance(lowers, int) or isinstance(lowers, bool) or lowers < 1:
        raise GuardRulesError(f"{where}: lowers must be a whole number ≥ 1")
    return Context(
        name,
        _text(table, "name", where),
        _text(table, "name_ja", where, default=""),
        lowers,
        _terms(table, "terms", lists, where),
    )


def _check_document(data: Mapping[str, Any], origin: str) -> None:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise GuardRulesError(
            f"{origin}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_TOP_KEYS))}"
        )
    version = data.get("version", 1)
    if version not in VERSIONS:
        raise GuardRulesError(
            f"{origin}: version {version!r} is not one this Kyodo reads "
            f"({', '.join(map(str, VERSIONS))})"
        )
    for table in ("signals", "context"):
        if not isinstance(data.get(table, {}), dict):
            raise GuardRulesError(f"{origin}: [{table}] must be a table of named tables")
    lists = data.get("lists", {})
    if not isinstance(lists, dict):
        raise GuardRulesError(f"{origin}: [lists] must be a table of term lists")
    for name, terms in lists.items():
        _strings(terms, f"{origin}: list {name!r}")
    rules = data.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise GuardRulesError(f"{origin}: rules must be an array of tables ([[rules]])")
    _strings(data.get("disable", []), f"{origin}: disable")
    if version == 1:
        newer = sorted(_V2_KEYS & set(data)) + sorted(
            f"{key} (rule {r.get('id')!r})"
            for r in rules
            if isinstance(r, dict)
            for key in (_V2_RULE_KEYS & set(r))
            | ({"kind"} if r.get("kind") in ("combination", "model") else set())
        )
        if newer:
            raise GuardRulesError(
                f"{origin}: {', '.join(newer)} need version = 2 (signals, contexts, combination "
                "rules, strength and explanations came with it)"
            )


def _merge(
    shipped: Mapping[str, Any], data: Mapping[str, Any], origin: str
) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """Shipped lists extended by the file's, shipped rules replaced by id, disabled ones gone."""
    lists = {name: list(terms) for name, terms in shipped.get("lists", {}).items()}
    for name, terms in data.get("lists", {}).items():
        lists[name] = [*lists.get(name, []), *terms]
    rules = [dict(r) for r in shipped.get("rules", [])]
    shipped_ids = [str(r.get("id")) for r in rules]
    for rule_id in data.get("disable", []):
        if rule_id not in shipped_ids:
            raise GuardRulesError(f"{origin}: disable names {rule_id!r}, not a shipped rule")
    disabled = set(data.get("disable", []))
    rules = [r for r in rules if str(r.get("id")) not in disabled]
    for raw in data.get("rules", []):
        position = next((i for i, r in enumerate(rules) if r.get("id") == raw.get("id")), None)
        if position is None:
            rules.append(dict(raw))
        else:
            rules[position] = dict(raw)
    return lists, rules


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GuardRulesError(f"{where}: expected a list of strings")
    return list(value)


def _text(raw: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or (not value.strip() and default is None):
        raise GuardRulesError(f"{where}: {key} must be a non-empty string")
    return value


def _rule(
    raw: Mapping[str, Any],
    index: int,
    lists: Mapping[str, list[str]],
    registry: SchemeRegistry,
    origin: str,
    signals: Mapping[str, Signal] | None = None,
    models: Mapping[str, WordModel] | None = None,
) -> Rule:
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise GuardRulesError(
            f"{origin}: rule #{index + 1}: id must be letters, digits, '-', '_' or '.', "
            f"got {rule_id!r}"
        )
    where = f"{origin}: rule {rule_id!r}"
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise GuardRulesError(f"{where}: kind must be one of {', '.join(_KEYS)}, not {kind!r}")
    unknown = set(raw) - _KEYS[kind]
    if unknown:
        raise GuardRulesError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} for kind {kind!r}"
        )
    name = _text(raw, "name", where)
    name_ja = _text(raw, "name_ja", where, default="")
    description = _text(raw, "description", where, default="")
    _text(raw, "description_ja", where, default="")  # documentation only, as `description`
    if kind == "marking":
        return MarkingRule(rule_id, name, description, MarkingFinder(registry), name_ja)
    requirement = _requirement(raw, registry, where)
    strength = raw.get("strength", 1)
    if not isinstance(strength, int) or isinstance(strength, bool) or strength < 1:
        raise GuardRulesError(f"{where}: strength must be a whole number ≥ 1")
    words = (
        strength,
        _text(raw, "explain", where, default=""),
        _text(raw, "explain_ja", where, default=""),
    )
    if kind == "combination":
        return CombinationRule(
            rule_id,
            name,
            description,
            requirement,
            _needs(raw, signals or {}, where),
            _within(raw, where, required=False),
            name_ja,
            *words,
            _at_least(raw, where),
        )
    if kind == "model":
        name_of_model = _text(raw, "model", where)
        model = (models or {}).get(name_of_model)
        if model is None:
            raise GuardRulesError(
                f"{where}: model {name_of_model!r} is not available "
                f"(available: {', '.join(sorted(models or {})) or 'none'})"
            )
        threshold = raw.get("threshold")
        if threshold is not None and (
            not isinstance(threshold, int | float)
            or isinstance(threshold, bool)
            or not 0 < threshold < 1
        ):
            raise GuardRulesError(f"{where}: threshold must be a number between 0 and 1")
        return ModelRule(
            rule_id,
            name,
            description,
            requirement,
            model,
            name_ja,
            *words,
            None if threshold is None else float(threshold),
            {s.id: s.name for s in (signals or {}).values()},
            _needs(raw, signals or {}, where) if "needs" in raw else (),
            _at_least(raw, where),
        )
    if kind == "pattern":
        source = _text(raw, "pattern", where)
        try:
            pattern = re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise GuardRulesError(f"{where}: pattern is not a valid regex: {exc}") from None
        if pattern.match("") is not None:
            raise GuardRulesError(f"{where}: pattern matches the empty string")
        return PatternRule(rule_id, name, description, requirement, pattern, name_ja, *words)
    if kind == "detector":
        detector = _text(raw, "detector", where)
        if detector not in DETECTORS:
            raise GuardRulesError(
                f"{where}: unknown detector {detector!r}; known: {', '.join(sorted(DETECTORS))}"
            )
        return DetectorRule(rule_id, name, description, requirement, detector, name_ja, *words)
    within = _within(raw, where, required=True)
    if within is None:  # required: _within has raised already; this keeps the type narrow
        raise GuardRulesError(f"{where}: within is missing")
    try:
        unit = Unit(raw.get("unit", Unit.CHARS.value))
    except ValueError:
        raise GuardRulesError(f"{where}: unit must be 'chars' or 'words'") from None
    unless = _terms(raw, "unless", lists, where) if "unless" in raw else None
    return ProximityRule(
        rule_id,
        name,
        description,
        requirement,
        _terms(raw, "terms", lists, where),
        _terms(raw, "near", lists, where),
        within,
        unit,
        unless,
        name_ja,
        *words,
    )


def _at_least(raw: Mapping[str, Any], where: str) -> int | None:
    if "at_least" not in raw:
        return None
    value = raw["at_least"]
    groups = len(raw.get("needs", []))
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= groups:
        raise GuardRulesError(
            f"{where}: at_least must be a whole number from 1 to the number of needs ({groups})"
        )
    return value


def _within(raw: Mapping[str, Any], where: str, *, required: bool) -> int | None:
    if "within" not in raw and not required:
        return None
    within = raw.get("within")
    if not isinstance(within, int) or isinstance(within, bool) or within < 0:
        raise GuardRulesError(f"{where}: within must be a whole number ≥ 0")
    return within


def _needs(
    raw: Mapping[str, Any], signals: Mapping[str, Signal], where: str
) -> tuple[tuple[str, ...], ...]:
    """`needs = ["time", "weapon|platform"]`: every item must occur; `|` is "any of"."""
    if "needs" not in raw:
        raise GuardRulesError(f"{where}: needs is missing")
    items = _strings(raw["needs"], f"{where}: needs")
    if not items:
        raise GuardRulesError(f"{where}: needs names no signal")
    groups = []
    for item in items:
        group = tuple(part.strip() for part in item.split("|"))
        for signal in group:
            if signal not in signals:
                raise GuardRulesError(
                    f"{where}: needs names the signal {signal!r}, which [signals] does not define"
                    + (f" (defined: {', '.join(sorted(signals))})" if signals else "")
                )
        groups.append(group)
    return tuple(groups)


def _terms(raw: Mapping[str, Any], key: str, lists: Mapping[str, list[str]], where: str) -> TermSet:
    if key not in raw:
        raise GuardRulesError(f"{where}: {key} is missing")
    expanded: list[str] = []
    for term in _strings(raw[key], f"{where}: {key}"):
        if term.startswith(LIST_PREFIX):
            name = term[len(LIST_PREFIX) :]
            if name not in lists:
                raise GuardRulesError(
                    f"{where}: {key} names the list {term!r}, which [lists] does not define"
                )
            expanded.extend(lists[name])
        else:
            expanded.append(term)
    return compile_terms(expanded, f"{where}: {key}")


def _requirement(raw: Mapping[str, Any], registry: SchemeRegistry, where: str) -> Requirement:
    level_name = _text(raw, "level", where)
    found = [
        (scheme, level)
        for scheme in registry.search_order()
        if (level := scheme.find_level(level_name)) is not None
    ]
    if not found:
        raise GuardRulesError(
            f"{where}: unknown level {level_name!r} (a level of a loaded scheme, "
            "e.g. CONFIDENTIAL, SECRET, 秘, 極秘)"
        )
    if len({level.rank for _, level in found}) > 1:
        raise GuardRulesError(f"{where}: level {level_name!r} means different ranks in schemes")
    scheme, level = found[0]
    categories: set[str] = set()
    for token in _strings(raw.get("categories", []), f"{where}: categories"):
        owners = [scheme, *(s for s in registry.search_order() if s is not scheme)]
        category = next(
            (
                c
                for s in owners
                if (c := s.find_category(token)) is not None and c.kind is CategoryKind.RESTRICTIVE
            ),
            None,
        )
        if category is None:
            raise GuardRulesError(f"{where}: {token!r} is not a restrictive category of a scheme")
        if not category.allowed_at(level.rank):
            raise GuardRulesError(f"{where}: category {category.id} is not allowed at {level.id}")
        categories.add(category.id)
    return Requirement(level_name, level.rank, scheme.policy, level.id, frozenset(categories))
