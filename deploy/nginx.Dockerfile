# syntax=docker/dockerfile:1
# CleanPNG's nginx as a container image: Debian 12's nginx-light, the site
# rendered by scripts/render-config --production, www/ and the demo library.
#
#   docker build -f deploy/nginx.Dockerfile -t cleanpng-nginx:local .   (from the repo root)
#   build args: CLEANPNG_TRUSTED_PROXIES (addresses whose X-Forwarded-For is
#   believed, e.g. the Ingress controller's pod network "10.0.0.0/8"),
#   CLEANPNG_IMG_SRC (image hosts allowed by the CSP)
#
# Why our own image rather than the distribution's nginx image with the
# config mounted: the templates in nginx/ are written and tested
# (tests/integration, `nginx -t` on the production render) against Debian
# 12's nginx 1.22 (nginx-light) -- its module set (realip, http2, ssl), its
# /etc/nginx/mime.types and fastcgi_params, its "listen ... ssl http2" syntax.
# The nginx:* image is a different build and version (the http2 listen
# parameter is deprecated there, the include layout is conf.d/, its
# entrypoint rewrites configs at start, which a read-only root refuses), and
# mounting the config would mean rendering it on the host first and
# shipping www/ and the library to every node separately. Baking all of it
# into one image gives Kubernetes and docker-compose the same artefact,
# updated with Debian's security fixes by a rebuild.
#
# Runs as uid 10002 with supplementary group 10001 (the socket's group; set by
# docker-compose group_add / the pod's fsGroup) on unprivileged ports 8080 and
# 8443, with a read-only root: pid and (empty) temp folders in /tmp (tmpfs /
# emptyDir), logs to stdout/stderr. curl is in the image for the health
# check; openssl and scripts/gen-cert for the local stack's self-signed
# certificate (docker-compose's tls-init service).

ARG DEBIAN_IMAGE=debian:12

# Same stage as in deploy/Dockerfile, instruction for instruction, so a
# builder that has built one image reuses it for the other.
FROM ${DEBIAN_IMAGE} AS library
ARG DEBIAN_FRONTEND=noninteractive
COPY scripts/deps-library.txt /tmp/deps-library.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
        $(sed 's/#.*//' /tmp/deps-library.txt) \
 && rm -rf /var/lib/apt/lists/*
COPY scripts/build-library scripts/build_library.py scripts/library-sources.json /src/scripts/
RUN /src/scripts/build-library --out /srv/cleanpng/library

FROM ${DEBIAN_IMAGE} AS render
ARG DEBIAN_FRONTEND=noninteractive
ARG CLEANPNG_TRUSTED_PROXIES=""
ARG CLEANPNG_IMG_SRC=https://images.unsplash.com
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
COPY nginx/ /src/nginx/
COPY scripts/render-config /src/scripts/render-config
RUN CLEANPNG_SOCKET=/run/cleanpng/cleanpng.sock \
    CLEANPNG_WWW_DIR=/srv/cleanpng/www \
    CLEANPNG_LIBRARY_DIR=/srv/cleanpng/library \
    CLEANPNG_TRUSTED_PROXIES="$CLEANPNG_TRUSTED_PROXIES" \
    CLEANPNG_IMG_SRC="$CLEANPNG_IMG_SRC" \
    /src/scripts/render-config --production /out/cleanpng \
 && rm /out/cleanpng/cleanpng.conf

FROM ${DEBIAN_IMAGE} AS nginx
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light curl openssl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default \
 && groupadd --system --gid 10001 cleanpng \
 && groupadd --system --gid 10002 cleanpng-web \
 && useradd --system --uid 10002 --gid 10002 --groups cleanpng --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin cleanpng-web \
 && install -d -o 10001 -g 10001 -m 2770 /run/cleanpng \
 && install -d -o 10002 -g 10002 -m 0750 /etc/cleanpng/tls
COPY --from=render /out/cleanpng/ /etc/nginx/cleanpng/
COPY deploy/nginx/nginx.conf deploy/nginx/nginx-tls.conf /etc/nginx/
COPY deploy/nginx/cleanpng-container.conf /etc/nginx/cleanpng-container.conf
COPY scripts/gen-cert /usr/local/bin/cleanpng-gen-cert
COPY www/ /srv/cleanpng/www/
COPY --from=library /srv/cleanpng/library/ /srv/cleanpng/library/
# The configuration must parse (the TLS variant needs a certificate, made at start).
RUN nginx -t -e stderr -c /etc/nginx/nginx.conf && rm -f /tmp/nginx.pid && rm -rf /tmp/nginx-*
EXPOSE 8080 8443
USER 10002:10002
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/api/health"]
CMD ["nginx", "-e", "stderr", "-c", "/etc/nginx/nginx.conf", "-g", "daemon off;"]
