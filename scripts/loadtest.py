"""See scripts/loadtest. Starts its own stacks (tests/integration/stack.py) and
upstream fakes (tests/fakes/), drives them with wrk and
scripts/loadtest-lua/mix.lua (one wrk process per request kind, all at the
same time), and writes a markdown report plus a JSON file beside it."""
import argparse
import datetime
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from stack import Fake, Stack  # noqa: E402

LUA = os.path.join(ROOT, "scripts", "loadtest-lua", "mix.lua")
UNSPLASH_KEY = "loadtest-unsplash-key"
REMOVEBG_KEY = "loadtest-removebg-key"
HIGH_LIMIT = "1000000/1m"
# the daemon's defaults (README, Configuration): --realistic-limits
REAL_LIMITS = {"SEARCH": "60/1m", "REMOVE": "10/1m", "PRIVACY": "20/1m", "HEALTH": "600/1m"}
LOG_FIELDS = r"\b(?:level|event|route|method|status|code|err)=(?:\"[^\"]*\"|\S+)"
CACHED_QUERIES = ["cat", "dog", "nature", "car", "flower", "mountain", "beach", "city"]

# phase A: the connection split of --connections (weights), phase B: fixed
MIX_A = [("search_cached", 20), ("search_uncached", 12), ("remove", 16), ("privacy", 8),
         ("health", 8)]
MIX_B = [("remove", 4), ("search_cached", 2), ("privacy", 1), ("health", 1)]


# --- the test image ------------------------------------------------------------
def make_photo(path, w=1200, h=900, seed=7):
    """A photo-like ~1 MP JPEG: a lit backdrop with grain and soft blobs, and
    a subject (head and shoulders shapes) with some texture. Fast (PIL ops)."""
    from PIL import Image, ImageDraw, ImageFilter
    rnd = random.Random(seed)
    bg = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    tint = Image.new("RGB", (w, h), (96, 132, 170))
    img = Image.blend(bg, tint, 0.6)
    d = ImageDraw.Draw(img)
    for _ in range(25):  # out-of-focus background shapes
        x, y, r = rnd.randrange(w), rnd.randrange(h), rnd.randrange(20, 120)
        c = tuple(rnd.randrange(80, 200) for _ in range(3))
        d.ellipse([x - r, y - r, x + r, y + r], fill=c)
    img = img.filter(ImageFilter.GaussianBlur(18))
    d = ImageDraw.Draw(img)
    d.ellipse([w * 0.28, h * 0.45, w * 0.72, h * 1.15], fill=(150, 52, 40))   # shoulders
    d.ellipse([w * 0.40, h * 0.12, w * 0.60, h * 0.55], fill=(214, 170, 140))  # head
    d.ellipse([w * 0.39, h * 0.08, w * 0.61, h * 0.26], fill=(60, 40, 30))    # hair
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    grain = Image.effect_noise((w, h), 22).convert("RGB")
    img = Image.blend(img, grain, 0.16)
    img.save(path, "JPEG", quality=88)
    return os.path.getsize(path)


T_START = time.time()


def progress(msg):
    print(f"[loadtest {time.time() - T_START:6.1f}s] {msg}", file=sys.stderr, flush=True)


# --- process figures from /proc -----------------------------------------------
def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return sorted(int(p) for p in f.read().split())
    except OSError:
        return []


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def tcp_inodes():
    """socket inode -> (remote port, state) for every TCP socket on the machine."""
    out = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    out[parts[9]] = (int(parts[2].rsplit(":", 1)[1], 16), parts[3])
        except OSError:
            pass
    return out


