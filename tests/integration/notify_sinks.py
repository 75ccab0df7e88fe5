"""Where notification tests send to: a real SMTP server (aiosmtpd) and an HTTP receiver for
webhooks, both on 127.0.0.1."""

import email
import email.policy
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from aiosmtpd.controller import Controller
except ImportError:
    # Debian's python3-aiosmtpd (scripts/install-deps.sh) lives in the system's dist-packages,
    # which another Python 3 found first on PATH (e.g. pyenv) does not search.
    sys.path.append("/usr/lib/python3/dist-packages")
    from aiosmtpd.controller import Controller

from harness import free_port

# What the webhook services answer on success (DingTalk errcode, Feishu code, Slack ok).
OK_REPLY = (200, '{"errcode": 0, "code": 0, "ok": true}')


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self):
        self.port = free_port("127.0.0.1")
        self.messages = []  # (mail from, envelope recipients, email.message.EmailMessage)
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address):
        with self.lock:
            return [m for (_, rcpts, m) in self.messages if address in rcpts]


class HookReceiver:
    """An HTTP server on 127.0.0.1 that answers every POST with `reply` (status, text) and
    records (path, JSON body) of those it answers with 200."""

    def __init__(self):
        self.port = free_port("127.0.0.1")
        self.url = "http://127.0.0.1:%d" % self.port
        self.posts = []
        self.reply = OK_REPLY
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, text = receiver.reply
                if status == 200:
                    with receiver.lock:
                        receiver.posts.append((self.path, json.loads(body)))
                out = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if text.startswith("{")
                                 else "text/plain")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def at(self, path):
        with self.lock:
            return [body for (p, body) in self.posts if p == path]
