#!/usr/bin/python3
"""Checks CleanPNG's deployment artefacts (deploy/, scripts/install-production,
docs/scaling.md) without a Docker engine or a cluster:

  - the Dockerfiles, parsed: stages, FROM lines, non-root numeric USER in the
    final stage, no compiler or -dev package there, the runtime libraries and
    health-check tools installed, every COPY source present in the repository;
    the nginx container configs pass `nginx -t` against a real render; the
    container health check answers against a real cleanpngd;
  - docker-compose.yml through Debian's `docker-compose config`, then its
    services, volumes, health checks, ports, certificate step and env names;
  - the systemd unit: required hardening, `systemd-analyze verify` (warnings
    count as failures) and its exposure score; the env example;
  - scripts/install-production --prefix, dry and real, touching nothing else;
  - every Kubernetes manifest: kinds, selectors vs labels, probes, security
    contexts, resources, env names, Secret and ConfigMap references;
  - docs/scaling.md and scripts/deps-deploy.txt.

Each checker returns a list of problems; the tests assert it is empty for
the real artefacts and, for a few deliberate breakages, that it is not.

Run with Debian's python3 (python3-yaml): /usr/bin/python3 tests/deploy/test_deploy.py
"""

import base64
import glob
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import yaml
except ImportError:  # pragma: no cover - environment problem
    sys.exit("test_deploy: python3-yaml is missing (apt-get install python3-yaml; "
             "run with /usr/bin/python3)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
BIN = os.environ.get("CLEANPNG_BIN", os.path.join(ROOT, "build", "src", "cleanpngd"))


def read(*parts):
    return slurp(os.path.join(ROOT, *parts))


def slurp(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


# --------------------------------------------------------------------------
# Which CLEANPNG_* names exist

def daemon_env_names():
    """Names cleanpngd reads: the string literals of src/core/config.c."""
    return set(re.findall(r'"(CLEANPNG_[A-Z0-9_]+)"', read("src", "core", "config.c")))


def script_env_names():
    """Names the scripts read from the environment (install-production, the
    consumer of these artefacts, does not count)."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "scripts", "*")):
        if os.path.isdir(path) or os.path.basename(path) == "install-production":
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        names.update(re.findall(r"\$\{?(CLEANPNG_[A-Z0-9_]*[A-Z0-9])\b", text))
        names.update(re.findall(
            r"""(?:environ(?:\.get)?\s*[\[(]|getenv\()\s*["'](CLEANPNG_[A-Z0-9_]*[A-Z0-9])["']""",
            text))
    return names


def known_env_names():
    return daemon_env_names() | script_env_names()


def env_tokens(text):
    return set(re.findall(r"\b(CLEANPNG_[A-Z0-9_]*[A-Z0-9])\b", text))


def parse_duration_s(v):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", v.strip())
    if not m:
        raise ValueError(v)
    n = int(m.group(1))
    return n * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def env_file_values(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out[k.strip()] = v.strip()
    return out


# --------------------------------------------------------------------------
# Dockerfiles

COMPILERS = re.compile(r"^(gcc(-\d+)?|g\+\+(-\d+)?|cpp(-\d+)?|clang(-\d+)?|cc|c\+\+|make|cmake|"
                       r"build-essential|binutils|pkg-config|pkgconf|autoconf|automake|libtool|"
                       r"meson|ninja-build|.*-dev)$")
RUNTIME_LIBS = ["libfcgi0ldbl", "libcurl4", "libjson-c5", "libpng16-16", "libhiredis0.14",
                "libjpeg62-turbo", "libwebp7", "libssl3"]


def parse_dockerfile(text):
    """-> (global ARG defaults, [stage]); stage = {name, base, index, instrs:[(op, args)]}."""
    lines, cur = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        lines.append(cur.strip())
        cur = ""
    if cur.strip():
        lines.append(cur.strip())
    args, stages = {}, []
    for line in lines:
        op, _, rest = line.partition(" ")
        op = op.upper()
        rest = rest.strip()
        if op == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            if not m:
                raise ValueError("bad FROM line: " + line)
            base = re.sub(r"\$\{?(\w+)\}?", lambda mm: args.get(mm.group(1), mm.group(0)),
                          m.group(1))
            stages.append({"name": m.group(2) or str(len(stages)), "base": base,
                           "index": len(stages), "instrs": []})
        elif not stages:
            if op == "ARG":
                k, _, v = rest.partition("=")
                args[k.strip()] = v.strip().strip('"')
            else:
                raise ValueError("instruction before FROM: " + line)
        else:
            stages[-1]["instrs"].append((op, rest))
    return args, stages


def apt_packages(stage):
    pkgs = []
    for op, rest in stage["instrs"]:
        if op != "RUN":
            continue
        for m in re.finditer(r"apt-get\s+install\s+([^&;|]*)", rest):
            for w in m.group(1).split():
                if w.startswith("-") or w.startswith("$("):
                    continue
                if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", w):
                    pkgs.append(w)
    return pkgs


def copy_instrs(stage):
    """-> [(from_stage or None, [sources], dest)]"""
    out = []
    for op, rest in stage["instrs"]:
        if op not in ("COPY", "ADD"):
            continue
        words = rest.split()
        frm = None
        plain = []
        for w in words:
            if w.startswith("--from="):
                frm = w.split("=", 1)[1]
            elif w.startswith("--"):
                continue
            else:
                plain.append(w)
        if rest.lstrip().startswith("["):
            import json
            plain = json.loads(rest[rest.index("["):])
        out.append((frm, plain[:-1], plain[-1]))
    return out


def last(stage, op):
    vals = [rest for o, rest in stage["instrs"] if o == op]
    return vals[-1] if vals else None


def check_dockerfile_common(text, final_packages=(), final_files=()):
    """Problems shared by both Dockerfiles."""
    problems = []
    try:
        args, stages = parse_dockerfile(text)
    except ValueError as e:
        return [str(e)]
    if len(stages) < 2:
        problems.append("not multi-stage (%d stage)" % len(stages))
        return problems
    names = []
    for st in stages:
        if st["base"] not in ("debian:12", "debian:bookworm") and st["base"] not in names:
            problems.append("stage %s: FROM %s is neither debian:12 nor an earlier stage"
                            % (st["name"], st["base"]))
        names.append(st["name"])
        for frm, srcs, dest in copy_instrs(st):
            if frm is not None:
                if frm not in names[:-1] and not frm.isdigit():
                    problems.append("COPY --from=%s: no earlier stage of that name" % frm)
                continue
            for s in srcs:
                if os.path.isabs(s) or ".." in s.split("/"):
                    problems.append("COPY source %s leaves the build context" % s)
                elif not glob.glob(os.path.join(ROOT, s)):
                    problems.append("COPY source %s does not exist in the repository" % s)
    final = stages[-1]
    user = last(final, "USER")
    if user is None:
        problems.append("final stage has no USER (would run as root)")
    else:
        u = user.split(":")[0]
        if u in ("root", "0"):
            problems.append("final stage USER is root")
        elif not u.isdigit():
            problems.append("final stage USER %s is not numeric (runAsNonRoot cannot verify it)" % u)
    pkgs = apt_packages(final)
    for p in pkgs:
        if COMPILERS.match(p):
            problems.append("final stage installs %s (a compiler/build tool or -dev package)" % p)
    for p in final_packages:
        if p not in pkgs:
            problems.append("final stage does not install %s" % p)
    if last(final, "HEALTHCHECK") is None:
        problems.append("final stage has no HEALTHCHECK")
    copied = set()
    for frm, srcs, dest in copy_instrs(final):
        for s in srcs:
            copied.add(dest.rstrip("/") if not dest.endswith("/") else
                       dest.rstrip("/") + "/" + os.path.basename(s.rstrip("/")))
        copied.add(dest.rstrip("/"))
    for f in final_files:
        if not any(c == f or f.startswith(c + "/") for c in copied):
            problems.append("final stage does not COPY %s" % f)
    return problems


def check_app_dockerfile(text):
    problems = check_dockerfile_common(
        text, final_packages=RUNTIME_LIBS + ["ca-certificates", "libfcgi-bin"],
        final_files=["/usr/local/sbin/cleanpngd", "/srv/cleanpng/www", "/srv/cleanpng/library",
                     "/usr/local/bin/cleanpng-healthcheck"])
    try:
        _, stages = parse_dockerfile(text)
    except ValueError:
        return problems
    final = stages[-1]
    hc = last(final, "HEALTHCHECK") or ""
    if "cleanpng-healthcheck" not in hc:
        problems.append("HEALTHCHECK does not run cleanpng-healthcheck (/api/health over FastCGI)")
    ep = (last(final, "ENTRYPOINT") or "") + (last(final, "CMD") or "")
    if "/usr/local/sbin/cleanpngd" not in ep:
        problems.append("the image does not start /usr/local/sbin/cleanpngd")
    vol = last(final, "VOLUME") or ""
    if "/run/cleanpng" not in vol:
        problems.append("no VOLUME /run/cleanpng for the socket")
    envs = " ".join(rest for op, rest in final["instrs"] if op == "ENV")
    for n in env_tokens(envs) - daemon_env_names():
        problems.append("ENV %s is not read by cleanpngd" % n)
    if "CLEANPNG_SOCKET=/run/cleanpng/" not in envs:
        problems.append("CLEANPNG_SOCKET does not point into /run/cleanpng")
    # the build stage compiles with the -dev packages of deps-core/deps-codec
    build = [s for s in stages[:-1] if "cmake" in " ".join(r for o, r in s["instrs"] if o == "RUN")]
    if not build:
        problems.append("no stage runs cmake")
    else:
        need = set()
        for f in ("deps-core.txt", "deps-codec.txt"):
            need |= {p for p in read("scripts", f).split() if p.endswith("-dev")}
        have = set(apt_packages(build[0]))
        for p in sorted(need - have):
            problems.append("build stage lacks %s (scripts/deps-core.txt)" % p)
    lib = [s for s in stages[:-1]
           if "build-library" in " ".join(r for o, r in s["instrs"] if o == "RUN")]
    if not lib:
        problems.append("no stage builds the demo library (scripts/build-library)")
    elif "deps-library.txt" not in " ".join(r for o, r in lib[0]["instrs"]):
        problems.append("the library stage does not install scripts/deps-library.txt")
    return problems


def check_nginx_dockerfile(text):
    problems = check_dockerfile_common(
        text, final_packages=["nginx-light", "curl"],
        final_files=["/etc/nginx/nginx.conf", "/etc/nginx/cleanpng", "/srv/cleanpng/www",
                     "/srv/cleanpng/library", "/usr/local/bin/cleanpng-gen-cert"])
    try:
        _, stages = parse_dockerfile(text)
    except ValueError:
        return problems
    final = stages[-1]
    hc = last(final, "HEALTHCHECK") or ""
    if "curl" not in hc or "/api/health" not in hc:
        problems.append("nginx HEALTHCHECK is not curl on /api/health")
    if "render-config --production" not in text:
        problems.append("the nginx config is not rendered by scripts/render-config --production")
    return problems


# --------------------------------------------------------------------------
# docker-compose

def compose_config(compose_path, env_file=None):
    exe = shutil.which("docker-compose")
    if not exe:
        return None, "docker-compose not installed"
    cmd = [exe, "-f", compose_path]
    if env_file:
        cmd += ["--env-file", env_file]
    cmd += ["config"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEANPNG_")}
    p = subprocess.run(cmd, cwd=os.path.dirname(compose_path), capture_output=True, text=True,
                       env=env, timeout=120)
    if p.returncode != 0:
        return None, "docker-compose config failed: " + (p.stderr or p.stdout).strip()[-800:]
    return yaml.safe_load(p.stdout), None


def hc_text(svc):
    t = (svc.get("healthcheck") or {}).get("test")
    if isinstance(t, list):
        return " ".join(str(x) for x in t)
    return str(t or "")


def check_compose(cfg, raw_text, env_example_text):
    problems = []
    svcs = cfg.get("services", {})
    for name in ("redis", "cleanpngd", "nginx", "tls-init"):
        if name not in svcs:
            problems.append("service %s missing" % name)
    if problems:
        return problems
    redis, app, web, tls = svcs["redis"], svcs["cleanpngd"], svcs["nginx"], svcs["tls-init"]
    vols = set((cfg.get("volumes") or {}).keys())
    for v in ("socket", "tls", "redis-data"):
        if v not in vols:
            problems.append("volume %s not declared" % v)

    def mounts(svc):
        out = {}
        for m in svc.get("volumes", []):
            if isinstance(m, dict):
                out[m.get("source")] = m.get("target")
            else:
                parts = m.split(":")
                out[parts[0]] = parts[1]
        return out
    # health checks
    if "redis-cli" not in hc_text(redis) or "ping" not in hc_text(redis):
        problems.append("redis has no `redis-cli ping` health check")
    if "/api/health" not in hc_text(web) or not re.search(r"\b(curl|wget)\b", hc_text(web)):
        problems.append("nginx has no curl/wget health check on /api/health")
    if "cleanpng-healthcheck" not in hc_text(app):
        problems.append("cleanpngd has no /api/health check (cleanpng-healthcheck)")
    # the tools the health checks use are in the images
    nginx_df = read("deploy", "nginx.Dockerfile")
    _, nst = parse_dockerfile(nginx_df)
    for tool in ("curl", "wget"):
        if re.search(r"\b%s\b" % tool, hc_text(web)) and tool not in apt_packages(nst[-1]):
            problems.append("nginx health check uses %s, which its image lacks" % tool)
    # the socket volume is shared, at the directory of CLEANPNG_SOCKET
    env = app.get("environment") or {}
    sock = env.get("CLEANPNG_SOCKET", "/run/cleanpng/cleanpng.sock")
    sdir = os.path.dirname(sock)
    if mounts(app).get("socket") != sdir or mounts(web).get("socket") != sdir:
        problems.append("the socket volume is not mounted at %s in both cleanpngd and nginx" % sdir)
    if mounts(redis).get("redis-data") != "/data":
        problems.append("redis-data is not mounted at /data")
    if not any(src.endswith("deploy/redis/production.conf") for src in mounts(redis)):
        problems.append("redis does not use deploy/redis/production.conf")
    if mounts(tls).get("tls") is None or mounts(web).get("tls") is None:
        problems.append("the tls volume is not shared by tls-init and nginx")
    ent = " ".join(tls.get("entrypoint") or []) + " " + " ".join(tls.get("command") or [])
    if "gen-cert" not in ent and "openssl" not in ent:
        problems.append("tls-init does not make a certificate")
    dep = web.get("depends_on") or {}
    if (dep.get("tls-init") or {}).get("condition") != "service_completed_successfully":
        problems.append("nginx does not wait for tls-init to complete")
    if (dep.get("cleanpngd") or {}).get("condition") != "service_healthy":
        problems.append("nginx does not wait for a healthy cleanpngd")
    # ports
    targets = {int(p["target"]) if isinstance(p, dict) else int(str(p).split(":")[-1])
               for p in web.get("ports", [])}
    published = {int(p["published"]) for p in web.get("ports", []) if isinstance(p, dict)}
    for port in (8080, 8443):
        if port not in targets or port not in published:
            problems.append("nginx does not offer port %d" % port)
    if "nginx-tls.conf" not in " ".join(web.get("command") or []):
        problems.append("nginx does not run the TLS config (8443)")
    # hardening
    for name in ("redis", "cleanpngd", "nginx", "tls-init"):
        if not svcs[name].get("read_only"):
            problems.append("%s has a writable root filesystem" % name)
        if str(svcs[name].get("user", "")).split(":")[0] in ("0", "root"):
            problems.append("%s runs as root" % name)
    grace = parse_duration_s(str(env.get("CLEANPNG_SHUTDOWN_GRACE") or "10s"))
    stop = parse_duration_s(str(app.get("stop_grace_period", "10s")))
    if stop <= grace:
        problems.append("stop_grace_period %ss is not above CLEANPNG_SHUTDOWN_GRACE %ss"
                        % (stop, grace))
    # env names
    for n in sorted(set(env) - daemon_env_names()):
        problems.append("cleanpngd environment %s is not read by cleanpngd" % n)
    known = known_env_names()
    for n in sorted((env_tokens(raw_text) | env_tokens(env_example_text)) - known):
        problems.append("%s (docker-compose.yml/.env.example) is read by neither the code nor "
                        "the scripts" % n)
    for k, v in env_file_values(env_example_text).items():
        if re.search(r"(KEY|SECRET|TOKEN|PASSWORD)$", k) and v and "REPLACE" not in v.upper():
            problems.append(".env.example gives %s a value (placeholders only)" % k)
    return problems


# --------------------------------------------------------------------------
# systemd

REQUIRED_UNIT = {
    "User": "cleanpng",
    "EnvironmentFile": "/etc/cleanpng/cleanpng.env",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "RuntimeDirectory": "cleanpng",
    "KillSignal": "SIGTERM",
    "Restart": "on-failure",
}


def parse_unit(text):
    out = {}
    section = None
    for line in text.splitlines():
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("[") and s.endswith("]"):
            section = s[1:-1]
            continue
        k, _, v = s.partition("=")
        out.setdefault((section, k.strip()), []).append(v.strip())
    return out


def check_unit(text, env_example_text):
    problems = []
    u = parse_unit(text)
    svc = {k: v for (sec, k), v in u.items() if sec == "Service"}
    for k, want in REQUIRED_UNIT.items():
        if want not in svc.get(k, []):
            problems.append("[Service] %s=%s missing (has %s)" % (k, want, svc.get(k)))
    if not any(re.fullmatch(r"\d+[KMGT]?", v) for v in svc.get("MemoryMax", [])):
        problems.append("[Service] MemoryMax= missing")
    rw = " ".join(svc.get("ReadWritePaths", []))
    for p in rw.split():
        if p.lstrip("-") not in ("/run/cleanpng",):
            problems.append("ReadWritePaths includes %s (only the socket directory is needed)" % p)
    if "/usr/local/sbin/cleanpngd" not in " ".join(svc.get("ExecStart", [])):
        problems.append("ExecStart is not /usr/local/sbin/cleanpngd")
    grace = parse_duration_s(env_file_values(env_example_text).get("CLEANPNG_SHUTDOWN_GRACE", "10s"))
    ts = svc.get("TimeoutStopSec")
    if not ts:
        problems.append("[Service] TimeoutStopSec= missing")
    elif parse_duration_s(ts[-1]) <= grace:
        problems.append("TimeoutStopSec=%s is not above the grace period (%ss)" % (ts[-1], grace))
    sock = None
    for e in svc.get("Environment", []):
        for item in e.split():
            k, _, v = item.partition("=")
            if k not in daemon_env_names():
                problems.append("Environment=%s is not read by cleanpngd" % k)
            if k == "CLEANPNG_SOCKET":
                sock = v
    if sock and not sock.startswith("/run/cleanpng/"):
        problems.append("CLEANPNG_SOCKET %s is outside RuntimeDirectory" % sock)
    if ("Install", "WantedBy") not in u:
        problems.append("[Install] WantedBy= missing")
    return problems


def check_env_example(text):
    problems = []
    known = daemon_env_names()
    for n in sorted(env_tokens(text) - known):
        problems.append("%s in the env example is not read by cleanpngd" % n)
    vals = env_file_values(text)
    sec = vals.get("CLEANPNG_LOG_SECRET")
    if not sec or "REPLACE" not in sec.upper():
        problems.append("CLEANPNG_LOG_SECRET is not an obvious placeholder")
    for k in ("CLEANPNG_UNSPLASH_ACCESS_KEY", "CLEANPNG_REMOVEBG_API_KEY"):
        if vals.get(k):
            problems.append("%s has a value in the example" % k)
    return problems


def systemd_verify(unit_text, tmpdir, exec_path):
    """`systemd-analyze verify` on a copy whose ExecStart is an existing file and whose
    EnvironmentFile is optional. Any diagnostic about the unit counts as a problem."""
    d = os.path.join(tmpdir, "units")
    os.makedirs(d, exist_ok=True)
    text = re.sub(r"(?m)^ExecStart=\S+", "ExecStart=" + exec_path, unit_text)
    text = re.sub(r"(?m)^EnvironmentFile=(?!-)", "EnvironmentFile=-", text)
    path = os.path.join(d, "cleanpngd.service")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True,
                       timeout=120)
    out = (p.stdout + p.stderr).strip()
    lines = [line for line in out.splitlines() if "cleanpngd" in line]
    problems = []
    if p.returncode != 0:
        problems.append("systemd-analyze verify exit %d: %s" % (p.returncode, out[-600:]))
    problems += ["systemd-analyze: " + line for line in lines]
    return problems, path


# --------------------------------------------------------------------------
# Kubernetes

def k8s_docs():
    docs = []
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        with open(path) as f:
            for d in yaml.safe_load_all(f):
                if d:
                    docs.append((os.path.basename(path), d))
    return docs


def pod_spec(doc):
    return doc["spec"]["template"]["spec"]


def check_k8s(docs):
    problems = []
    by_kind = {}
    for fname, d in docs:
        for field in ("apiVersion", "kind"):
            if field not in d:
                problems.append("%s: no %s" % (fname, field))
        if d.get("kind") != "Kustomization" and not (d.get("metadata") or {}).get("name"):
            problems.append("%s: %s without metadata.name" % (fname, d.get("kind")))
        by_kind.setdefault(d.get("kind"), []).append(d)
    need = {"Deployment": "apps/v1", "Service": "v1", "Ingress": "networking.k8s.io/v1",
            "HorizontalPodAutoscaler": "autoscaling/v2", "PodDisruptionBudget": "policy/v1",
            "Secret": "v1", "ConfigMap": "v1", "StatefulSet": "apps/v1"}
    for kind, api in need.items():
        if kind not in by_kind:
            problems.append("no %s" % kind)
        elif any(d["apiVersion"] != api for d in by_kind[kind]):
            problems.append("%s apiVersion is not %s" % (kind, api))
    if problems:
        return problems
    # kustomization lists every file
    kust = [d for f, d in docs if d.get("kind") == "Kustomization"]
    files = {f for f, d in docs if d.get("kind") != "Kustomization"}
    if kust:
        listed = set(kust[0].get("resources", []))
        for f in sorted(files - listed):
            problems.append("kustomization.yaml does not list %s" % f)
        for f in sorted(listed - files):
            problems.append("kustomization.yaml lists missing %s" % f)
    secrets = {d["metadata"]["name"]: d for d in by_kind["Secret"]}
    cms = {d["metadata"]["name"]: d for d in by_kind["ConfigMap"]}
    for s in secrets.values():
        for k, v in (s.get("data") or {}).items():
            try:
                plain = base64.b64decode(v, validate=True).decode()
            except Exception:
                problems.append("Secret %s key %s is not base64" % (s["metadata"]["name"], k))
                continue
            if "REPLACE" not in plain.upper() and "PLACEHOLDER" not in plain.upper():
                problems.append("Secret %s key %s is not an obvious placeholder"
                                % (s["metadata"]["name"], k))
        if s.get("stringData"):
            problems.append("Secret %s uses stringData (use base64 placeholders)" % s["metadata"]["name"])
    daemon = daemon_env_names()
    workloads = by_kind["Deployment"] + by_kind["StatefulSet"]
    pod_labels = []
    for w in workloads:
        name = w["metadata"]["name"]
        sel = w["spec"]["selector"]["matchLabels"]
        labels = w["spec"]["template"]["metadata"]["labels"]
        pod_labels.append(labels)
        for k, v in sel.items():
            if labels.get(k) != v:
                problems.append("%s: selector %s=%s does not match the pod labels" % (name, k, v))
        spec = pod_spec(w)
        psc = spec.get("securityContext") or {}
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        vct = {c["metadata"]["name"] for c in w["spec"].get("volumeClaimTemplates", [])}
        for c in spec["containers"]:
            cname = "%s/%s" % (name, c["name"])
            sc = c.get("securityContext") or {}
            if not sc.get("readOnlyRootFilesystem"):
                problems.append("%s: readOnlyRootFilesystem is not true" % cname)
            if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
                problems.append("%s: runAsNonRoot is not set" % cname)
            if (sc.get("runAsUser", psc.get("runAsUser", 1))) == 0:
                problems.append("%s: runAsUser 0" % cname)
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append("%s: allowPrivilegeEscalation is not false" % cname)
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(part) or {}):
                        problems.append("%s: no resources.%s.%s" % (cname, part, r))
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            for pname in ("readinessProbe", "livenessProbe"):
                probe = c.get(pname)
                if not probe:
                    problems.append("%s: no %s" % (cname, pname))
                    continue
                hg = probe.get("httpGet")
                if hg:
                    port = hg.get("port")
                    if port not in ports and port not in ports.values():
                        problems.append("%s: %s port %s is not a container port"
                                        % (cname, pname, port))
            for m in c.get("volumeMounts", []):
                if m["name"] not in vols and m["name"] not in vct:
                    problems.append("%s: mounts undeclared volume %s" % (cname, m["name"]))
            # environment
            if name == "redis":
                continue
            for e in c.get("env", []):
                if e["name"] not in daemon:
                    problems.append("%s: env %s is not read by cleanpngd" % (cname, e["name"]))
                ref = (e.get("valueFrom") or {})
                if "secretKeyRef" in ref:
                    r = ref["secretKeyRef"]
                    if r["name"] not in secrets or r["key"] not in (secrets[r["name"]].get("data") or {}):
                        problems.append("%s: env %s refers to missing secret key %s/%s"
                                        % (cname, e["name"], r["name"], r["key"]))
                if "configMapKeyRef" in ref:
                    r = ref["configMapKeyRef"]
                    if r["name"] not in cms or r["key"] not in (cms[r["name"]].get("data") or {}):
                        problems.append("%s: env %s refers to missing ConfigMap key %s/%s"
                                        % (cname, e["name"], r["name"], r["key"]))
            for ef in c.get("envFrom", []):
                if "configMapRef" in ef:
                    cm = cms.get(ef["configMapRef"]["name"])
                    if cm is None:
                        problems.append("%s: envFrom missing ConfigMap" % cname)
                        continue
                    for k in cm.get("data") or {}:
                        if k not in daemon:
                            problems.append("%s: ConfigMap key %s is not read by cleanpngd"
                                            % (cname, k))
                if "secretRef" in ef:
                    for k in (secrets.get(ef["secretRef"]["name"]) or {}).get("data") or {}:
                        if k not in daemon:
                            problems.append("%s: Secret key %s is not read by cleanpngd" % (cname, k))
    # the web pod: both containers, the socket emptyDir, probes on /api/health
    dep = [d for d in by_kind["Deployment"] if d["metadata"]["name"] == "cleanpng"]
    if not dep:
        problems.append("no Deployment cleanpng")
        return problems
    dep = dep[0]
    spec = pod_spec(dep)
    cs = {c["name"]: c for c in spec["containers"]}
    if set(cs) != {"cleanpngd", "nginx"}:
        problems.append("the pod's containers are %s, not cleanpngd + nginx" % sorted(cs))
        return problems
    vols = {v["name"]: v for v in spec.get("volumes", [])}

    def mount_of(c, path):
        return [m["name"] for m in c.get("volumeMounts", []) if m["mountPath"] == path]
    a, b = mount_of(cs["cleanpngd"], "/run/cleanpng"), mount_of(cs["nginx"], "/run/cleanpng")
    if not a or a != b or "emptyDir" not in vols.get(a[0], {}):
        problems.append("cleanpngd and nginx do not share an emptyDir at /run/cleanpng")
    rp = (cs["nginx"].get("readinessProbe") or {}).get("httpGet") or {}
    if rp.get("path") != "/api/health":
        problems.append("nginx readinessProbe is not httpGet /api/health")
    for pname in ("readinessProbe", "livenessProbe"):
        cmd = " ".join(((cs["cleanpngd"].get(pname) or {}).get("exec") or {}).get("command", []))
        if "cleanpng-healthcheck" not in cmd:
            problems.append("cleanpngd %s does not ask /api/health (cleanpng-healthcheck)" % pname)
    if not (spec.get("securityContext") or {}).get("fsGroup"):
        problems.append("no pod fsGroup: nginx could not use the 0660 socket")
    cm_env = {}
    for ef in cs["cleanpngd"].get("envFrom", []):
        if "configMapRef" in ef:
            cm_env.update(cms.get(ef["configMapRef"]["name"], {}).get("data") or {})
    grace = parse_duration_s(cm_env.get("CLEANPNG_SHUTDOWN_GRACE", "10s"))
    if spec.get("terminationGracePeriodSeconds", 30) <= grace + 5:
        problems.append("terminationGracePeriodSeconds is not above the shutdown grace + preStop")
    if not cm_env.get("CLEANPNG_WORKERS"):
        problems.append("CLEANPNG_WORKERS not set (the default counts the node's cores)")
    # Service, Ingress, HPA, PDB point at the right things
    pod_l = dep["spec"]["template"]["metadata"]["labels"]
    svcs = {s["metadata"]["name"]: s for s in by_kind["Service"]}
    web = svcs.get("cleanpng")
    if not web:
        problems.append("no Service cleanpng")
    else:
        for k, v in web["spec"]["selector"].items():
            if pod_l.get(k) != v:
                problems.append("Service cleanpng selector %s=%s matches no pod label" % (k, v))
        nginx_ports = {p.get("name"): p["containerPort"] for p in cs["nginx"].get("ports", [])}
        for p in web["spec"]["ports"]:
            t = p.get("targetPort")
            if t not in nginx_ports and t not in nginx_ports.values():
                problems.append("Service cleanpng targetPort %s is not an nginx port" % t)
    for ing in by_kind["Ingress"]:
        if not ing["spec"].get("tls"):
            problems.append("Ingress %s has no tls" % ing["metadata"]["name"])
        for rule in ing["spec"].get("rules", []):
            for path in rule["http"]["paths"]:
                be = path["backend"]["service"]
                s = svcs.get(be["name"])
                if not s:
                    problems.append("Ingress backend %s is not a Service" % be["name"])
                    continue
                port = be["port"]
                names = {p.get("name") for p in s["spec"]["ports"]}
                nums = {p["port"] for p in s["spec"]["ports"]}
                if port.get("name") not in names and port.get("number") not in nums:
                    problems.append("Ingress backend port %s not on Service %s" % (port, be["name"]))
    for h in by_kind["HorizontalPodAutoscaler"]:
        ref = h["spec"]["scaleTargetRef"]
        if ref.get("kind") != "Deployment" or ref.get("name") != dep["metadata"]["name"]:
            problems.append("HPA does not target Deployment cleanpng")
        if not any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu"
                   for m in h["spec"].get("metrics", [])):
            problems.append("HPA has no CPU metric")
    for p in by_kind["PodDisruptionBudget"]:
        for k, v in p["spec"]["selector"]["matchLabels"].items():
            if pod_l.get(k) != v:
                problems.append("PDB selector %s=%s matches no pod label" % (k, v))
    # Redis: a StatefulSet with a PVC and the production configuration
    rs = [d for d in by_kind["StatefulSet"] if d["metadata"]["name"] == "redis"]
    if not rs:
        problems.append("no StatefulSet redis")
    else:
        if not rs[0]["spec"].get("volumeClaimTemplates"):
            problems.append("redis StatefulSet has no volumeClaimTemplates")
        if rs[0]["spec"].get("serviceName") not in svcs:
            problems.append("redis StatefulSet serviceName is not a Service")
        conf = (cms.get("redis-config") or {}).get("data", {}).get("redis.conf")
        if conf != read("deploy", "redis", "production.conf"):
            problems.append("ConfigMap redis-config redis.conf differs from deploy/redis/production.conf")
        url = cm_env.get("CLEANPNG_REDIS_URL", "")
        m = re.match(r"redis://([^:/]+)", url)
        if not m or m.group(1).split(".")[0] not in svcs:
            problems.append("CLEANPNG_REDIS_URL %s does not name the redis Service" % url)
    return problems


# --------------------------------------------------------------------------
# tests


class DockerfileTest(unittest.TestCase):
    def test_app_dockerfile(self):
        self.assertEqual(check_app_dockerfile(read("deploy", "Dockerfile")), [])

    def test_app_dockerfile_stages(self):
        _, stages = parse_dockerfile(read("deploy", "Dockerfile"))
        self.assertEqual([s["name"] for s in stages], ["build", "library", "runtime"])
        self.assertTrue(all(s["base"] == "debian:12" for s in stages))

    def test_nginx_dockerfile(self):
        self.assertEqual(check_nginx_dockerfile(read("deploy", "nginx.Dockerfile")), [])

    def test_library_stage_shared(self):
        """Same library stage in both files, so a builder's cache serves both."""
        def lib(text):
            _, st = parse_dockerfile(text)
            return [s["instrs"] for s in st if s["name"] == "library"]
        a, b = lib(read("deploy", "Dockerfile")), lib(read("deploy", "nginx.Dockerfile"))
        self.assertTrue(a and b)
        self.assertEqual(a, b)

    def test_runtime_packages_exist_in_debian(self):
        if not shutil.which("apt-cache"):
            self.skipTest("apt-cache not available")
        _, st = parse_dockerfile(read("deploy", "Dockerfile"))
        _, nst = parse_dockerfile(read("deploy", "nginx.Dockerfile"))
        for p in sorted(set(apt_packages(st[-1]) + apt_packages(nst[-1]))):
            r = subprocess.run(["apt-cache", "show", "--no-all-versions", p],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, "%s: no such Debian package" % p)

    def test_breakages_are_caught(self):
        text = read("deploy", "Dockerfile")
        self.assertTrue(any("root" in p for p in
                            check_app_dockerfile(text.replace("USER 10001:10001", "USER root"))))
        self.assertTrue(any("no USER" in p for p in
                            check_app_dockerfile(text.replace("USER 10001:10001\n", ""))))
        broken = text.replace("libfcgi-bin \\", "libfcgi-bin gcc \\")
        self.assertNotEqual(broken, text)
        self.assertTrue(any("gcc" in p for p in check_app_dockerfile(broken)))
        broken = text.replace("libhiredis0.14 ", "libhiredis-dev ")
        self.assertTrue(any("libhiredis-dev" in p for p in check_app_dockerfile(broken)))
        broken = text.replace("COPY www/", "COPY wwwx/")
        self.assertTrue(any("wwwx" in p for p in check_app_dockerfile(broken)))
        broken = text.replace("FROM ${DEBIAN_IMAGE} AS runtime", "FROM ubuntu:22.04 AS runtime")
        self.assertTrue(any("ubuntu" in p for p in check_app_dockerfile(broken)))
        broken = re.sub(r"HEALTHCHECK[^\n]*\\\n[^\n]*\n", "", text)
        self.assertTrue(any("HEALTHCHECK" in p for p in check_app_dockerfile(broken)))
        broken = text.replace("CLEANPNG_SOCKET_MODE=0660", "CLEANPNG_SOCK_MODE=0660")
        self.assertTrue(any("CLEANPNG_SOCK_MODE" in p for p in check_app_dockerfile(broken)))
        ntext = read("deploy", "nginx.Dockerfile")
        broken = ntext.replace("nginx-light curl ", "nginx-light ")
        self.assertTrue(any("curl" in p for p in check_nginx_dockerfile(broken)))


class NginxContainerConfigTest(unittest.TestCase):
    """deploy/nginx/*.conf with a real render of the templates: `nginx -t`."""

    def test_nginx_t(self):
        if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
            self.skipTest("nginx not installed")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        with tempfile.TemporaryDirectory() as t:
            env = dict(os.environ, CLEANPNG_SOCKET="/run/cleanpng/cleanpng.sock",
                       CLEANPNG_WWW_DIR=os.path.join(ROOT, "www"),
                       CLEANPNG_LIBRARY_DIR=os.path.join(ROOT, "var", "library"))
            subprocess.run([os.path.join(ROOT, "scripts", "render-config"), "--production",
                            os.path.join(t, "cleanpng")], check=True, env=env,
                           capture_output=True)
            subprocess.run([os.path.join(ROOT, "scripts", "gen-cert"), os.path.join(t, "tls")],
                           check=True, capture_output=True)
            for f in ("nginx.conf", "nginx-tls.conf", "cleanpng-container.conf"):
                text = read("deploy", "nginx", f)
                text = (text.replace("/etc/nginx/cleanpng-container.conf",
                                     os.path.join(t, "cleanpng-container.conf"))
                            .replace("/etc/nginx/cleanpng/", os.path.join(t, "cleanpng") + "/")
                            .replace("/etc/cleanpng/tls", os.path.join(t, "tls"))
                            .replace("/tmp/nginx", os.path.join(t, "nginx")))
                with open(os.path.join(t, f), "w") as out:
                    out.write(text)
            for f in ("nginx.conf", "nginx-tls.conf"):
                p = subprocess.run([nginx, "-t", "-e", "stderr", "-c", os.path.join(t, f)],
                                   capture_output=True, text=True)
                self.assertEqual(p.returncode, 0, "%s: %s" % (f, p.stderr))
        # what the image copies is what was tested
        df = read("deploy", "nginx.Dockerfile")
        for f in ("deploy/nginx/nginx.conf", "deploy/nginx/nginx-tls.conf",
                  "deploy/nginx/cleanpng-container.conf"):
            self.assertIn(f, df)


class HealthcheckScriptTest(unittest.TestCase):
    """deploy/docker/cleanpng-healthcheck against a real cleanpngd (Redis absent)."""

    def test_against_daemon(self):
        if not os.access(BIN, os.X_OK):
            self.skipTest("no built cleanpngd at %s" % BIN)
        if not shutil.which("cgi-fcgi"):
            self.skipTest("cgi-fcgi (libfcgi-bin) not installed")
        script = os.path.join(DEPLOY, "docker", "cleanpng-healthcheck")
        self.assertTrue(os.access(script, os.X_OK), "healthcheck script is not executable")
        with tempfile.TemporaryDirectory() as t:
            sock = os.path.join(t, "cleanpng.sock")
            env = {k: v for k, v in os.environ.items() if not k.startswith("CLEANPNG_")}
            env.update(CLEANPNG_SOCKET=sock, CLEANPNG_REDIS_URL="redis://127.0.0.1:1",
                       CLEANPNG_REDIS_TIMEOUT_MS="50", CLEANPNG_WORKERS="1",
                       CLEANPNG_THREADS="2", CLEANPNG_SHUTDOWN_GRACE="1s",
                       CLEANPNG_LOG_SECRET="test-secret-0123456789")
            lib = os.path.join(ROOT, "var", "library")
            if os.path.exists(os.path.join(lib, "manifest.json")):
                env["CLEANPNG_LIBRARY_DIR"] = lib
            log = open(os.path.join(t, "log"), "w")
            proc = subprocess.Popen([BIN], env=env, stderr=log, stdout=log)
            try:
                for _ in range(100):
                    if os.path.exists(sock) or proc.poll() is not None:
                        break
                    time.sleep(0.05)
                self.assertIsNone(proc.poll(), slurp(os.path.join(t, "log")))
                p = subprocess.run([script], env=dict(env), capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertIn('"status":"degraded"', p.stdout)
                p = subprocess.run([script], env=dict(env, CLEANPNG_SOCKET=sock + ".none"),
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 1)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                log.close()


class ComposeTest(unittest.TestCase):
    compose = os.path.join(DEPLOY, "docker-compose.yml")

    def setUp(self):
        if not shutil.which("docker-compose"):
            self.skipTest("docker-compose not installed (scripts/deps-deploy.txt)")

    def test_config_and_checks(self):
        cfg, err = compose_config(self.compose)
        self.assertIsNone(err, err)
        self.assertEqual(check_compose(cfg, read("deploy", "docker-compose.yml"),
                                       read("deploy", ".env.example")), [])

    def test_with_env_example(self):
        cfg, err = compose_config(self.compose, os.path.join(DEPLOY, ".env.example"))
        self.assertIsNone(err, err)
        self.assertEqual(check_compose(cfg, read("deploy", "docker-compose.yml"),
                                       read("deploy", ".env.example")), [])

    def mutated(self, old, new):
        raw = read("deploy", "docker-compose.yml")
        self.assertIn(old, raw)
        raw = raw.replace(old, new)
        with tempfile.TemporaryDirectory() as t:
            # keep relative paths (./redis/production.conf, context ..) valid
            path = os.path.join(DEPLOY, ".test-compose-%d.yml" % os.getpid())
            try:
                with open(path, "w") as f:
                    f.write(raw)
                cfg, err = compose_config(path)
            finally:
                os.unlink(path)
        if err:
            return [err]
        return check_compose(cfg, raw, read("deploy", ".env.example"))

    def test_breakages_are_caught(self):
        self.assertTrue(self.mutated('test: ["CMD", "redis-cli", "ping"]',
                                     'test: ["CMD", "true"]'))
        self.assertTrue(self.mutated("CLEANPNG_SOCKET_MODE:", "CLEANPNG_SOCK_MODE:"))
        self.assertTrue(self.mutated("      - socket:/run/cleanpng\n    # Longer",
                                     "      - socket:/run/elsewhere\n    # Longer"))
        self.assertTrue(self.mutated('"${CLEANPNG_HTTPS_PORT:-8443}:8443"', '"8444:8444"'))
        self.assertTrue(self.mutated("stop_grace_period: 30s\n    healthcheck:\n      # GET",
                                     "stop_grace_period: 5s\n    healthcheck:\n      # GET"))
        self.assertTrue(self.mutated("services:\n", "services:\n  broken: [\n"))


class SystemdTest(unittest.TestCase):
    unit = os.path.join(DEPLOY, "systemd", "cleanpngd.service")

    def test_unit_directives(self):
        self.assertEqual(check_unit(read("deploy", "systemd", "cleanpngd.service"),
                                    read("deploy", "systemd", "cleanpng.env.example")), [])

    def test_env_example(self):
        self.assertEqual(check_env_example(read("deploy", "systemd", "cleanpng.env.example")), [])

    def test_breakages_are_caught(self):
        text = read("deploy", "systemd", "cleanpngd.service")
        env = read("deploy", "systemd", "cleanpng.env.example")
        for old, new in (("NoNewPrivileges=yes", "NoNewPrivileges=no"),
                         ("TimeoutStopSec=30s", "TimeoutStopSec=5s"),
                         ("ReadWritePaths=/run/cleanpng", "ReadWritePaths=/run/cleanpng /var"),
                         ("Environment=CLEANPNG_SOCKET_MODE=0660", "Environment=CLEANPNG_MODE=0660"),
                         ("MemoryMax=4G", "")):
            self.assertIn(old, text)
            self.assertTrue(check_unit(text.replace(old, new), env), old)
        self.assertTrue(check_env_example(env + "\nCLEANPNG_NOT_A_SETTING=1\n"))
        self.assertTrue(check_env_example(env.replace("#CLEANPNG_UNSPLASH_ACCESS_KEY=",
                                                      "CLEANPNG_UNSPLASH_ACCESS_KEY=")))

    def analyze(self):
        if not shutil.which("systemd-analyze"):
            print("\nskip: systemd-analyze is not installed (package systemd)", file=sys.stderr)
            self.skipTest("systemd-analyze not installed")
        return os.path.realpath(BIN) if os.access(BIN, os.X_OK) else "/bin/true"

    def test_systemd_analyze_verify(self):
        exe = self.analyze()
        with tempfile.TemporaryDirectory() as t:
            problems, _ = systemd_verify(read("deploy", "systemd", "cleanpngd.service"), t, exe)
            self.assertEqual(problems, [])
            # the same check fails on a typo and on a bad value
            text = read("deploy", "systemd", "cleanpngd.service")
            for old, new in (("ProtectSystem=strict", "ProtectSytem=strict"),
                             ("PrivateTmp=yes", "PrivateTmp=perhaps")):
                problems, _ = systemd_verify(text.replace(old, new), t, exe)
                self.assertTrue(problems, old)

    def test_systemd_analyze_security(self):
        exe = self.analyze()
        with tempfile.TemporaryDirectory() as t:
            _, path = systemd_verify(read("deploy", "systemd", "cleanpngd.service"), t, exe)
            p = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20",
                                "--no-pager", path], capture_output=True, text=True, timeout=120)
            if "Unknown option" in p.stderr or "unrecognized option" in p.stderr:
                self.skipTest("this systemd-analyze has no offline security check")
            m = re.search(r"Overall exposure level for \S+: ([\d.]+)", p.stdout)
            self.assertTrue(m, p.stdout + p.stderr)
            self.assertLessEqual(float(m.group(1)), 2.0, p.stdout[-2000:])


class InstallProductionTest(unittest.TestCase):
    script = os.path.join(ROOT, "scripts", "install-production")

    def run_script(self, *args, env=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("CLEANPNG_")}
        e.update(env or {})
        return subprocess.run([self.script, *args], capture_output=True, text=True, env=e,
                              timeout=600)

    def test_unit_and_script_agree(self):
        text = read("scripts", "install-production")
        self.assertIn("BIN=/usr/local/sbin/cleanpngd", text)
        self.assertIn("ENV_FILE=$ETC/cleanpng.env", text)
        self.assertIn("ETC=/etc/cleanpng", text)
        self.assertTrue(os.access(self.script, os.X_OK))

    def test_dry_run_prefix(self):
        with tempfile.TemporaryDirectory() as t:
            prefix = os.path.join(t, "x")
            p = self.run_script("--prefix", prefix, "--dry-run")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertFalse(os.path.exists(prefix), "dry run created files")
            out = p.stdout
            self.assertIn("render-config --production " + prefix + "/etc/nginx/cleanpng", out)
            self.assertIn(prefix + "/usr/local/sbin/cleanpngd", out)
            self.assertIn("scripts/build", out)
            for line in out.splitlines():
                self.assertFalse(re.match(r"\+ (useradd|systemctl|chown|chgrp|apt-get)", line),
                                 "would run on the system with --prefix: " + line)
            self.assertIn("skipped with --prefix: useradd", out)
            self.assertIn("skipped with --prefix: systemctl", out)

    def test_bad_argument(self):
        p = self.run_script("--bogus")
        self.assertEqual(p.returncode, 2)

    def test_real_run_into_prefix(self):
        if not os.access(os.path.join(ROOT, "build", "src", "cleanpngd"), os.X_OK):
            self.skipTest("no build/src/cleanpngd (scripts/build)")
        with tempfile.TemporaryDirectory() as t:
            lib = os.path.join(t, "lib")
            os.makedirs(lib)
            with open(os.path.join(lib, "manifest.json"), "w") as f:
                f.write('{"version": 1, "photos": []}\n')
            prefix = os.path.join(t, "root")
            p = self.run_script("--prefix", prefix, "--no-build", "--library", lib)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            for rel in ("usr/local/sbin/cleanpngd", "srv/cleanpng/www/index.html",
                        "srv/cleanpng/library/manifest.json", "etc/cleanpng/cleanpng.env",
                        "etc/systemd/system/cleanpngd.service",
                        "etc/nginx/cleanpng/cleanpng.conf", "etc/nginx/cleanpng/cleanpng-server.conf",
                        "etc/redis/cleanpng.conf"):
                self.assertTrue(os.path.exists(os.path.join(prefix, rel)), rel)
            self.assertTrue(os.access(os.path.join(prefix, "usr/local/sbin/cleanpngd"), os.X_OK))
            envf = os.path.join(prefix, "etc/cleanpng/cleanpng.env")
            self.assertEqual(stat.S_IMODE(os.stat(envf).st_mode), 0o640)
            vals = env_file_values(slurp(envf))
            self.assertRegex(vals["CLEANPNG_LOG_SECRET"], r"^[0-9a-f]{64}$")
            with open(envf) as f:
                self.assertEqual(check_env_example(f.read().replace(
                    vals["CLEANPNG_LOG_SECRET"], "REPLACE")), [])
            # the configs name the final paths, never the staging root
            for path in glob.glob(os.path.join(prefix, "etc", "**", "*"), recursive=True):
                if os.path.isfile(path):
                    with open(path, errors="replace") as f:
                        self.assertNotIn(prefix, f.read(), path)
            server = slurp(os.path.join(prefix, "etc/nginx/cleanpng/cleanpng-server.conf"))
            self.assertIn("unix:/run/cleanpng/cleanpng.sock", server + read_all(prefix))
            self.assertIn("root /srv/cleanpng/www;", server)
            self.assertEqual(slurp(os.path.join(prefix, "etc/systemd/system/cleanpngd.service")),
                             read("deploy", "systemd", "cleanpngd.service"))
            # a second run leaves an edited env file alone
            with open(envf, "a") as f:
                f.write("CLEANPNG_LOG_LEVEL=debug\n")
            before = slurp(envf)
            p = self.run_script("--prefix", prefix, "--no-build", "--library", lib)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(slurp(envf), before)
            self.assertIn("left as it is", p.stdout)
            self.assertNotRegex(p.stdout, r"(?m)^\+ (useradd|systemctl|chown|chgrp|apt-get)")


def read_all(prefix):
    out = []
    for path in glob.glob(os.path.join(prefix, "etc/nginx/cleanpng/*.conf")):
        with open(path) as f:
            out.append(f.read())
    return "\n".join(out)


class KubernetesTest(unittest.TestCase):
    def test_manifests(self):
        self.assertEqual(check_k8s(k8s_docs()), [])

    def test_breakages_are_caught(self):
        import copy
        docs = k8s_docs()

        def mutate(fn):
            d2 = copy.deepcopy(docs)
            fn(d2)
            return check_k8s(d2)

        def dep(d2):
            return [d for f, d in d2 if d.get("kind") == "Deployment"][0]

        def cont(d2, name):
            return [c for c in pod_spec(dep(d2))["containers"] if c["name"] == name][0]

        self.assertTrue(mutate(lambda d2: dep(d2)["spec"]["selector"]["matchLabels"]
                               .update({"app.kubernetes.io/name": "other"})))
        self.assertTrue(mutate(lambda d2: cont(d2, "nginx")["securityContext"]
                               .update({"readOnlyRootFilesystem": False})))
        self.assertTrue(mutate(lambda d2: cont(d2, "nginx")["readinessProbe"]["httpGet"]
                               .update({"port": 9999})))
        self.assertTrue(mutate(lambda d2: cont(d2, "nginx")["readinessProbe"]["httpGet"]
                               .update({"path": "/"})))
        self.assertTrue(mutate(lambda d2: cont(d2, "cleanpngd")["env"][0]["valueFrom"]
                               ["secretKeyRef"].update({"key": "NOPE"})))
        self.assertTrue(mutate(lambda d2: cont(d2, "cleanpngd")["env"]
                               .append({"name": "CLEANPNG_NOT_READ", "value": "1"})))
        self.assertTrue(mutate(lambda d2: [d for f, d in d2 if d.get("kind") == "ConfigMap"][0]
                               ["data"].update({"CLEANPNG_TYPO": "1"})))
        self.assertTrue(mutate(lambda d2: cont(d2, "cleanpngd").pop("resources")))
        self.assertTrue(mutate(lambda d2: [d for f, d in d2 if d.get("kind") == "Secret"][0]
                               ["data"].update({"CLEANPNG_LOG_SECRET":
                                                base64.b64encode(b"a-real-looking-key").decode()})))
        self.assertTrue(mutate(lambda d2: [d for f, d in d2 if d.get("kind") ==
                                           "HorizontalPodAutoscaler"][0].update(
                                               {"apiVersion": "autoscaling/v1"})))


class DocsAndDepsTest(unittest.TestCase):
    def test_scaling_doc(self):
        text = read("docs", "scaling.md")
        self.assertIn("| figure | value | from |", text)
        self.assertNotIn("TBD", text)  # every figure measured, none left open
        for word in ("stateless", "Redis Cluster", "twemproxy", "{h}", "degraded", "EVALSHA",
                     "noeviction"):
            self.assertIn(word, text)

    def test_deps_deploy(self):
        lines = [l.split("#")[0].strip() for l in read("scripts", "deps-deploy.txt").splitlines()]
        pkgs = [l for l in lines if l]
        for p in pkgs:
            self.assertRegex(p, r"^[a-z0-9][a-z0-9.+-]+$", "one package per line")
        for p in ("docker-compose", "python3-yaml"):
            self.assertIn(p, pkgs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
