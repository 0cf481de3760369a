"""Identity: organisations, people, their passwords and certificates (the public API)."""

from kyodo.services.identity.certificates import (
    Enrolled,
    enrol_certificate,
    register_certificate,
    revoke_certificate,
)
from kyodo.services.identity.orgs import create_org, get_org, list_orgs, update_org
from kyodo.services.identity.passwords import (
    RESET_REQUEST,
    RESET_REQUEST_HOURS,
    request_password_reset,
    set_password,
)
from kyodo.services.identity.people import (
    MIN_PASSWORD_LENGTH,
    PersonChanges,
    PersonInput,
    create_person,
    find_person,
    get_person,
    list_people,
    set_language,
    update_person,
)

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "RESET_REQUEST",
    "RESET_REQUEST_HOURS",
    "Enrolled",
    "PersonChanges",
    "PersonInput",
    "create_org",
    "create_person",
    "enrol_certificate",
    "find_person",
    "get_org",
    "get_person",
    "list_orgs",
    "list_people",
    "register_certificate",
    "request_password_reset",
    "revoke_certificate",
    "set_language",
    "set_password",
    "update_org",
    "update_person",
]
