#!/usr/bin/env python3
"""The quickstart's tiny HTTP service.

GET /healthz answers with the status code and delay written in the release's
own health.conf ("status = 200", "delay_ms = 0"), so a bad release is one
whose files say so. GET / answers with the VERSION file.
    server.py PORT [RELEASE_DIR]   (default: the folder of this file)
"""
import http.server
import os
import sys
import time

# not resolved: a path through a target's current link follows every switch
root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))


def conf():
    values = {"status": "200", "delay_ms": "0"}
    try:
        with open(os.path.join(root, "health.conf")) as f:
            for line in f:
                if "=" in line and not line.lstrip().startswith("#"):
                    k, v = line.split("=", 1)
                    values[k.strip()] = v.strip()
    except OSError:
        pass
    return int(values["status"]), int(values["delay_ms"])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status, delay = conf() if self.path == "/healthz" else (200, 0)
        time.sleep(delay / 1000)
        try:
            body = open(os.path.join(root, "VERSION"), "rb").read()
        except OSError:
            body = b"unknown\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
