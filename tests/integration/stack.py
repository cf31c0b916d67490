"""Starts and stops a real CleanPNG stack for integration tests: redis-server,
cleanpngd, nginx (rendered from the project's own templates) and, when asked,
the upstream fakes, all on loopback under a temporary directory.

Run with Debian's /usr/bin/python3. The binary under test comes from
CLEANPNG_BIN (ctest sets it, so the ASan build's tests test the ASan binary).
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKES = os.path.join(ROOT, "tests", "fakes")
PY = "/usr/bin/python3"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise TimeoutError("timed out waiting for " + what)


class Fake:
    """One upstream fake process (tests/fakes/*.py)."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen([PY, os.path.join(FAKES, script), "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"READY port=(\d+)", line or "")
        if not m:
            self.proc.kill()
            raise RuntimeError(f"{script} did not start: {line!r}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def call(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        out = r.read()
        c.close()
        return json.loads(out) if out else None

    def requests(self):
        return self.call("GET", "/__requests")

    def reset(self):
        self.call("POST", "/__reset", {})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)


class Stack:
    """redis + cleanpngd + nginx. env: extra CLEANPNG_* settings."""

    def __init__(self, env=None, workers=2, threads=8, redis=True, grace="5s", binary=None,
                 root=ROOT):
        """root: the checkout whose nginx templates and Redis config to use
        (benchmarks compare an older revision with its own)."""
        self.root = root
        self.dir = tempfile.mkdtemp(prefix="cleanpng-it-")
        self.http_port = free_port()
        self.https_port = free_port()
        self.socket = os.path.join(self.dir, "cleanpng.sock")
        self.redis_sock = os.path.join(self.dir, "redis.sock")
        self.daemon_log = os.path.join(self.dir, "cleanpngd.log")
        self.bin = binary or os.environ.get("CLEANPNG_BIN",
                                            os.path.join(ROOT, "build", "src", "cleanpngd"))
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "CLEANPNG_SOCKET": self.socket,
            "CLEANPNG_SOCKET_MODE": "0666",
            "CLEANPNG_REDIS_URL": "unix://" + self.redis_sock,
            "CLEANPNG_LIBRARY_DIR": os.environ.get("CLEANPNG_LIBRARY_DIR",
                                                   os.path.join(ROOT, "var", "library")),
            "CLEANPNG_WORKERS": str(workers),
            "CLEANPNG_THREADS": str(threads),
            "CLEANPNG_SHUTDOWN_GRACE": grace,
            "CLEANPNG_HTTP_PORT": str(self.http_port),
            "CLEANPNG_HTTPS_PORT": str(self.https_port),
            # generous limits: the tests about limits set their own
            "CLEANPNG_LIMIT_SEARCH": "100000/1m",
            "CLEANPNG_LIMIT_REMOVE": "100000/1m",
            "CLEANPNG_LIMIT_PRIVACY": "100000/1m",
            "CLEANPNG_LIMIT_HEALTH": "100000/1m",
            "CLEANPNG_BUDGET_UNSPLASH": "100000/1h",
            "CLEANPNG_BUDGET_REMOVEBG": "100000/1m",
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1",
        }
        self.env.update(env or {})
        self.redis_proc = None
        self.daemon = None
        self.nginx = None
        self.want_redis = redis

    # --- lifecycle -------------------------------------------------------
    def start(self):
        try:
            if self.want_redis:
                self.start_redis()
            self.start_daemon()
            self.start_nginx()
        except Exception:
            self.stop()
            raise
        return self

    def start_redis(self):
        self.redis_proc = subprocess.Popen(
            ["redis-server", os.path.join(self.root, "deploy", "redis", "local.conf"),
             "--dir", self.dir, "--unixsocket", self.redis_sock, "--daemonize", "no",
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.redis_cli("PING") == "PONG", what="redis")

    def stop_redis(self):
        if self.redis_proc and self.redis_proc.poll() is None:
            self.redis_proc.kill()
            self.redis_proc.wait()
        if os.path.exists(self.redis_sock):
            os.unlink(self.redis_sock)

    def start_daemon(self):
        self.daemon_err = open(self.daemon_log, "ab")
        self.daemon = subprocess.Popen([self.bin], env=self.env, stdout=self.daemon_err,
                                       stderr=self.daemon_err)
        wait_for(lambda: os.path.exists(self.socket) or self.daemon.poll() is not None,
                 what="cleanpngd socket")
        if self.daemon.poll() is not None:
            raise RuntimeError("cleanpngd exited at start:\n" + self.log())

    def start_nginx(self):
        env = dict(os.environ, **self.env)
        env["CLEANPNG_IMG_SRC"] = env.get("CLEANPNG_IMG_SRC", "http://127.0.0.1:*")
        subprocess.run([os.path.join(self.root, "scripts", "gen-cert"),
                        os.path.join(self.dir, "tls")],
                       check=True, stdout=subprocess.DEVNULL, env=env)
        subprocess.run([os.path.join(self.root, "scripts", "render-config"), self.dir],
                       check=True, env=env)
        conf = os.path.join(self.dir, "nginx", "nginx.conf")
        self.nginx = subprocess.Popen(["nginx", "-p", os.path.join(self.dir, "nginx"), "-c", conf],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.http_port), 0.2).close()
                return True
            except OSError:
                if self.nginx.poll() is not None:
                    raise RuntimeError("nginx failed: " + self.nginx.stderr.read().decode())
                return False
        wait_for(up, what="nginx")

    def stop_daemon(self, sig=signal.SIGTERM, timeout=30):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.send_signal(sig)
            try:
                self.daemon.wait(timeout)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        return self.daemon.returncode if self.daemon else None

    def stop(self):
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(10)
        self.stop_daemon()
        self.stop_redis()
        if getattr(self, "daemon_err", None):
            self.daemon_err.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.daemon_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_reports(self):
        return [line for line in self.log().splitlines()
                if any(m in line for m in SANITIZER_MARKERS)]

    # --- helpers ---------------------------------------------------------
    def redis_cli(self, *args):
        r = subprocess.run(["redis-cli", "-s", self.redis_sock, *args], capture_output=True,
                           text=True, timeout=10)
        return r.stdout.strip()

    def request(self, method, path, body=None, headers=None, timeout=30, port=None,
                host="127.0.0.1"):
        c = http.client.HTTPConnection(host, port or self.http_port, timeout=timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return Response(r.status, r.getheaders(), data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def audit(self):
        """scripts/redis-audit against this stack's Redis: (exit status, report)."""
        env = dict(os.environ, **{k: v for k, v in self.env.items() if k.startswith("CLEANPNG_")})
        r = subprocess.run([os.path.join(ROOT, "scripts", "redis-audit"), "--json", "--url",
                            "unix://" + self.redis_sock], capture_output=True, text=True,
                           env=env, timeout=60)
        return r.returncode, json.loads(r.stdout)

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.daemon.pid)], capture_output=True,
                             text=True).stdout
        return sorted(int(p) for p in out.split())
