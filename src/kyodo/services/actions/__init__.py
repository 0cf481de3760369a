"""Coordination actions: created, edited and moved along their machine (`lifecycle`), staffed
(`coordination`), read and listed through each reader's labels (`reads`, `views`, `query`)."""

from kyodo.services.actions.coordination import (
    add_comment,
    concur,
    decide_comment,
    escalate,
    sign,
)
from kyodo.services.actions.lifecycle import NewAction, create_action, edit_fields, transition
from kyodo.services.actions.query import ActionQuery
from kyodo.services.actions.reads import ActionPage, get_action, list_actions
from kyodo.services.actions.views import ActionDetail, ActionSeen, CommentSeen, FieldSeen

__all__ = [
    "ActionDetail",
    "ActionPage",
    "ActionQuery",
    "ActionSeen",
    "CommentSeen",
    "FieldSeen",
    "NewAction",
    "add_comment",
    "concur",
    "create_action",
    "decide_comment",
    "edit_fields",
    "escalate",
    "get_action",
    "list_actions",
    "sign",
    "transition",
]
