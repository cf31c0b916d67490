"""A throwaway HTTPS server on loopback for tests/unit/test_safe_fetch.c.

The C test needs one TLS hop to show that an https-only fetch refuses a
redirect to http:// before connecting to it. Usage:

    /usr/bin/python3 test_safe_fetch_server.py REDIRECT_TARGET

It makes a self-signed certificate for IP 127.0.0.1 (openssl CLI) in a
temporary directory, serves HTTPS on 127.0.0.1 at an ephemeral port, prints
"PORT CAFILE" on one line, and runs until its stdin is closed.

  GET /ok        -> 200 "hello-tls" (image/png)
  GET /redirect  -> 302 Location: REDIRECT_TARGET
"""
import http.server
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/ok":
            body = b"hello-tls"
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
        elif self.path == "/redirect":
            body = b""
            self.send_response(302)
            self.send_header("Location", self.server.redirect_target)
        else:
            body = b"not found"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: test_safe_fetch_server.py REDIRECT_TARGET")
    tmp = tempfile.mkdtemp(prefix="safe_fetch_tls.")
    try:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
             "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.redirect_target = sys.argv[1]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(server.server_address[1], cert, flush=True)
        sys.stdin.read()  # the test closes our stdin when it is done
        server.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
