"""`hoidap serve`: one process serving the chat (ui.app) and the HTTP API (rag.doors.api) over one Service, behind one
policy (rag.doors.guard): an open non-loopback host is refused before anything is built, the chat's login is the
configured user or, with only API keys configured, any name with a key as its password."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from pathlib import Path

from rag.doors.api import check_serving, create_app, guarded, is_loopback
from rag.doors.guard import key_accepted
from rag.service import Service, setup_tracing


class KeyLogins:
    """The chat's login when only API keys are configured: any user name with a key as the password; a name
    belongs to the key that first logged in with it (kept in the data directory), so another key holder
    cannot open that name's conversations."""

    def __init__(self, home, keys: list[str]):
        self.path = Path(home) / "logins.json"
        self.keys = keys
        self._lock = threading.Lock()

    def __call__(self, user: str, password: str) -> bool:
        if not user or not key_accepted(password, self.keys):
            return False
        tag = hashlib.sha256(password.encode()).hexdigest()
        with self._lock:
            owners = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
            if user not in owners:
                owners[user] = tag
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text(json.dumps(owners), encoding="utf-8")
            return hmac.compare_digest(owners[user], tag)


class Server:
    """A running `hoidap serve` (uvicorn in a thread when not blocking): `.url`, `.close()`."""

    def __init__(self, app, host: str, port: int):
        import uvicorn

        self.url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        self._thread: threading.Thread | None = None

    def wait(self) -> None:
        """Until the server stops (Ctrl+C stops it)."""
        try:
            while self._thread and self._thread.is_alive():
                self._thread.join(1)
        except KeyboardInterrupt:
            self.close()

    def start(self) -> "Server":
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="hoidap-serve")
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the server could not start on {self.url}")
            self._thread.join(0.05)
        return self

    def close(self) -> None:
        self._server.should_exit = True
        if self._thread:
            self._thread.join(10)


def app(svc: Service, host: str, auth: str | None = None, llm: str | None = None):
    """The ASGI app: the HTTP API with the chat mounted at /, both behind the same policy.  `auth` (user:pass)
    overrides the settings' login."""
    from ui.app import build_app, mount

    s = svc.settings
    auth = auth if auth is not None else s.auth
    login = check_serving(host, auth, s.api_keys)
    if login is None and s.api_keys and not is_loopback(host):
        login = KeyLogins(s.home, s.api_keys)
    return guarded(mount(create_app(svc), build_app(svc, llm=llm), login, s.upload_max_mb), svc, host=host, auth=auth)


def serve(comp, llm: str | None = None, *, host: str | None = None, port: int | None = None,
          block: bool = True, auth: str | None = None) -> Server:
    """Refuse an open non-loopback host before building anything, then serve the chat and the HTTP API."""
    s = comp.settings
    host = host or s.host
    check_serving(host, auth if auth is not None else s.auth, s.api_keys)
    # the chat's uploads land in the data directory, not in /tmp/gradio (read when the app is built)
    os.environ["GRADIO_TEMP_DIR"] = str(Path(s.home).resolve() / "tmp" / "gradio")
    setup_tracing(s.otlp_endpoint)
    server = Server(app(Service(comp), host, auth, llm), host, port if port is not None else s.port).start()
    if block:
        print(f"hoidap: chat on {server.url}, API on {server.url}v1 (schema: {server.url}docs)", flush=True)
        server.wait()
    return server
