"""See scripts/redis-audit. A small RESP client, so it needs nothing beyond
Debian's python3."""
import argparse
import json
import os
import re
import socket
import sys
import time

DURATION = re.compile(r"^(\d+)([smhd]?)$")
KINDS = ("access", "search", "error")
DEFAULT_RETENTION = {"search": "7d", "error": "30d", "access": "90d"}


def seconds(text):
    m = DURATION.match(text)
    if not m:
        raise ValueError(f"bad duration {text!r}")
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


class Redis:
    def __init__(self, url):
        if url.startswith("unix://"):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(url[7:])
        else:
            host, _, port = url[8:].split("/")[0].rpartition(":")
            self.sock = socket.create_connection((host.strip("[]") or "127.0.0.1", int(port or 6379)))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b":"):
            return int(rest) if t == b":" else rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")

    def pipeline(self, commands):
        out = b""
        for cmd in commands:
            out += f"*{len(cmd)}\r\n".encode()
            for a in cmd:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += f"${len(a)}\r\n".encode() + a + b"\r\n"
        self.sock.sendall(out)
        return [self._read() for _ in commands]

    def call(self, *cmd):
        return self.pipeline([cmd])[0]


def kind_of(key):
    parts = key.split(":")
    if key.startswith("cp:log:") and len(parts) >= 4:
        return "log:" + parts[3]
    if key.startswith("cp:idx:") and len(parts) >= 4:
        return "index:" + parts[3]
    if key.startswith("cp:") and len(parts) >= 2:
        return parts[1]
    return "foreign"


def audit(url, retention):
    r = Redis(url)
    keys, cursor = [], b"0"
    while True:
        cursor, batch = r.call("SCAN", cursor, "COUNT", 1000)
        keys += [k.decode() for k in batch]
        if cursor in (b"0", 0):
            break
    report = {"keys": len(keys), "no_ttl": [], "per_kind": {}, "log_entry_bytes": {},
              "oldest_entry": {}, "over_retention": []}
    now_ms = time.time() * 1000
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        ttls = r.pipeline([("PTTL", k) for k in chunk])
        for k, ttl in zip(chunk, ttls):
            kind = kind_of(k)
            report["per_kind"][kind] = report["per_kind"].get(kind, 0) + 1
            if ttl == -1:
                report["no_ttl"].append(k)
        logs = [k for k in chunk if k.startswith("cp:log:")]
        values = r.pipeline([("GET", k) for k in logs]) if logs else []
        for k, v, ttl in zip(logs, values, r.pipeline([("PTTL", k) for k in logs]) if logs else []):
            if v is None:
                continue
            kind = k.split(":")[3]
            sizes = report["log_entry_bytes"].setdefault(kind, [])
            sizes.append(len(v))
            t = int(k.rsplit(":", 1)[1].split("-")[0])
            age = (now_ms - t) / 1000
            old = report["oldest_entry"].get(kind)
            if old is None or age > old["age_s"]:
                report["oldest_entry"][kind] = {"age_s": round(age, 1),
                                                "retention_s": retention[kind]}
            # expires at most a seventh of the period late (SPEC section 4)
            if age + ttl / 1000 > retention[kind] * (1 + 1 / 7):
                report["over_retention"].append(k)
    report["log_entry_bytes"] = {k: {"entries": len(v), "mean": round(sum(v) / len(v)),
                                     "max": max(v)} for k, v in report["log_entry_bytes"].items()}
    return report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=os.environ.get("CLEANPNG_REDIS_URL", "redis://127.0.0.1:6379"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    retention = {k: seconds(os.environ.get(f"CLEANPNG_RETENTION_{k.upper()}", v))
                 for k, v in DEFAULT_RETENTION.items()}
    rep = audit(a.url, retention)
    if a.json:
        print(json.dumps(rep, indent=1))
    else:
        print(f"keys: {rep['keys']}")
        print(f"keys without a TTL: {len(rep['no_ttl'])}")
        for k in rep["no_ttl"][:20]:
            print(f"  {k}")
        print("keys per kind:")
        for k, n in sorted(rep["per_kind"].items()):
            print(f"  {k:<16}{n:>10}")
        print("bytes per log entry:")
        for k, v in sorted(rep["log_entry_bytes"].items()):
            print(f"  {k:<16}entries {v['entries']:>8}  mean {v['mean']:>6}  max {v['max']:>6}")
        print("oldest entry per kind (age / retention):")
        for k, v in sorted(rep["oldest_entry"].items()):
            print(f"  {k:<16}{v['age_s']:>12.0f}s / {v['retention_s']}s")
        print(f"entries that would outlive their retention: {len(rep['over_retention'])}")
    sys.exit(1 if rep["no_ttl"] or rep["over_retention"] else 0)


if __name__ == "__main__":
    main()
