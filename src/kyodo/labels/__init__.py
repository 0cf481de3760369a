"""Security labels: schemes, the Label lattice, markings, JSON and 4774 XML (pure, no I/O)."""

from kyodo.labels.codec import label_from_json, label_to_dict, nation_list
from kyodo.labels.label import Label, join_all
from kyodo.labels.marking import parse_marking, render_marking
from kyodo.labels.registry import SchemeRegistry
from kyodo.labels.scheme import Category, CategoryKind, Level, Scheme, scheme_from_mapping
from kyodo.labels.stanag import label_from_element, label_from_xml, label_to_element, label_to_xml

__all__ = [
    "Category",
    "CategoryKind",
    "Label",
    "Level",
    "Scheme",
    "SchemeRegistry",
    "join_all",
    "label_from_element",
    "label_from_json",
    "label_from_xml",
    "label_to_dict",
    "label_to_element",
    "label_to_xml",
    "nation_list",
    "parse_marking",
    "render_marking",
    "scheme_from_mapping",
]
