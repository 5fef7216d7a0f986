"""The project's tests: they start a local HTTP server, as real suites do."""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import app  # noqa: E402


class NameService(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"name": "cordon"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_greets_what_the_local_service_names():
    server = ThreadingHTTPServer(("127.0.0.1", 0), NameService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert app.fetch_greeting(url) == "hello, cordon"
    finally:
        server.shutdown()


def test_home_is_the_sandboxs_own():
    home = os.environ["HOME"]
    with open(os.path.join(home, "scratch"), "w") as f:
        f.write("the sandbox's home is writable and private")
    assert home == "/tmp/home"