def unix_inodes():
    """socket inode -> (path, state, peer inode) for every unix socket (ss -xan)."""
    out = {}
    try:
        text = subprocess.run(["ss", "-xan"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return out
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 8:
            out[parts[5]] = (parts[4], parts[1], parts[7])
    return out


def fd_kinds(pid, tcp, upstream_ports, unix=None, fcgi_path=None, redis_path=None):
    """Open fds of a process by kind. Pooled connections are counted apart:
    TCP to an upstream fake (curl keeps one alive per thread and host) and
    accepted FastCGI connections (nginx may keep them open between requests)."""
    kinds = {}
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return kinds
    targets = []
    for fd in names:
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    own = {t[8:-1] for t in targets if t.startswith("socket:[")}
    for target in targets:
        m = re.match(r"socket:\[(\d+)\]", target)
        if m:
            if m.group(1) in tcp:
                port, _ = tcp[m.group(1)]
                kind = "tcp_upstream" if port in upstream_ports else "tcp_other"
            elif unix and m.group(1) in unix and unix[m.group(1)][0] == fcgi_path:
                kind = "fastcgi_listen" if unix[m.group(1)][1] == "LISTEN" else "fastcgi_conn"
            elif unix and m.group(1) in unix and \
                    unix.get(unix[m.group(1)][2], ("",))[0] == redis_path:
                kind = "redis_conn"
            elif unix and m.group(1) in unix and unix[m.group(1)][2] in own:
                kind = "socketpair"  # both ends here: curl's multi-handle wakeup pair
            else:
                kind = "unix_other"
        elif target.startswith("pipe:"):
            kind = "pipe"
        elif target.startswith("anon_inode:"):
            kind = target[len("anon_inode:"):].strip("[]")
        else:
            kind = "file"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def run_audit(stack):
    """scripts/redis-audit --json against the stack's Redis, as Stack.audit()
    does but with time for millions of keys (a soak leaves ~3 million)."""
    env = dict(os.environ, **{k: v for k, v in stack.env.items() if k.startswith("CLEANPNG_")})
    r = subprocess.run([os.path.join(ROOT, "scripts", "redis-audit"), "--json", "--url",
                        "unix://" + stack.redis_sock], capture_output=True, text=True,
                       env=env, timeout=1800)
    return r.returncode, json.loads(r.stdout)


def nginx_keepalive(stack):
    """Idle FastCGI connections nginx may keep: its worker processes times the
    upstream block's keepalive (0 when the config has none)."""
    try:
        with open(os.path.join(stack.dir, "nginx", "cleanpng-http.conf")) as f:
            m = re.search(r"^\s*keepalive\s+(\d+)\s*;", f.read(), re.M)
    except OSError:
        m = None
    per = int(m.group(1)) if m else 0
    return {"per_worker": per, "nginx_workers": len(children(stack.nginx.pid)),
            "bound": per * len(children(stack.nginx.pid))}


def redis_info(stack):
    out = {"keys": 0, "expires": 0}
    m = re.search(r"db0:keys=(\d+),expires=(\d+)", stack.redis_cli("INFO", "keyspace"))
    if m:
        out = {"keys": int(m.group(1)), "expires": int(m.group(2))}
    mem = stack.redis_cli("INFO", "memory")
    m = re.search(r"used_memory:(\d+)", mem)
    out["used_memory_mb"] = round(int(m.group(1)) / 2**20, 1) if m else None
    m = re.search(r"maxmemory:(\d+)", mem)
    out["maxmemory_mb"] = round(int(m.group(1)) / 2**20, 1) if m else None
    return out


def snapshot(stack, t0, upstream_ports=()):
    master = stack.daemon.pid
    workers = children(master)
    rss = {master: rss_kb(master), **{p: rss_kb(p) for p in workers}}
    fds = {p: fd_count(p) for p in workers}
    tcp, unix = tcp_inodes(), unix_inodes()
    kinds = {}
    for p in workers:
        for k, v in fd_kinds(p, tcp, set(upstream_ports), unix, stack.socket,
                                stack.redis_sock).items():
            kinds[k] = kinds.get(k, 0) + v
    return {"t_s": round(time.time() - t0, 1), "master": master, "workers": workers,
            "rss_kb": rss, "rss_total_mb": round(sum(rss.values()) / 1024, 1),
            "fds": fds, "fds_workers_total": sum(fds.values()), "fd_kinds": kinds,
            "fds_upstream": kinds.get("tcp_upstream", 0),
            "fds_fastcgi": kinds.get("fastcgi_conn", 0),
            "fds_redis": kinds.get("redis_conn", 0),
            "fds_curl": kinds.get("tcp_upstream", 0) + kinds.get("socketpair", 0),
            "fds_master": fd_count(master), "redis": redis_info(stack)}


class Sampler(threading.Thread):
    def __init__(self, stack, t0, interval, ports):
        super().__init__(daemon=True)
        self.stack, self.t0, self.interval, self.ports = stack, t0, interval, ports
        self.series, self.stop_ev = [], threading.Event()

    def run(self):
        while not self.stop_ev.wait(self.interval):
            try:
                self.series.append(snapshot(self.stack, self.t0, self.ports))
            except Exception as e:  # a sample must never kill the run
                self.series.append({"t_s": round(time.time() - self.t0, 1), "error": str(e)})


# --- wrk ------------------------------------------------------------------------
def start_wrk(url, kind, conns, duration, extra):
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--timeout", "60s", "--latency",
           "-s", LUA, url, "--", f"kind={kind}"] + [f"{k}={v}" for k, v in extra.items()]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_wrk(proc, kind, conns):
    out, err = proc.communicate()
    for line in out.splitlines():
        if line.startswith("LOADTEST_RESULT "):
            r = json.loads(line[len("LOADTEST_RESULT "):])
            r["kind"], r["connections"] = kind, conns
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
            return r
    return {"kind": kind, "connections": conns, "failed": True,
            "output": (out + err)[-2000:], "rc": proc.returncode}


def merged_percentiles(results, ps=(50, 90, 99, 99.9)):
    """Overall latency percentiles: every kind's 0.1 % quantile grid, weighted
    by its request count (accurate to the grid's resolution)."""
    pts = []
    for r in results:
        if r.get("failed") or not r["requests"]:
            continue
        w = r["requests"] / len(r["latency_us"]["grid"])
        pts += [(v, w) for v in r["latency_us"]["grid"]]
    if not pts:
        return {p: 0 for p in ps}
    pts.sort()
    total = sum(w for _, w in pts)
    out, acc, i = {}, 0.0, 0
    for p in ps:
        target = total * p / 100
        while i < len(pts) - 1 and acc + pts[i][1] < target:
            acc += pts[i][1]
            i += 1
        out[p] = pts[i][0]
    return out


# --- one phase ------------------------------------------------------------------
def run_phase(name, title, args, mix, duration, photo, engine):
    info = {"name": name, "title": title, "duration_s": duration, "engine": engine}
    fakes = []
    unsplash = Fake("fake_unsplash.py", "--access-key", UNSPLASH_KEY, "--limit", "1000000000")
    fakes.append(unsplash)
    limits = REAL_LIMITS if args.realistic_limits else {k: HIGH_LIMIT for k in REAL_LIMITS}
    env = {"CLEANPNG_UNSPLASH_ACCESS_KEY": UNSPLASH_KEY,
           "CLEANPNG_UNSPLASH_API_URL": unsplash.url,
           "CLEANPNG_SEARCH_PROVIDER": "unsplash",
           "CLEANPNG_BUDGET_UNSPLASH": "1000000/1h",
           "CLEANPNG_BUDGET_REMOVEBG": "1000000/1m",
           "CLEANPNG_LOG_SECRET": "loadtest-log-secret-0123456789",
           "CLEANPNG_LOG_LEVEL": "warn"}
    env.update({f"CLEANPNG_LIMIT_{k}": v for k, v in limits.items()})
    if args.visitors > 0:
        env["CLEANPNG_TRUSTED_PROXIES"] = "127.0.0.1"
    if engine == "removebg":
        removebg = Fake("fake_removebg.py", "--api-key", REMOVEBG_KEY, "--rate-mp", "1000000000",
                        "--credits", "1e15")
        fakes.append(removebg)
        env.update({"CLEANPNG_REMOVE_ENGINE": "removebg", "CLEANPNG_REMOVEBG_API_KEY": REMOVEBG_KEY,
                    "CLEANPNG_REMOVEBG_API_URL": removebg.url})
        removebg.call("POST", "/__scenario", {"delay_ms": args.removebg_delay_ms})
        size = "preview"
    else:
        env["CLEANPNG_REMOVE_ENGINE"] = "local"
        size = "full"  # the engine works on the whole ~1 MP image
    unsplash.call("POST", "/__scenario", {"delay_ms": args.unsplash_delay_ms})
    stack = Stack(env=env, workers=args.workers, threads=args.threads)
    info["size"] = size
    try:
        progress(f"phase {name.upper()}: starting the stack ({engine})")
        stack.start()
        if args.redis_maxmemory != "config":
            # every request leaves a log entry kept for 90 days (~0.7 KB with
            # its index, docs/scaling.md): at thousands of requests a second
            # the local config's 256 MB fills within a minute, and the run
            # would measure a full Redis instead of the service
            stack.redis_cli("CONFIG", "SET", "maxmemory", args.redis_maxmemory)
        base = f"http://127.0.0.1:{stack.http_port}"
        # warm-up: prime the cached queries (both pages the Lua sends), one of each kind
        with open(photo, "rb") as f:
            body = f.read()
        calls = [(f"/api/search?q={q}&page={page}&per_page=20", "GET", None, {})
                 for q in CACHED_QUERIES for page in (1, 2)]
        calls += [("/api/search?q=warmup&per_page=20", "GET", None, {}),
                  (f"/api/remove?size={size}", "POST", body, {"Content-Type": "image/jpeg"}),
                  ("/api/privacy", "GET", None, {}), ("/api/health", "GET", None, {})]
        warm, lock = {}, threading.Lock()

        def call(c):
            try:
                st = stack.request(c[1], c[0], body=c[2], headers=c[3], timeout=120).status
            except OSError as e:
                st = type(e).__name__
            with lock:
                warm[st] = warm.get(st, 0) + 1
        ts = [threading.Thread(target=call, args=(c,)) for c in calls]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        info["warmup_statuses"] = warm
        if set(warm) != {200}:
            raise RuntimeError(f"warm-up failed: statuses {warm}\n" + stack.log()[-2000:])
        time.sleep(0.5)
        ports = [f.port for f in fakes]
        info["upstream_hosts"] = len(fakes)
        t0 = time.time()
        info["start"] = snapshot(stack, t0, ports)
        sampler = None
        if args.sample_interval:
            sampler = Sampler(stack, t0, args.sample_interval, ports)
            sampler.start()
        nonce = f"{int(t0) % 100000}{name}"
        procs = []
        progress(f"phase {name.upper()}: wrk for {duration} s, " +
                 ", ".join(f"{k} {c}" for k, c in mix))
        for kind, conns in mix:
            extra = {"visitors": 0 if kind == "health" else args.visitors, "nonce": nonce}
            if kind == "remove":
                extra.update({"body": photo, "size": size})
            if kind == "privacy":
                extra["delete_every"] = args.delete_every
            procs.append((kind, conns, start_wrk(base, kind, conns, duration, extra)))
        results = [finish_wrk(p, kind, conns) for kind, conns, p in procs]
        info["elapsed_s"] = round(time.time() - t0, 1)
        if sampler:
            sampler.stop_ev.set()
            sampler.join()
        info["end_immediate"] = snapshot(stack, t0, ports)
        # let requests still in flight when wrk stopped finish and the log
        # writers drain their queues before judging fds and Redis
        settle_until = time.time() + max(2.0, args.removebg_delay_ms / 1000 + 0.5)
        while time.time() < settle_until:
            time.sleep(0.25)
        info["end"] = info["end_settled"] = snapshot(stack, t0, ports)
        info["nginx_fastcgi_keepalive"] = nginx_keepalive(stack)
        info["series"] = ([info["start"]] + sampler.series + [info["end"]]) if sampler else []
        info["results"] = results
        info["overall"] = {
            "connections": sum(c for _, c in mix),
            "requests": sum(r.get("requests", 0) for r in results),
            "rps": sum(r.get("rps", 0.0) for r in results),
            "latency_us": merged_percentiles(results)}
        try:
            info["health_after"] = stack.get("/api/health").json()
        except Exception as e:
            info["health_after"] = {"error": str(e)}
        progress(f"phase {name.upper()}: audit")
        t_audit = time.time()
        try:
            rc, audit = run_audit(stack)
        except Exception as e:  # keep the run's figures: the audit check fails instead
            rc, audit = -1, {"error": f"{type(e).__name__}: {e}"}
        info["audit"] = {"rc": rc, "keys": audit.get("keys"),
                         "no_ttl": len(audit.get("no_ttl", [])),
                         "no_ttl_sample": audit.get("no_ttl", [])[:10],
                         "over_retention": len(audit.get("over_retention", [])),
                         "per_kind": audit.get("per_kind", {}),
                         "log_entry_bytes": audit.get("log_entry_bytes", {}),
                         "seconds": round(time.time() - t_audit, 1),
                         "error": audit.get("error")}
        log = stack.log()
        info["daemon_log_errors"] = sum(1 for line in log.splitlines() if "level=error" in line)
        info["log_queue_full"] = sum(1 for line in log.splitlines() if "log_queue_full" in line)
        dropped = {}
        for m in re.finditer(r"proc=(\S+) event=log_queue_full dropped_total=(\d+)", log):
            dropped[m.group(1)] = max(dropped.get(m.group(1), 0), int(m.group(2)))
        info["log_entries_dropped"] = sum(dropped.values())
        info["sanitizer_reports"] = stack.sanitizer_reports()[:10]
        info["daemon_log_lines"] = len(log.splitlines())
        groups = {}
        for line in log.splitlines():
            # one group per level, event, route, method, status, code, err
            key = " ".join(re.findall(LOG_FIELDS, line)) or re.sub(r"\d+", "N", line)[:120]
            groups[key] = groups.get(key, 0) + 1
        info["daemon_log_sample"] = [f"{n} x {k}" for k, n in
                                     sorted(groups.items(), key=lambda kv: -kv[1])[:12]]
    finally:
        progress(f"phase {name.upper()}: stopping")
        stack.stop()
        for f in fakes:
            f.stop()
        if args.keep_stack:
            info["stack_dir"] = stack.dir
        else:
            stack.cleanup()
    return info


# --- checks and the report --------------------------------------------------------
def checks(phase, args):
    out = []
    res = phase["results"]
    failed = [r["kind"] for r in res if r.get("failed")]
    out.append(("every wrk process reported", not failed, ", ".join(failed) or "all"))
    s5 = sum(c for r in res for code, c in r.get("statuses", {}).items() if code.startswith("5"))
    out.append(("no 5xx", s5 == 0, f"{s5} responses"))
    sock = sum(r["errors"][k] for r in res if not r.get("failed")
               for k in ("connect", "read", "write", "timeout"))
    out.append(("no socket errors (connect/read/write/timeout)", sock == 0, f"{sock}"))
    if not args.realistic_limits:
        non2 = sum(c for r in res for code, c in r.get("statuses", {}).items()
                   if not code.startswith("2"))
        out.append(("no non-2xx with high limits", non2 == 0, f"{non2} responses"))
    a = phase["audit"]
    out.append(("redis-audit ran", a["rc"] in (0, 1) and not a.get("error"),
                a.get("error") or f"exit {a['rc']}, {a['seconds']} s"))
    nottl = a["no_ttl"]
    out.append(("redis-audit: keys without TTL = 0", nottl == 0, f"{nottl}"))
    over = phase["audit"]["over_retention"]
    out.append(("redis-audit: entries over retention = 0", over == 0, f"{over}"))
    rd = phase["end_settled"]["redis"]
    out.append(("INFO keyspace: keys = expires", rd["keys"] == rd["expires"],
                f"{rd['keys']} keys, {rd['expires']} with expiry"))
    same = phase["start"]["workers"] == phase["end"]["workers"]
    out.append(("no worker restarted", same,
                f"{phase['start']['workers']} -> {phase['end']['workers']}"))
    s, e = phase["start"], phase["end"]
    own_s = s["fds_workers_total"] - s["fds_curl"] - s["fds_fastcgi"] - s["fds_redis"]
    own_e = e["fds_workers_total"] - e["fds_curl"] - e["fds_fastcgi"] - e["fds_redis"]
    out.append((f"worker fds at end <= start + {args.fd_slack}, pooled connections apart",
                own_e <= own_s + args.fd_slack,
                f"{s['fds_workers_total']} -> {e['fds_workers_total']}; without pooled "
                f"connections (Redis, curl, FastCGI) {own_s} -> {own_e}"))
    hosts = phase["upstream_hosts"]
    bound = args.workers * args.threads * (hosts + 2)
    out.append((f"curl's fds (upstream keep-alive + wakeup pair) <= workers x threads x "
                f"(hosts + 2) ({bound})", e["fds_curl"] <= bound,
                f"{s['fds_curl']} -> {e['fds_curl']} (upstream connections "
                f"{s['fds_upstream']} -> {e['fds_upstream']})"))
    rb = args.workers * (args.threads + 2)
    out.append((f"Redis connections <= workers x (threads + 2) ({rb})", e["fds_redis"] <= rb,
                f"{s['fds_redis']} -> {e['fds_redis']}"))
    ka = phase["nginx_fastcgi_keepalive"]
    fb = ka["bound"] + args.fd_slack
    out.append((f"FastCGI connections at end <= nginx keepalive ({ka['nginx_workers']} x "
                f"{ka['per_worker']}) + {args.fd_slack}", e["fds_fastcgi"] <= fb,
                f"{s['fds_fastcgi']} -> {e['fds_fastcgi']}"))
    out.append(("no error in the daemon's log", phase["daemon_log_errors"] == 0,
                f"{phase['daemon_log_errors']} lines at level error"))
    out.append(("no log entry dropped (log_queue_full)", phase["log_queue_full"] == 0,
                f"{phase['log_queue_full']} lines, {phase['log_entries_dropped']} entries "
                "dropped"))
    mx = rd.get("maxmemory_mb") or 0
    out.append(("Redis stayed below maxmemory", not mx or rd["used_memory_mb"] < mx * 0.95,
                f"{rd['used_memory_mb']} MB of {mx or 'unlimited'} MB"))
    out.append(("no sanitizer reports", not phase["sanitizer_reports"],
                f"{len(phase['sanitizer_reports'])}"))
    return out


def ms(us):
    return f"{us / 1000:.1f}"


def phase_md(p, args):
    L = [f"## Phase {p['name'].upper()}: {p['title']}", ""]
    L.append(f"{p['duration_s']} s, {p['overall']['connections']} connections "
             f"({', '.join(r['kind'] + ' ' + str(r['connections']) for r in p['results'])}), "
             f"removal `size={p['size']}`, warm-up statuses {p['warmup_statuses']}.")
    L += ["", "### Throughput and latency", "",
          "| kind | conns | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx "
          "| socket errors |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in p["results"]:
        if r.get("failed"):
            L.append(f"| {r['kind']} | {r['connections']} | wrk failed (rc {r['rc']}) "
                     "| | | | | | | |")
            continue
        lat, e = r["latency_us"], r["errors"]
        non2 = sum(c for code, c in r["statuses"].items() if not code.startswith("2"))
        sock = e["connect"] + e["read"] + e["write"] + e["timeout"]
        L.append(f"| {r['kind']} | {r['connections']} | {r['requests']} | {r['rps']:.1f} | "
                 f"{ms(lat['p50'])} | {ms(lat['p90'])} | {ms(lat['p99'])} | {ms(lat['max'])} | "
                 f"{non2} | {sock} |")
    o = p["overall"]
    ol = o["latency_us"]
    L.append(f"| **overall** | {o['connections']} | {o['requests']} | {o['rps']:.1f} | "
             f"{ms(ol[50])} | {ms(ol[90])} | {ms(ol[99])} | | | |")
    L += ["", "Latency from wrk's histogram per kind (each kind is its own wrk process); "
          "overall percentiles merge the kinds weighted by their request counts.", ""]
    L += ["### Errors by status", "", "| kind | statuses | non-2xx by code | wrk socket errors |",
          "|---|---|---|---|"]
    for r in p["results"]:
        if r.get("failed"):
            continue
        st = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
        bad = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items())
                        if not k.startswith("2")) or "none"
        e = r["errors"]
        L.append(f"| {r['kind']} | {st} | {bad} | connect {e['connect']}, read {e['read']}, "
                 f"write {e['write']}, timeout {e['timeout']} |")
    L += ["", "Per kind: " + "; ".join(
        f"{r['kind']}: " + (", ".join(f"{k} {v}" for k, v in sorted(r["counters"].items())) or "-")
        for r in p["results"] if not r.get("failed")), ""]
    s, e, es = p["start"], p["end"], p["end_settled"]
    L += ["### Worker memory and file descriptors", "",
          "| | start | end | change |", "|---|---:|---:|---:|",
          f"| RSS, master + workers (MB) | {s['rss_total_mb']} | {e['rss_total_mb']} | "
          f"{e['rss_total_mb'] - s['rss_total_mb']:+.1f} |"]
    for i, w in enumerate(s["workers"]):
        we = e["rss_kb"].get(w, e["rss_kb"].get(str(w), 0))
        L.append(f"| RSS worker {i + 1} (pid {w}) (MB) | {s['rss_kb'][w] / 1024:.1f} | "
                 f"{we / 1024:.1f} | {(we - s['rss_kb'][w]) / 1024:+.1f} |")
    L.append(f"| RSS master (MB) | {s['rss_kb'][s['master']] / 1024:.1f} | "
             f"{e['rss_kb'][e['master']] / 1024:.1f} | |")
    L.append(f"| open fds, workers total | {s['fds_workers_total']} | {e['fds_workers_total']} | "
             f"{e['fds_workers_total'] - s['fds_workers_total']:+d} |")
    for i, w in enumerate(s["workers"]):
        fe = e["fds"].get(w, 0)
        L.append(f"| open fds worker {i + 1} | {s['fds'][w]} | {fe} | {fe - s['fds'][w]:+d} |")
    L.append(f"| open fds master | {s['fds_master']} | {e['fds_master']} | |")
    for k in sorted(set(s["fd_kinds"]) | set(e["fd_kinds"])):
        a, b = s["fd_kinds"].get(k, 0), e["fd_kinds"].get(k, 0)
        L.append(f"| workers' fds: {k} | {a} | {b} | {b - a:+d} |")
    ei = p["end_immediate"]
    L += ["", "Start: after the warm-up, before wrk; end: %.1f s after wrk finished (requests "
          "in flight done, log queues drained); as wrk finished: RSS %s MB, worker fds %d. "
          "Pooled connections: `redis_conn`, each thread's Redis connection and the log "
          "writer's; `tcp_upstream`, connections to the upstream fakes that each thread's "
          "curl handle keeps alive for reuse (at most one per thread and upstream host once "
          "warm), and `socketpair`, the wakeup pair of the multi handle inside each curl "
          "handle that has performed a transfer (two fds per such thread); `fastcgi_conn`, "
          "accepted FastCGI connections nginx keeps open between requests (at most its "
          "keepalive per nginx worker when idle)."
          % (e["t_s"] - ei["t_s"], ei["rss_total_mb"], ei["fds_workers_total"]), ""]
    if len(p["series"]) > 2:
        L += ["Series (sampled every %d s):" % args.sample_interval, "",
              "| t (s) | RSS total MB | RSS per worker MB | fds workers | of which Redis | "
              "curl | FastCGI | Redis keys | Redis MB |",
              "|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
        for x in p["series"]:
            if "error" in x:
                L.append(f"| {x['t_s']} | sample failed: {x['error']} | | | | | | | |")
                continue
            per = " / ".join(f"{x['rss_kb'].get(w, 0) / 1024:.1f}" for w in x["workers"])
            L.append(f"| {x['t_s']} | {x['rss_total_mb']} | {per} | {x['fds_workers_total']} | "
                     f"{x['fds_redis']} | {x['fds_curl']} | {x['fds_fastcgi']} | "
                     f"{x['redis']['keys']} | "
                     f"{x['redis']['used_memory_mb']} |")
        L.append("")
    a = p["audit"]
    L += ["### Redis keyspace and audit", "",
          "| | start | end (settled) |", "|---|---:|---:|",
          f"| keys | {s['redis']['keys']} | {es['redis']['keys']} |",
          f"| keys with an expiry | {s['redis']['expires']} | {es['redis']['expires']} |",
          f"| used memory (MB) | {s['redis']['used_memory_mb']} | "
          f"{es['redis']['used_memory_mb']} |",
          f"| maxmemory (MB) | {s['redis']['maxmemory_mb']} | {es['redis']['maxmemory_mb']} |",
          "",
          f"redis-audit (exit {a['rc']}, {a['seconds']} s): {a['keys']} keys, "
          f"**{a['no_ttl']} without TTL**, {a['over_retention']} over retention.",
          "Keys per kind: " + ", ".join(f"{k} {v}" for k, v in sorted(a["per_kind"].items())) + ".",
          "Log entry bytes: " + ", ".join(f"{k} mean {v['mean']} max {v['max']}"
                                          for k, v in sorted(a["log_entry_bytes"].items())) + ".",
          ""]
    if a["no_ttl_sample"]:
        L += ["Keys without TTL (first 10): " + ", ".join(f"`{k}`" for k in a["no_ttl_sample"]), ""]
    h = p.get("health_after", {})
    L += [f"Health after the run: `{json.dumps(h)[:400]}`", "",
          f"Daemon log: {p['daemon_log_lines']} lines (log level warn)"
          + (": " + "; ".join(f"`{x}`" for x in p["daemon_log_sample"])
             if p["daemon_log_sample"] else "")
          + ".", ""]
    L += ["### Checks", "", "| check | result | figure |", "|---|---|---|"]
    for name, ok, fig in p["checks"]:
        L.append(f"| {name} | {'ok' if ok else '**FAIL**'} | {fig} |")
    L.append("")
    return L


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


def report_md(run, args):
    limits = ("the defaults (--realistic-limits)" if args.realistic_limits
              else HIGH_LIMIT + " per address")
    L = ["# CleanPNG load test", "",
         f"{run['date']}, revision {run['revision']}, binary `{run['binary']}`, "
         f"{os.cpu_count()} cores shared by wrk, nginx, the workers, Redis and the fakes; "
         f"{args.workers} workers x {args.threads} threads; mode **{run['mode']}**; "
         f"limits: {limits}; "
         f"{args.visitors} simulated visitors (X-Forwarded-For, loopback trusted; health checks "
         f"come from loopback itself); upstream fakes: Unsplash after {args.unsplash_delay_ms} ms, "
         f"remove.bg after {args.removebg_delay_ms} ms; Redis maxmemory {args.redis_maxmemory}; "
         f"test image {run['photo']}.", ""]
    L += ["## Summary", "", "| phase | conns | req/s | p50 ms | p90 ms | p99 ms | non-2xx | 5xx | "
          "socket errors | RSS start→end MB | worker fds start→end | keys / expires | no TTL "
          "| checks |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---|"]
    for p in run["phases"]:
        res = [r for r in p["results"] if not r.get("failed")]
        non2 = sum(c for r in res for k, c in r["statuses"].items() if not k.startswith("2"))
        s5 = sum(c for r in res for k, c in r["statuses"].items() if k.startswith("5"))
        sock = sum(r["errors"][k] for r in res for k in ("connect", "read", "write", "timeout"))
        o = p["overall"]
        rd = p["end_settled"]["redis"]
        ok = all(c[1] for c in p["checks"])
        L.append(f"| {p['name'].upper()} ({p['engine']}) | {o['connections']} | {o['rps']:.1f} | "
                 f"{ms(o['latency_us'][50])} | {ms(o['latency_us'][90])} | "
                 f"{ms(o['latency_us'][99])} | {non2} | {s5} | {sock} | "
                 f"{p['start']['rss_total_mb']}→{p['end']['rss_total_mb']} | "
                 f"{p['start']['fds_workers_total']}→{p['end']['fds_workers_total']} | "
                 f"{rd['keys']} / {rd['expires']} | {p['audit']['no_ttl']} | "
                 f"{'ok' if ok else '**FAIL**'} |")
    L += ["", f"Result: **{'all checks passed' if run['ok'] else 'CHECKS FAILED'}**.", ""]
    for p in run["phases"]:
        L += phase_md(p, args)
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description="CleanPNG wrk load suite (see scripts/loadtest)")
    ap.add_argument("--duration", type=int,
                    help="seconds of phase A (default 60; smoke 5, soak 600)")
    ap.add_argument("--local-duration", type=int,
                    help="seconds of phase B (default: half of --duration, at most 60)")
    ap.add_argument("--connections", type=int, help="phase A connections, split over the kinds "
                    "(default 64; smoke 32)")
    ap.add_argument("--local-connections", type=int,
                    help="phase B connections (default 8: 4 removals, 2 cached searches, "
                    "1 privacy, 1 health)")
    ap.add_argument("--smoke", action="store_true",
                    help="a short run (5 s + 3 s of load, ~20 s in all) for the test suite")
    ap.add_argument("--soak", action="store_true",
                    help="10 minutes of phase A, RSS and fds sampled every 30 s")
    ap.add_argument("--phase", choices=["a", "b", "both"], default="both")
    ap.add_argument("--report", default=os.path.join(ROOT, "var", "loadtest-report.md"))
    ap.add_argument("--realistic-limits", action="store_true",
                    help="keep the daemon's default per-address limits (expect 429s)")
    ap.add_argument("--visitors", type=int, default=256,
                    help="simulated client addresses (X-Forwarded-For); 0: all from 127.0.0.1")
    ap.add_argument("--delete-every", type=int, default=20,
                    help="every Nth privacy request is a DELETE")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=64)
    ap.add_argument("--unsplash-delay-ms", type=int, default=150)
    ap.add_argument("--removebg-delay-ms", type=int, default=1500)
    ap.add_argument("--sample-interval", type=int,
                    help="seconds between RSS/fd samples (default: 30 with --soak, 10 for runs "
                    "of 60 s or more, none otherwise)")
    ap.add_argument("--fd-slack", type=int, default=20,
                    help="check: worker fds at end <= start + this")
    ap.add_argument("--redis-maxmemory", default="4gb",
                    help="Redis maxmemory for the run (CONFIG SET); 'config' keeps "
                    "deploy/redis/local.conf's 256mb, which this load fills within a minute")
    ap.add_argument("--keep-stack", action="store_true", help="keep the stacks' directories")
    args = ap.parse_args()
    if args.smoke and args.soak:
        ap.error("--smoke and --soak exclude each other")
    mode = "smoke" if args.smoke else "soak" if args.soak else "standard"
    if args.duration is None:
        args.duration = 5 if args.smoke else 600 if args.soak else 60
    if args.local_duration is None:
        args.local_duration = 3 if args.smoke else max(3, min(60, args.duration // 2))
    if args.connections is None:
        args.connections = 32 if args.smoke else 64
    if args.sample_interval is None:
        args.sample_interval = 30 if args.soak else 10 if args.duration >= 60 else 0

    def split(mix, total):
        wsum = sum(w for _, w in mix)
        return [(k, max(1, round(total * w / wsum))) for k, w in mix]
    mix_a = split(MIX_A, args.connections)
    mix_b = split(MIX_B, args.local_connections) if args.local_connections else MIX_B

    # SIGTERM: unwind through the finally blocks so stacks and fakes stop
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = tempfile.mkdtemp(prefix="cleanpng-loadtest-")
    photo = os.path.join(work, "photo-1200x900.jpg")
    size = make_photo(photo)
    run = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "revision": git_rev(),
           "binary": os.environ.get("CLEANPNG_BIN",
                                    os.path.join(ROOT, "build", "src", "cleanpngd")),
           "mode": mode, "photo": f"1200x900 JPEG, {size // 1024} KiB", "args": vars(args),
           "phases": []}
    try:
        if args.phase in ("a", "both"):
            run["phases"].append(run_phase(
                "a", f"remote engine (fake remove.bg {args.removebg_delay_ms} ms, "
                f"fake Unsplash {args.unsplash_delay_ms} ms)", args, mix_a, args.duration, photo,
                "removebg"))
        if args.phase in ("b", "both"):
            run["phases"].append(run_phase(
                "b", "built-in engine (CPU-bound removals at lower concurrency)", args, mix_b,
                args.local_duration, photo, "local"))
    finally:
        os.unlink(photo)
        os.rmdir(work)
    for p in run["phases"]:
        p["checks"] = checks(p, args)
    run["ok"] = all(c[1] for p in run["phases"] for c in p["checks"])
    text = report_md(run, args)
    os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
    with open(args.report, "w") as f:
        f.write(text)
    for p in run["phases"]:
        for r in p["results"]:
            r.get("latency_us", {}).pop("grid", None)
    with open(os.path.splitext(args.report)[0] + ".json", "w") as f:
        json.dump(run, f, indent=1, default=str)
    print(text)
    print(f"report: {args.report}")
    sys.exit(0 if run["ok"] else 1)


if __name__ == "__main__":
    main()
