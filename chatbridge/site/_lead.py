"""``wpaicg_submit_lead``: the chat's lead form (guest action since plugin 1.8.87).

Generation ``"2.2"`` follows the 1.8.91+ handler: ``check_admin_referer('wpaicg-chatbox',
'_wpnonce')`` (nonce from ``$_REQUEST``; a failure is the same 403 text as the chat's), fields
from ``$_POST``, replies through ``wp_send_json_success`` / ``wp_send_json_error``.
"""

from __future__ import annotations

import re

from aiohttp import web

from ._call import Call
from ._legacy import expired_text
from ._nonce import CHAT_ACTION
from ._php import sanitize_text_field
from ._state import SiteState

LEAD_ACTION = "wpaicg_submit_lead"
_EMAIL_LOCAL = re.compile(r"[^a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-]")
_EMAIL_LABEL = re.compile(r"[^a-z0-9-]")


def sanitize_email(text: str) -> str:
    """WordPress ``sanitize_email``, in short: ``""`` unless it looks like local@domain.tld."""
    text = text.strip()
    if len(text) < 6 or text.count("@") != 1:
        return ""
    local, domain = text.split("@")
    local = _EMAIL_LOCAL.sub("", local)
    labels = [_EMAIL_LABEL.sub("", label.lower()).strip("-") for label in domain.split(".")]
    labels = [label for label in labels if label]
    if not local or len(labels) < 2:
        return ""
    return local + "@" + ".".join(labels)


def handle_lead(state: SiteState, call: Call) -> web.Response:
    """Record a lead (name, email, phone) against a chat message id."""
    nonce = call.post.get("_wpnonce", call.query.get("_wpnonce"))
    if not state.clock.verify(nonce, CHAT_ACTION):
        state.stats.nonce_failures += 1
        return call.reply(expired_text(call.request).encode(), status=403)
    post = call.post
    name = sanitize_text_field(post.get("lead_name", ""))
    email = sanitize_email(sanitize_text_field(post.get("lead_email", "")))
    phone = sanitize_text_field(post.get("lead_phone", ""))
    chat_id = sanitize_text_field(post.get("chatId", "")).replace("wpaicg-chat-message-", "")
    if not (name or email or phone):
        return call.json({"success": False, "data": "No lead data provided."})
    if not chat_id:
        return call.json({"success": False, "data": "Chat ID is missing."})
    state.leads.append({"chat_id": chat_id, "name": name, "email": email, "phone": phone})
    return call.json({"success": True, "data": "Lead data submitted successfully."})
