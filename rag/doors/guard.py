"""What every HTTP request meets before the app reads a byte of its body (docs/security.md).

An ASGI middleware around the whole server (API and chat): a cross-site state-changing request to a
loopback server is refused; on the protected paths (the API and its schema pages) the key or login is
checked, then the declared size, and a body sent without a length (chunked) is cut off at the limit.
FastAPI reads a request's body before running its dependencies, so none of this can be a dependency.
"""
from __future__ import annotations

import base64
import hmac
import json
from urllib.parse import urlsplit

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _json(status: int, message: str, code: str) -> tuple[int, bytes]:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return status, json.dumps({"error": {"message": message, "type": kind, "code": code}},
                              ensure_ascii=False).encode()


def key_accepted(cred: str, keys: list[str]) -> bool:
    """Constant-time comparison with every key (no early exit that would time which key matched)."""
    ok = False
    for k in keys:
        ok |= hmac.compare_digest(cred.encode(), k.encode())
    return ok


def basic_accepted(cred: str, login: tuple[str, str] | None) -> bool:
    if not login:
        return False
    try:
        user, _, pw = base64.b64decode(cred, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return hmac.compare_digest(user.encode(), login[0].encode()) & hmac.compare_digest(pw.encode(),
                                                                                        login[1].encode())


class Guard:
    """`protected`: path prefixes that need the key (when `required`) and get the body limits."""

    def __init__(self, app, *, keys: list[str], login: tuple[str, str] | None, required: bool, loopback: bool,
                 allowed_origins: list[str], json_limit: int, upload_limit: int,
                 protected: tuple[str, ...] = ("/v1", "/docs", "/redoc", "/openapi.json")):
        self.app, self.keys, self.login, self.required = app, keys, login, required
        self.loopback, self.allowed_origins = loopback, set(allowed_origins)
        self.json_limit, self.upload_limit, self.protected = json_limit, upload_limit, protected

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal:
            return await _respond(send, *refusal)
        if not scope["path"].startswith(self.protected):
            return await self.app(scope, receive, send)
        multipart = headers.get("content-type", "").startswith("multipart/")
        limit = self.upload_limit if multipart else self.json_limit
        await _Bounded(self.app, limit, "upload" if multipart else "request body")(scope, receive, send)

    def _refusal(self, scope, headers: dict) -> tuple[int, bytes] | None:
        if self.loopback and scope["method"] not in SAFE_METHODS and not self._same_origin(headers):
            return _json(403, f"cross-site request refused: origin {headers.get('origin')} is not this server "
                              "(allow it with cors_origins)", "cross_origin")
        if not scope["path"].startswith(self.protected):
            return None
        if self.required:
            scheme, _, cred = headers.get("authorization", "").partition(" ")
            if not cred:
                return _json(401, "this server needs an API key: send the header 'Authorization: Bearer <key>' "
                                  "(keys come from --api-key or HOIDAP_API_KEYS)", "missing_api_key")
            if not ((scheme.lower() == "bearer" and key_accepted(cred, self.keys))
                    or (scheme.lower() == "basic" and basic_accepted(cred, self.login))):
                return _json(403, "this API key (or login) is not accepted by this server", "invalid_api_key")
        length = headers.get("content-length", "")
        limit = self.upload_limit if headers.get("content-type", "").startswith("multipart/") else self.json_limit
        if length.isdigit() and int(length) > limit:
            return _json(413, f"request too large: {int(length) / 1e6:.1f} MB (at most {limit / 1e6:g} MB)",
                         "request_too_large")
        return None

    def _same_origin(self, headers: dict) -> bool:
        """No Origin (curl, SDKs) or this server's own; a browser on another site sends its own origin."""
        origin = headers.get("origin")
        if origin is None:
            return True
        return origin in self.allowed_origins or urlsplit(origin).netloc == headers.get("host", "")


class _Bounded:
    """Passes the body through and, past `limit` bytes (a chunked body declares no length), answers 413
    and tells the app the client left."""

    def __init__(self, app, limit: int, what: str):
        self.app, self.limit, self.what = app, limit, what

    async def __call__(self, scope, receive, send):
        seen, cut = 0, False

        async def bounded_receive():
            nonlocal seen, cut
            if cut:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    cut = True
                    await _respond(send, *_json(413, f"{self.what} too large: more than {self.limit / 1e6:g} MB",
                                                "request_too_large"))
                    return {"type": "http.disconnect"}
            return msg

        async def guarded_send(msg):
            if not cut:  # once the 413 is sent, the app's own answer (an error about the lost client) is dropped
                await send(msg)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except Exception:
            if not cut:
                raise


async def _respond(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
