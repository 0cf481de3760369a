"""The answers to refused GeoChat senders: their texts in English and Japanese, and the reply."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from kyodo.cot import CotError
from kyodo.cot.chat import GeoChat
from kyodo.errors import GuardRefused, KyodoError, NotFound, PermissionDenied
from kyodo.labels import parse_marking
from kyodo.takserver.encoding import Encoded
from kyodo.takserver.geochat.events import chat_event

if TYPE_CHECKING:
    from kyodo.domain.identity import Person
    from kyodo.services.context import ServiceContext
    from kyodo.takserver.client import CotClient

SERVER_CALLSIGN = "Kyodo"
SERVER_UID = "KYODO-SERVER"

# What a refused sender is told, in English and Japanese (the person's language, else Japanese
# for Japanese nationals). Every text Kyodo writes into a GeoChat is here.
ANSWERS: dict[str, dict[str, str]] = {
    "anonymous": {
        "en": "Not delivered: this plain TCP connection is no Kyodo person, so it cannot post "
        "in nets or send direct messages. Connect with your certificate (TLS).",
        "ja": "未配信：この平文TCP接続は Kyodo の利用者に紐付いていないため、ネットへの投稿や"
        "個別メッセージはできません。証明書（TLS）で接続してください。",
    },
    "no_net": {
        "en": "Not delivered: chat room “{room}” is not linked to a Kyodo net you belong to.",
        "ja": "未配信：チャットルーム「{room}」は、あなたが所属する Kyodo のネットに対応して"
        "いません。",
    },
    "no_default": {
        "en": "Not delivered: “{room}” has no Kyodo net configured for you. Use a room "
        "named like one of your nets.",
        "ja": "未配信：「{room}」にはあなた用の Kyodo ネットが設定されていません。"
        "所属ネットと同名のルームを使ってください。",
    },
    "unknown_addressee": {
        "en": "Not delivered: {name} is not a Kyodo person you can write to.",
        "ja": "未配信：{name} は、あなたがメッセージを送れる Kyodo の利用者ではありません。",
    },
    "ambiguous": {
        "en": "Not delivered: more than one person uses the callsign {name}.",
        "ja": "未配信：コールサイン {name} を複数の利用者が使用しています。",
    },
    "addressee_label": {
        "en": "Not delivered: {name} may not read a message labelled {label}.",
        "ja": "未配信：{name} は {label} の表示があるメッセージを閲覧できません。",
    },
    "refused": {
        "en": "Not delivered: {reason}",
        "ja": "未配信：権限により拒否されました（{reason}）",
    },
    "guard": {
        "en": "Not delivered: the spillage guard refused it ({reason})",
        "ja": "未配信：情報漏えい防止ガードにより拒否されました（{reason}）",
    },
    # The guard's reasons by code (services/spillage.py), worded here as on the web.
    "guard.above_label": {
        "en": "Not delivered: the spillage guard finds this text needs at least {suggested}. "
        "Raise the label and send it again.",
        "ja": "未配信：情報漏えい防止ガードにより、この本文には{suggested}以上の区分が必要です。"
        "区分を上げて送り直してください。",
    },
    "guard.above_ceiling": {
        "en": "Not delivered: the spillage guard finds this text belongs in a {level} net, "
        "not in {net}.",
        "ja": "未配信：情報漏えい防止ガードにより、この本文は{net}ではなく{level}のネットで"
        "扱うべき内容です。",
    },
    "guard.not_for_author": {
        "en": "Not delivered: the spillage guard finds this text needs {level}, a label you may "
        "not use; it belongs in another net, not in {net}.",
        "ja": "未配信：情報漏えい防止ガードにより、この本文には{level}が必要ですが、あなたは"
        "その区分を使えません。{net}ではなく別のネットで扱ってください。",
    },
    "invalid": {
        "en": "Not delivered: {reason}",
        "ja": "未配信：{reason}",
    },
}


def answer_text(key: str, language: str, **values: str) -> str:
    """The answer `key` in `language` ("en" or "ja"), with its values filled in."""
    texts = ANSWERS[key]
    return texts.get(language, texts["en"]).format(**values)


def language_of(person: Person | None) -> str:
    """The language a person reads answers in: their chosen one, else Japanese for Japanese
    nationals, else English."""
    if person is not None and person.language in ("en", "ja"):
        return person.language
    return "ja" if person is not None and person.nation == "JPN" else "en"


class ChatRefused(CotError):
    """A GeoChat refused with an answer to its sender (`key` in ANSWERS, with `values`)."""

    def __init__(self, message: str, key: str, **values: str) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


def refusal(exc: KyodoError) -> tuple[str, dict[str, str]]:
    """The answer to a refusal (the bridge's own, or a service's): which text, and its values."""
    if isinstance(exc, ChatRefused):
        return exc.key, exc.values
    if isinstance(exc, GuardRefused):
        return _guard_answer(exc)
    if isinstance(exc, PermissionDenied):
        reason = "; ".join(exc.reasons) or exc.message
        return "refused", {"reason": reason}
    if isinstance(exc, NotFound):
        return "refused", {"reason": exc.message}
    return "invalid", {"reason": exc.message}


def _guard_answer(exc: GuardRefused) -> tuple[str, dict[str, str]]:
    """The guard's reason in the sender's words: labels as their markings, a level by its name."""
    if exc.reason not in ANSWERS:
        return "guard", {"reason": exc.message}
    values: dict[str, str] = {}
    for name, value in exc.params.items():
        if isinstance(value, dict):
            marking = str(value.get("marking", ""))
            values[name] = marking.split("//")[0] if name == "level" else marking
        else:
            values[name] = str(value)
    return exc.reason, values


def answer(ctx: ServiceContext, client: CotClient, chat: GeoChat, text: str) -> None:
    """A GeoChat from the server to this client alone, in the room of `chat`."""
    now = ctx.clock()
    reply = GeoChat(
        room=chat.room,
        room_id=chat.room_id,
        sender_uid=SERVER_UID,
        sender_callsign=SERVER_CALLSIGN,
        message_id=uuid.uuid4().hex,
        text=text,
    )
    event = chat_event(reply, now)
    # Unclassified: it says only what the sender's own message was refused for.
    label = parse_marking("UNCLASSIFIED", ctx.registry)
    client.offer(Encoded(event, label, ctx.registry).bytes_for(client))
