"""The Web API methods of the Slack stand-in (simulator/slack_standin.py), answered the way Slack
answers them: messages must exist to be edited, views need a fresh single-use trigger_id and
the current hash, uploads go through Slack's three steps. No HTTP here: the stand-in's server
reads the request, looks the method up in METHODS and sends back what it returns.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class StoredFile:
    file_id: str
    name: str
    content: bytes
    filetype: str
    mimetype: str


@dataclass
class PendingUpload:
    """A file announced by files.getUploadURLExternal; `content` once its bytes came."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None


@dataclass
class StoredMessage:
    channel: str
    ts: str
    body: dict[str, Any]


class WebApiMethods:
    """The answers of the Web API methods, mixed into SlackStandIn (which holds the state and
    decides who is known: `_channel_name`, `_user_profile`, `_trigger_issued`)."""

    team_id: str
    team_name: str
    team_url: str
    bot_user_id: str
    bot_id: str
    base_url: str
    files: dict[str, StoredFile]
    file_shares: dict[str, dict[str, Any]]
    messages: dict[tuple[str, str], StoredMessage]
    open_views: set[str]
    views: dict[str, dict[str, Any]]
    _uploads: dict[str, PendingUpload]
    _external_ids: dict[str, str]
    _used_triggers: set[str]
    _seq: itertools.count[int]
    _last_ts_us: int

    def _next_ts(self) -> str:
        """Slack's "seconds.micros" message id: now, strictly increasing."""
        us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": self.team_url,
            "team": self.team_name,
            "user": "dialer-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _known_channel(self, channel: str) -> bool:
        """A channel, or a user id (Slack opens the DM)."""
        return bool(channel) and (
            self._channel_name(channel) is not None or self._user_profile(channel) is not None
        )

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not self._known_channel(channel):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        body = self._message(args, ts)
        self.messages[(channel, ts)] = StoredMessage(channel, ts, body)
        return {"ok": True, "channel": channel, "ts": ts, "message": body}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self._known_channel(str(args.get("channel") or "")):
            return {"ok": False, "error": "channel_not_found"}
        user = str(args.get("user") or "")
        if not user or self._user_profile(user) is None:
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args.get("channel") or ""), str(args.get("ts") or ""))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        body = self._message(args, key[1])
        self.messages[key].body = body
        return {"ok": True, "channel": key[0], "ts": key[1], "text": body["text"], "message": body}

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args.get("channel") or ""), str(args.get("ts") or ""))
        if self.messages.pop(key, None) is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "team": self.team_id,
            "ts": ts,
            "text": args.get("text", ""),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in args:
                body[key] = args[key]
        return body

    def _take_trigger(self, args: dict[str, Any]) -> bool:
        """A trigger_id works once (Slack's expire after 3 s; nothing here runs that slowly)."""
        trigger = str(args.get("trigger_id") or args.get("interactivity_pointer") or "")
        if not trigger or trigger in self._used_triggers or not self._trigger_issued(trigger):
            return False
        self._used_triggers.add(trigger)
        return True

    def _views_open(self, args: dict[str, Any], *, push: bool = False) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if not self._take_trigger(args):
            return {"ok": False, "error": "invalid_trigger_id"}
        if push and not self.open_views:
            return {"ok": False, "error": "not_found"}  # push needs a modal to stack on
        return {"ok": True, "view": self.register_view(view)}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._views_open(args, push=True)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = args.get("view_id") or self._external_ids.get(str(args.get("external_id") or ""))
        current = self.views.get(str(view_id or ""))
        if current is None or (view_id not in self.open_views and current.get("type") != "home"):
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self.register_view(view, current["id"])}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict) or not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self.register_view(view)}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user") or "")
        profile = self._user_profile(user_id) if user_id else None
        if profile is None:
            return {"ok": False, "error": "user_not_found"}
        extra = dict(profile)
        name, real_name, tz = extra.pop("name"), extra.pop("real_name"), extra.pop("tz")
        return {
            "ok": True,
            "user": {
                "id": user_id,
                "team_id": self.team_id,
                "name": name,
                "real_name": real_name,
                "tz": tz,
                "is_bot": user_id == self.bot_user_id,
                "deleted": False,
                "profile": {"real_name": real_name, "display_name": name},
                **extra,
            },
        }

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        name = self._channel_name(channel) if channel else None
        if name is None:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": name,
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith("G"),
                "is_im": channel.startswith("D"),
                "is_member": True,
            },
        }

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        f = self.files.get(str(args.get("file") or ""))
        if f is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self._file_object(f)}

    def _get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        """Step 1 of an upload: a file id and a one-time upload URL on this server."""
        filename = str(args.get("filename") or "")
        try:
            length = int(str(args.get("length")))
        except ValueError:
            length = 0
        if not filename or length <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._seq):08d}"
        self._uploads[file_id] = PendingUpload(file_id, filename, length)
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """Step 3: the uploaded files become Slack files, shared in channel_id (a thread reply
        with thread_ts), or private without a channel."""
        files = args.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            return {"ok": False, "error": "invalid_arguments"}
        if len({str(f.get("id")) for f in files}) != len(files):
            return {"ok": False, "error": "invalid_arguments"}
        channel = str(args.get("channel_id") or "")
        if channel and not self._known_channel(channel):
            return {"ok": False, "error": "channel_not_found"}
        if args.get("thread_ts") and not channel:
            return {"ok": False, "error": "invalid_arguments"}
        done: list[tuple[dict[str, Any], PendingUpload, bytes]] = []
        for f in files:
            upload = self._uploads.get(str(f.get("id") or ""))
            if upload is None or upload.content is None:  # never announced, or bytes not sent
                return {"ok": False, "error": "file_not_found"}
            done.append((f, upload, upload.content))
        out = []
        for f, upload, content in done:
            del self._uploads[upload.file_id]
            obj = self.store_file(upload.filename, content, file_id=upload.file_id)
            obj["title"] = str(f.get("title") or upload.filename)
            if channel:
                self.file_shares[upload.file_id] = {
                    "channel_id": channel,
                    "thread_ts": args.get("thread_ts"),
                }
            out.append(obj)
        return {"ok": True, "files": out}

    def _complete_function(self, args: dict[str, Any]) -> dict[str, Any]:
        """functions.completeSuccess / completeError: a workflow step's run ends (recorded)."""
        if not str(args.get("function_execution_id") or ""):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _file_object(self, f: StoredFile) -> dict[str, Any]:
        return {
            "id": f.file_id,
            "created": int(time.time()),
            "name": f.name,
            "title": f.name,
            "mimetype": f.mimetype,
            "filetype": f.filetype,
            "size": len(f.content),
            "url_private": f"{self.base_url}/files/{f.file_id}",
            "url_private_download": f"{self.base_url}/files/{f.file_id}",
        }


METHODS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": WebApiMethods._auth_test,
    "chat.postMessage": WebApiMethods._post_message,
    "chat.postEphemeral": WebApiMethods._post_ephemeral,
    "chat.update": WebApiMethods._update,
    "chat.delete": WebApiMethods._delete,
    "views.open": WebApiMethods._views_open,
    "views.push": WebApiMethods._views_push,
    "views.update": WebApiMethods._views_update,
    "views.publish": WebApiMethods._views_publish,
    "users.info": WebApiMethods._users_info,
    "conversations.info": WebApiMethods._conversations_info,
    "files.info": WebApiMethods._files_info,
    "files.getUploadURLExternal": WebApiMethods._get_upload_url,
    "files.completeUploadExternal": WebApiMethods._complete_upload,
    "functions.completeSuccess": WebApiMethods._complete_function,
    "functions.completeError": WebApiMethods._complete_function,
}
