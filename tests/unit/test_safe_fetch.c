/* safe_fetch: the address table, URL checks, and real fetches against small
 * servers on loopback that this program starts itself (a plain HTTP server
 * on a thread, and for one TLS hop tests/integration/test_safe_fetch_server.py). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "upstream/safe_fetch.h"

/* ---- address_is_forbidden ------------------------------------------------ */

typedef struct {
    const char *addr;
    int forbidden;          /* with allow_loopback = 0 */
    int forbidden_loopback; /* with allow_loopback = 1 */
} addr_case;

#define F 1
#define A 0

static const addr_case addr_cases[] = {
    /* 0.0.0.0/8 */
    {"0.0.0.0", F, F},
    {"0.255.255.255", F, F},
    {"1.0.0.0", A, A},
    /* 10/8 */
    {"9.255.255.255", A, A},
    {"10.0.0.0", F, F},
    {"10.255.255.255", F, F},
    {"11.0.0.0", A, A},
    /* 100.64/10 */
    {"100.63.255.255", A, A},
    {"100.64.0.0", F, F},
    {"100.127.255.255", F, F},
    {"100.128.0.0", A, A},
    /* 127/8: the only range allow_loopback opens */
    {"126.255.255.255", A, A},
    {"127.0.0.0", F, A},
    {"127.0.0.1", F, A},
    {"127.255.255.255", F, A},
    {"128.0.0.0", A, A},
    /* 169.254/16 */
    {"169.253.255.255", A, A},
    {"169.254.0.0", F, F},
    {"169.254.169.254", F, F},
    {"169.254.255.255", F, F},
    {"169.255.0.0", A, A},
    /* 172.16/12 */
    {"172.15.255.255", A, A},
    {"172.16.0.0", F, F},
    {"172.31.255.255", F, F},
    {"172.32.0.0", A, A},
    /* 192.0.0/24, 192.0.2/24 */
    {"191.255.255.255", A, A},
    {"192.0.0.0", F, F},
    {"192.0.0.255", F, F},
    {"192.0.1.0", A, A},
    {"192.0.1.255", A, A},
    {"192.0.2.0", F, F},
    {"192.0.2.255", F, F},
    {"192.0.3.0", A, A},
    /* 192.88.99/24 */
    {"192.88.98.255", A, A},
    {"192.88.99.0", F, F},
    {"192.88.99.255", F, F},
    {"192.88.100.0", A, A},
    /* 192.168/16 */
    {"192.167.255.255", A, A},
    {"192.168.0.0", F, F},
    {"192.168.255.255", F, F},
    {"192.169.0.0", A, A},
    /* 198.18/15 */
    {"198.17.255.255", A, A},
    {"198.18.0.0", F, F},
    {"198.19.255.255", F, F},
    {"198.20.0.0", A, A},
    /* 198.51.100/24 */
    {"198.51.99.255", A, A},
    {"198.51.100.0", F, F},
    {"198.51.100.255", F, F},
    {"198.51.101.0", A, A},
    /* 203.0.113/24 */
    {"203.0.112.255", A, A},
    {"203.0.113.0", F, F},
    {"203.0.113.255", F, F},
    {"203.0.114.0", A, A},
    /* 224/4, 240/4, broadcast */
    {"223.255.255.255", A, A},
    {"224.0.0.0", F, F},
    {"239.255.255.255", F, F},
    {"240.0.0.0", F, F},
    {"255.255.255.254", F, F},
    {"255.255.255.255", F, F},
    /* public */
    {"8.8.8.8", A, A},
    {"1.1.1.1", A, A},
    {"151.101.2.132", A, A},
    {"93.184.216.34", A, A},

    /* IPv6 unspecified, loopback, ::/96 IPv4-compatible */
    {"::", F, F},
    {"::1", F, A},
    {"::2", F, F},
    {"::127.0.0.1", F, F},
    {"::8.8.8.8", F, F},
    /* ::ffff:0:0/96 IPv4-mapped: the embedded address decides */
    {"::ffff:127.0.0.1", F, A},
    {"::ffff:127.1.2.3", F, A},
    {"::ffff:0.0.0.0", F, F},
    {"::ffff:10.0.0.1", F, F},
    {"::ffff:169.254.169.254", F, F},
    {"::ffff:192.168.1.1", F, F},
    {"::ffff:255.255.255.255", F, F},
    {"::ffff:8.8.8.8", A, A},
    {"::fffe:8.8.8.8", F, F},
    {"::1:ffff:8.8.8.8", F, F},
    {"::ffff:0:8.8.8.8", F, F}, /* SIIT translated */
    /* 64:ff9b::/96 NAT64: embedded address decides, loopback never */
    {"64:ff9b::8.8.8.8", A, A},
    {"64:ff9b::10.0.0.1", F, F},
    {"64:ff9b::127.0.0.1", F, F},
    {"64:ff9b::169.254.169.254", F, F},
    {"64:ff9b::1:0:0", F, F}, /* outside the /96 */
    {"64:ff9b:1::8.8.8.8", F, F},
    /* 2002::/16 6to4: embedded address decides, loopback never */
    {"2002:808:808::1", A, A},
    {"2002:a00:1::1", F, F},
    {"2002:7f00:1::", F, F},
    {"2002:a9fe:a9fe::1", F, F},
    {"2002:c0a8:101::", F, F},
    {"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A, A},
    {"2003::1", A, A},
    /* 2001::/32 Teredo and the rest of 2001::/23 */
    {"2001::", F, F},
    {"2001:0:4136:e378:8000:63bf:3fff:fdd2", F, F},
    {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", F, F},
    {"2001:200::1", A, A},
    /* 2001:db8::/32 documentation */
    {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", A, A},
    {"2001:db8::", F, F},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", F, F},
    {"2001:db9::", A, A},
    /* 3fff::/20 documentation */
    {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A, A},
    {"3fff::", F, F},
    {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", F, F},
    {"3fff:1000::", A, A},
    /* outside 2000::/3 */
    {"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", F, F},
    {"2000::", A, A},
    {"4000::", F, F},
    /* 100::/64 discard */
    {"100::", F, F},
    {"100::ffff:ffff:ffff:ffff", F, F},
    /* fc00::/7 ULA */
    {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", F, F},
    {"fc00::", F, F},
    {"fd12:3456::1", F, F},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", F, F},
    /* fe80::/10 link-local, fec0::/10 site-local */
    {"fe80::", F, F},
    {"fe80::1", F, F},
    {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", F, F},
    {"fec0::", F, F},
    {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", F, F},
    /* ff00::/8 multicast */
    {"ff00::", F, F},
    {"ff02::1", F, F},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", F, F},
    /* public */
    {"2001:4860:4860::8888", A, A},
    {"2a04:4e42::644", A, A},
    {"2606:4700:4700::1111", A, A},
};

static void test_addresses(void)
{
    for (size_t i = 0; i < sizeof addr_cases / sizeof addr_cases[0]; i++) {
        const addr_case *c = &addr_cases[i];
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        if (strchr(c->addr, ':')) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(443);
            CHECK(inet_pton(AF_INET6, c->addr, &s6->sin6_addr) == 1);
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            s4->sin_family = AF_INET;
            s4->sin_port = htons(443);
            CHECK(inet_pton(AF_INET, c->addr, &s4->sin_addr) == 1);
        }
        int got0 = address_is_forbidden((struct sockaddr *)&ss, 0);
        int got1 = address_is_forbidden((struct sockaddr *)&ss, 1);
        CHECK(got0 == c->forbidden);
        CHECK(got1 == c->forbidden_loopback);
        if (got0 != c->forbidden || got1 != c->forbidden_loopback)
            fprintf(stderr, "  %s: forbidden=%d/%d, expected %d/%d\n", c->addr, got0, got1,
                    c->forbidden, c->forbidden_loopback);
    }
    /* other families, and nothing at all */
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    CHECK(address_is_forbidden((struct sockaddr *)&un, 1) == 1);
    CHECK(address_is_forbidden(NULL, 1) == 1);
}

#undef F
#undef A

/* ---- url_check ----------------------------------------------------------- */

static const char unsplash_hosts[][SAFE_FETCH_HOST_MAX] = {"images.unsplash.com"};
static const char loopback_ip_hosts[][SAFE_FETCH_HOST_MAX] = {"127.0.0.1"};

typedef struct {
    const char *url;
    fetch_result want;
} url_case;

static const url_case url_cases[] = {
    {"https://images.unsplash.com/photo-1?w=400&fm=png", FETCH_OK},
    {"https://images.unsplash.com", FETCH_OK},
    {"HTTPS://IMAGES.Unsplash.COM/x", FETCH_OK},
    {"https://images.unsplash.com./x", FETCH_OK},
    {"https://images.unsplash.com:443/x", FETCH_OK},
    {"https://images.unsplash.com/x#frag", FETCH_OK},
    /* scheme */
    {"http://images.unsplash.com/x", FETCH_ERR_SCHEME},
    {"ftp://images.unsplash.com/x", FETCH_ERR_SCHEME},
    {"file:///etc/passwd", FETCH_ERR_SCHEME},
    {"file://images.unsplash.com/etc/passwd", FETCH_ERR_SCHEME},
    {"https-x://images.unsplash.com/", FETCH_ERR_SCHEME},
    {"images.unsplash.com/x?u=https://images.unsplash.com/", FETCH_ERR_SCHEME},
    {"gopher://images.unsplash.com/", FETCH_ERR_SCHEME},
    {"dict://images.unsplash.com:11211/", FETCH_ERR_SCHEME},
    {"javascript:alert(1)", FETCH_ERR_BAD_URL},
    {"//images.unsplash.com/x", FETCH_ERR_BAD_URL},
    {"images.unsplash.com/x", FETCH_ERR_BAD_URL},
    /* host shape */
    {"", FETCH_ERR_BAD_URL},
    {"https://", FETCH_ERR_BAD_URL},
    {"https:///x", FETCH_ERR_BAD_URL}, /* curl would connect to "x" */
    {"https://?x", FETCH_ERR_BAD_URL},
    {"https://images.unsplash.com:99999/", FETCH_ERR_BAD_URL},
    {"https://images%2Eunsplash.com/", FETCH_ERR_BAD_URL},
    {"https://images.unsplash.com%00.evil.com/", FETCH_ERR_BAD_URL},
    {"https://[fe80::1%25eth0]/", FETCH_ERR_BAD_URL},
    /* userinfo and look-alikes */
    {"https://user@images.unsplash.com/", FETCH_ERR_BAD_URL},
    {"https://user:pass@images.unsplash.com/", FETCH_ERR_BAD_URL},
    {"https://@images.unsplash.com/", FETCH_ERR_BAD_URL},
    {"https://:@images.unsplash.com/", FETCH_ERR_BAD_URL},
    {"https://images.unsplash.com@evil.com/", FETCH_ERR_BAD_URL},
    {"https://images.unsplash.com;x@evil.com/", FETCH_ERR_BAD_URL},
    {"https://images.unsplash.com\\@evil.com/", FETCH_ERR_BAD_URL},
    {"https://evil.com\\images.unsplash.com/", FETCH_ERR_BAD_URL},
    {"https://evil.com#@images.unsplash.com/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://evil.com?@images.unsplash.com/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://evil.com/@images.unsplash.com/", FETCH_ERR_HOST_NOT_ALLOWED},
    /* control characters, spaces, non-ASCII */
    {"https://images.unsplash.com/a b", FETCH_ERR_BAD_URL},
    {"https://images.unsplash.com/\r\nHost: evil.com", FETCH_ERR_BAD_URL},
    {"https://images.unsplash.com\t/x", FETCH_ERR_BAD_URL},
    {" https://images.unsplash.com/", FETCH_ERR_BAD_URL},
    {"https://images.unsplash.com/\x7f", FETCH_ERR_BAD_URL},
    {"https://im\xc3\xa0ges.unsplash.com/", FETCH_ERR_BAD_URL},
    /* not the allow-listed name */
    {"https://images.unsplash.com.evil.com/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://evilimages.unsplash.com/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://x.images.unsplash.com/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://unsplash.com/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://images.unsplash.com../", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://images-unsplash.com/", FETCH_ERR_HOST_NOT_ALLOWED},
    /* numeric hosts are never on a host-name list */
    {"https://127.0.0.1/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://127.1/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://0x7f.1/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://2130706433/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://017700000001/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://0/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://169.254.169.254/latest/meta-data/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://[::1]/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://[::ffff:127.0.0.1]/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://[::ffff:7f00:1]/", FETCH_ERR_HOST_NOT_ALLOWED},
    {"https://localhost/", FETCH_ERR_HOST_NOT_ALLOWED},
};

static void test_urls(void)
{
    fetch_policy pol = {.hosts = unsplash_hosts, .host_count = 1};
    char host[SAFE_FETCH_HOST_MAX];
    for (size_t i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++) {
        fetch_result got = url_check(url_cases[i].url, &pol, host, sizeof host);
        CHECK(got == url_cases[i].want);
        if (got != url_cases[i].want)
            fprintf(stderr, "  url_check(\"%s\") = %s, expected %s\n", url_cases[i].url,
                    fetch_result_name(got), fetch_result_name(url_cases[i].want));
        if (got == FETCH_OK)
            CHECK_STR(host, "images.unsplash.com");
    }
    CHECK(url_check(NULL, &pol, host, sizeof host) == FETCH_ERR_BAD_URL);
    CHECK(url_check("https://images.unsplash.com/", &pol, NULL, 0) == FETCH_OK);
    CHECK(url_check("https://images.unsplash.com/", &pol, host, 5) == FETCH_ERR_BAD_URL);

    /* http only when allowed, and then still only allow-listed hosts */
    pol.allow_http = 1;
    CHECK(url_check("http://images.unsplash.com/x", &pol, host, sizeof host) == FETCH_OK);
    CHECK(url_check("http://evil.com/x", &pol, host, sizeof host) == FETCH_ERR_HOST_NOT_ALLOWED);
    CHECK(url_check("ftp://images.unsplash.com/x", &pol, host, sizeof host) == FETCH_ERR_SCHEME);
    pol.allow_http = 0;

    /* length: 2048 passes, 2049 does not */
    char url[SAFE_FETCH_MAX_URL + 2];
    const char *prefix = "https://images.unsplash.com/";
    size_t plen = strlen(prefix);
    memcpy(url, prefix, plen);
    memset(url + plen, 'a', SAFE_FETCH_MAX_URL - plen);
    url[SAFE_FETCH_MAX_URL] = '\0';
    CHECK(url_check(url, &pol, host, sizeof host) == FETCH_OK);
    url[SAFE_FETCH_MAX_URL] = 'a';
    url[SAFE_FETCH_MAX_URL + 1] = '\0';
    CHECK(url_check(url, &pol, host, sizeof host) == FETCH_ERR_BAD_URL);

    /* With "127.0.0.1" on the list, curl's parser reads every numeric
     * spelling as that host: gate 1 passes them and gate 2 must refuse
     * (see test_fetch_forbidden_addresses). */
    fetch_policy ip = {.hosts = loopback_ip_hosts, .host_count = 1, .allow_http = 1};
    static const char *const spellings[] = {"http://127.0.0.1/",    "http://127.1/",
                                            "http://0x7f.1/",       "http://2130706433/",
                                            "http://017700000001/", "http://0x7f000001/"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        CHECK(url_check(spellings[i], &ip, host, sizeof host) == FETCH_OK);
        CHECK_STR(host, "127.0.0.1");
    }
    CHECK(url_check("http://[::ffff:127.0.0.1]/", &ip, host, sizeof host) ==
          FETCH_ERR_HOST_NOT_ALLOWED);
    CHECK(url_check("http://127.0.0.2/", &ip, host, sizeof host) == FETCH_ERR_HOST_NOT_ALLOWED);

    CHECK_STR(fetch_result_name(FETCH_ERR_ADDRESS_FORBIDDEN), "address_forbidden");
    CHECK_STR(fetch_result_name(FETCH_OK), "ok");
}

/* ---- a plain HTTP server on loopback ------------------------------------- */

#define TEST_CAP 1000 /* max_bytes in the fetch tests */
#define N_TARGETS 4

typedef struct {
    int fd;
    int port;
    atomic_int accepted;
    atomic_int stop;
    pthread_t thread;
    pthread_mutex_t lock;
    char targets[N_TARGETS][512]; /* GET /r/N answers 302 Location: targets[N] */
} test_server;

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* 1 once the client has closed its end (or after ms). */
static int peer_closed(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return 0;
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

static void send_body(int fd, const char *status, const char *extra, size_t len)
{
    char head[512];
    snprintf(head, sizeof head,
             "HTTP/1.1 %s\r\nContent-Type: image/png\r\n%sContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n",
             status, extra, len);
    send_str(fd, head);
    char chunk[512];
    memset(chunk, 'x', sizeof chunk);
    while (len) {
        size_t n = len < sizeof chunk ? len : sizeof chunk;
        send_all(fd, chunk, n);
        len -= n;
    }
}

static void send_chunked(int fd, int chunks, size_t each)
{
    send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n"
                 "Connection: close\r\n\r\n");
    char data[512];
    memset(data, 'c', sizeof data);
    for (int i = 0; i < chunks; i++) {
        char size[32];
        snprintf(size, sizeof size, "%zx\r\n", each);
        send_str(fd, size);
        send_all(fd, data, each);
        send_str(fd, "\r\n");
    }
    send_str(fd, "0\r\n\r\n");
}

static void send_redirect(int fd, const char *location)
{
    char head[1024];
    snprintf(head, sizeof head,
             "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n",
             location);
    send_str(fd, head);
}

static void serve_one(test_server *s, int fd)
{
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[4096];
    size_t len = 0;
    while (len < sizeof req - 1) {
        ssize_t n = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (n <= 0)
            return;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    char path[256] = "";
    if (sscanf(req, "GET %255s HTTP/1.1", path) != 1)
        return;

    if (!strcmp(path, "/ok")) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 5\r\n"
                     "Connection: close\r\n\r\nhello");
    } else if (!strcmp(path, "/exact")) {
        send_body(fd, "200 OK", "", TEST_CAP);
    } else if (!strcmp(path, "/big")) {
        send_body(fd, "200 OK", "", TEST_CAP + 1);
    } else if (!strcmp(path, "/big-nolen")) { /* body ends at close, no length */
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n");
        char data[TEST_CAP * 4];
        memset(data, 'n', sizeof data);
        send_all(fd, data, sizeof data);
    } else if (!strcmp(path, "/chunked-ok")) {
        send_chunked(fd, 2, 300);
    } else if (!strcmp(path, "/chunked-big")) {
        send_chunked(fd, 10, 300);
    } else if (!strncmp(path, "/r/", 3) && path[3] >= '0' && path[3] < '0' + N_TARGETS) {
        char location[512];
        pthread_mutex_lock(&s->lock);
        snprintf(location, sizeof location, "%s", s->targets[path[3] - '0']);
        pthread_mutex_unlock(&s->lock);
        send_redirect(fd, location);
    } else if (!strcmp(path, "/loop")) {
        send_redirect(fd, "/loop");
    } else if (!strcmp(path, "/echo")) { /* the request head, to look for leaks */
        char head[128];
        snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", len);
        send_str(fd, head);
        send_all(fd, req, len);
    } else if (!strcmp(path, "/stall")) { /* never answers */
        for (int i = 0; i < 50 && !peer_closed(fd, 100); i++)
            ;
    } else if (!strcmp(path, "/trickle")) { /* one byte per 100 ms */
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 900\r\nConnection: close\r\n\r\n");
        for (int i = 0; i < 50 && !peer_closed(fd, 100); i++)
            send_all(fd, "t", 1);
    } else {
        send_str(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
                     "not found");
    }
}

static void *server_main(void *arg)
{
    test_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        atomic_fetch_add(&s->accepted, 1);
        serve_one(s, c);
        close(c);
    }
    return NULL;
}

static int server_start(test_server *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 16) ||
        getsockname(s->fd, (struct sockaddr *)&a, &alen))
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->thread, NULL, server_main, s) ? -1 : 0;
}

static void server_stop(test_server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->lock);
}

/* Copies pattern to out with its "%d", if any, replaced by port. (Not
 * printf: the patterns live in tables, and -Wformat=2 wants literals.) */
static void with_port(char *out, size_t outlen, const char *pattern, int port)
{
    const char *at = strstr(pattern, "%d");
    if (!at) {
        snprintf(out, outlen, "%s", pattern);
        return;
    }
    snprintf(out, outlen, "%.*s%d%s", (int)(at - pattern), pattern, port, at + 2);
}

static void server_target(test_server *s, int i, const char *pattern, int port)
{
    pthread_mutex_lock(&s->lock);
    with_port(s->targets[i], sizeof s->targets[i], pattern, port);
    pthread_mutex_unlock(&s->lock);
}

/* Accepts so far, after giving a stray connection time to be accepted. */
static int server_accepted(test_server *s)
{
    usleep(150 * 1000);
    return atomic_load(&s->accepted);
}

/* ---- fetches ------------------------------------------------------------- */

static test_server srv;  /* the server the tests talk to */
static test_server trap; /* a server no test may ever reach */
static CURL *curl;

static fetch_policy test_policy(const char (*hosts)[SAFE_FETCH_HOST_MAX], int n)
{
    fetch_policy p = {.hosts = hosts,
                      .host_count = n,
                      .allow_http = 1,
                      .allow_loopback = 1,
                      .max_bytes = TEST_CAP,
                      .connect_timeout_ms = 2000,
                      .timeout_ms = 5000,
                      .max_redirects = 3};
    return p;
}

typedef struct {
    fetch_result r;
    long status;
    char ct[64];
    char why[128];
    buf body;
} fetched;

static void fetch(fetched *f, const fetch_policy *pol, const char *pattern, int port)
{
    char url[512];
    with_port(url, sizeof url, pattern, port);
    f->r = safe_fetch(curl, url, pol, &f->body, &f->status, f->ct, sizeof f->ct, f->why,
                      sizeof f->why);
}

#define EXPECT(f, want)                                                                            \
    do {                                                                                           \
        CHECK((f).r == (want));                                                                    \
        if ((f).r != (want))                                                                       \
            fprintf(stderr, "  got %s (%s), expected %s\n", fetch_result_name((f).r), (f).why,     \
                    fetch_result_name(want));                                                      \
    } while (0)

static void test_fetch_basics(void)
{
    fetch_policy pol = test_policy(loopback_ip_hosts, 1);
    fetched f;

    fetch(&f, &pol, "http://127.0.0.1:%d/ok", srv.port);
    EXPECT(f, FETCH_OK);
    CHECK(f.status == 200);
    CHECK(f.body.len == 5 && !memcmp(f.body.data, "hello", 5));
    CHECK_STR(f.ct, "image/png");
    CHECK_STR(f.why, "ok");
    buf_free(&f.body);

    fetch(&f, &pol, "http://127.0.0.1:%d/exact", srv.port); /* exactly the cap */
    EXPECT(f, FETCH_OK);
    CHECK(f.body.len == TEST_CAP);
    buf_free(&f.body);

    fetch(&f, &pol, "http://127.0.0.1:%d/big", srv.port); /* Content-Length over the cap */
    EXPECT(f, FETCH_ERR_TOO_LARGE);
    CHECK(f.body.len == 0);
    buf_free(&f.body);

    fetch(&f, &pol, "http://127.0.0.1:%d/big-nolen", srv.port); /* no length at all */
    EXPECT(f, FETCH_ERR_TOO_LARGE);
    buf_free(&f.body);

    fetch(&f, &pol, "http://127.0.0.1:%d/chunked-ok", srv.port);
    EXPECT(f, FETCH_OK);
    CHECK(f.body.len == 600);
    buf_free(&f.body);

    fetch(&f, &pol, "http://127.0.0.1:%d/chunked-big", srv.port);
    EXPECT(f, FETCH_ERR_TOO_LARGE);
    buf_free(&f.body);

    fetch(&f, &pol, "http://127.0.0.1:%d/nothing-here", srv.port);
    EXPECT(f, FETCH_ERR_HTTP_STATUS);
    CHECK(f.status == 404);
    CHECK(strstr(f.why, "not found") == NULL); /* the server's body is not echoed */
    buf_free(&f.body);

    /* https only: an http URL never connects */
    int before = server_accepted(&srv);
    pol.allow_http = 0;
    fetch(&f, &pol, "http://127.0.0.1:%d/ok", srv.port);
    EXPECT(f, FETCH_ERR_SCHEME);
    buf_free(&f.body);
    CHECK(server_accepted(&srv) == before);

    /* a bad policy is refused, not guessed at */
    pol = test_policy(loopback_ip_hosts, 1);
    pol.max_bytes = 0;
    fetch(&f, &pol, "http://127.0.0.1:%d/ok", srv.port);
    EXPECT(f, FETCH_ERR_INTERNAL);
    buf_free(&f.body);
}

/* Options left on the per-thread handle by earlier users never reach the
 * fetched server: no credentials, cookies or extra headers. */
static void test_fetch_no_leaks(void)
{
    struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer sk-secret-1");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_USERPWD, "user:sk-secret-2");
    curl_easy_setopt(curl, CURLOPT_COOKIE, "session=sk-secret-3");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);

    fetch_policy pol = test_policy(loopback_ip_hosts, 1);
    fetched f;
    fetch(&f, &pol, "http://127.0.0.1:%d/echo", srv.port);
    EXPECT(f, FETCH_OK);
    CHECK(f.body.data && !strstr(f.body.data, "sk-secret"));
    CHECK(f.body.data && !strstr(f.body.data, "Authorization"));
    CHECK(f.body.data && !strstr(f.body.data, "Cookie"));
    CHECK(f.body.data && strstr(f.body.data, "User-Agent: cleanpng/"));
    buf_free(&f.body);
    curl_slist_free_all(h);
}

static void test_fetch_redirects(void)
{
    fetch_policy pol = test_policy(loopback_ip_hosts, 1);
    fetched f;

    /* to an allowed URL, absolute and relative */
    server_target(&srv, 0, "http://127.0.0.1:%d/ok", srv.port);
    fetch(&f, &pol, "http://127.0.0.1:%d/r/0", srv.port);
    EXPECT(f, FETCH_OK);
    CHECK(f.status == 200 && f.body.len == 5);
    buf_free(&f.body);

    /* a chain of exactly max_redirects hops, then one too many */
    server_target(&srv, 1, "/r/2", 0);
    server_target(&srv, 2, "/r/3", 0);
    server_target(&srv, 3, "/ok", 0);
    fetch(&f, &pol, "http://127.0.0.1:%d/r/1", srv.port);
    EXPECT(f, FETCH_OK);
    buf_free(&f.body);
    pol.max_redirects = 1;
    fetch(&f, &pol, "http://127.0.0.1:%d/r/1", srv.port);
    EXPECT(f, FETCH_ERR_TOO_MANY_REDIRECTS);
    buf_free(&f.body);
    pol.max_redirects = 0;
    fetch(&f, &pol, "http://127.0.0.1:%d/r/0", srv.port);
    EXPECT(f, FETCH_ERR_TOO_MANY_REDIRECTS);
    CHECK(f.status == 302);
    buf_free(&f.body);

    /* a loop stops after max_redirects hops: 1 + 3 requests, no more */
    pol.max_redirects = 3;
    int before = server_accepted(&srv);
    fetch(&f, &pol, "http://127.0.0.1:%d/loop", srv.port);
    EXPECT(f, FETCH_ERR_TOO_MANY_REDIRECTS);
    buf_free(&f.body);
    CHECK(server_accepted(&srv) - before == 4);

    /* refused targets: the trap server must never see a connection */
    static const struct {
        const char *target;
        fetch_result want;
    } refused[] = {
        {"http://localhost:%d/ok", FETCH_ERR_HOST_NOT_ALLOWED},
        {"http://127.0.0.1.nip.io:%d/ok", FETCH_ERR_HOST_NOT_ALLOWED},
        {"http://x@127.0.0.1:%d/ok", FETCH_ERR_BAD_URL},
        {"ftp://127.0.0.1:%d/ok", FETCH_ERR_SCHEME},
        {"http://169.254.169.254/latest/meta-data/?%d", FETCH_ERR_HOST_NOT_ALLOWED},
        {"http://[::ffff:169.254.169.254]/?%d", FETCH_ERR_HOST_NOT_ALLOWED},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        server_target(&srv, 0, refused[i].target, trap.port);
        fetch(&f, &pol, "http://127.0.0.1:%d/r/0", srv.port);
        EXPECT(f, refused[i].want);
        CHECK(f.status == 302);
        CHECK(strncmp(f.why, "redirect: ", 10) == 0);
        buf_free(&f.body);
    }
    CHECK(server_accepted(&trap) == 0);

    /* The metadata address on the allow-list still never gets a socket:
     * gate 2 refuses it, at once rather than after a connect timeout. */
    static const char meta_hosts[][SAFE_FETCH_HOST_MAX] = {"127.0.0.1", "169.254.169.254"};
    pol = test_policy(meta_hosts, 2);
    pol.connect_timeout_ms = 3000;
    server_target(&srv, 0, "http://169.254.169.254/latest/meta-data/", 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fetch(&f, &pol, "http://127.0.0.1:%d/r/0", srv.port);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    EXPECT(f, FETCH_ERR_ADDRESS_FORBIDDEN);
    CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
    buf_free(&f.body);
}

/* Gate 2 with the host on the allow-list but loopback not allowed: every
 * spelling reaches the same refusal, and the server never sees a connection. */
static void test_fetch_forbidden_addresses(void)
{
    static const char hosts[][SAFE_FETCH_HOST_MAX] = {"127.0.0.1", "localhost",
                                                      "[::ffff:127.0.0.1]", "[::1]", "10.0.0.1"};
    fetch_policy pol = test_policy(hosts, 5);
    pol.allow_loopback = 0;
    static const char *const urls[] = {
        "http://127.0.0.1:%d/ok",          "http://127.1:%d/ok",        "http://0x7f.1:%d/ok",
        "http://2130706433:%d/ok",         "http://017700000001:%d/ok", "http://0x7f000001:%d/ok",
        "http://localhost:%d/ok",          "http://LocalHost:%d/ok",    "http://[::1]:%d/ok",
        "http://[::ffff:127.0.0.1]:%d/ok",
    };
    int before = server_accepted(&srv);
    fetched f;
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        fetch(&f, &pol, urls[i], srv.port);
        EXPECT(f, FETCH_ERR_ADDRESS_FORBIDDEN);
        if (f.r != FETCH_ERR_ADDRESS_FORBIDDEN)
            fprintf(stderr, "  url %s\n", urls[i]);
        buf_free(&f.body);
    }
    CHECK(server_accepted(&srv) == before);

    /* allow_loopback opens 127/8 and nothing else */
    pol.allow_loopback = 1;
    fetch(&f, &pol, "http://0x7f.1:%d/ok", srv.port);
    EXPECT(f, FETCH_OK);
    buf_free(&f.body);
    fetch(&f, &pol, "http://10.0.0.1:%d/ok", srv.port);
    EXPECT(f, FETCH_ERR_ADDRESS_FORBIDDEN);
    buf_free(&f.body);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_fetch_timeouts(void)
{
    fetch_policy pol = test_policy(loopback_ip_hosts, 1);
    pol.timeout_ms = 700;
    static const char *const slow[] = {"http://127.0.0.1:%d/stall", "http://127.0.0.1:%d/trickle"};
    for (size_t i = 0; i < sizeof slow / sizeof slow[0]; i++) {
        fetched f;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        fetch(&f, &pol, slow[i], srv.port);
        long ms = elapsed_ms(&t0);
        EXPECT(f, FETCH_ERR_TIMEOUT);
        CHECK(ms >= 600 && ms < 700 + 500);
        if (ms < 600 || ms >= 1200)
            fprintf(stderr, "  %s took %ld ms\n", slow[i], ms);
        buf_free(&f.body);
    }
}

/* ---- one TLS hop, from tests/integration/test_safe_fetch_server.py ------- */

typedef struct {
    pid_t pid;
    int to_child; /* closing it stops the server */
    int port;
    char ca_file[512];
} tls_server;

static int tls_start(tls_server *t, const char *redirect_target)
{
    char script[1024];
    const char *env = getenv("CLEANPNG_SAFE_FETCH_SERVER");
    if (env) {
        snprintf(script, sizeof script, "%s", env);
    } else { /* next to this file: ../integration/ */
        snprintf(script, sizeof script, "%s", __FILE__);
        char *slash = strrchr(script, '/');
        if (slash)
            *slash = '\0';
        slash = strrchr(script, '/');
        size_t keep = slash ? (size_t)(slash - script) + 1 : 0;
        snprintf(script + keep, sizeof script - keep, "integration/test_safe_fetch_server.py");
    }
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return -1;
    t->pid = fork();
    if (t->pid < 0)
        return -1;
    if (t->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execl("/usr/bin/python3", "python3", script, redirect_target, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    t->to_child = in[1];
    char line[1024];
    size_t len = 0;
    while (len < sizeof line - 1) {
        ssize_t n = read(out[0], line + len, 1);
        if (n <= 0 || line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    close(out[0]);
    if (sscanf(line, "%d %511s", &t->port, t->ca_file) != 2) {
        fprintf(stderr, "  TLS helper %s did not start (needs /usr/bin/python3 and openssl)\n",
                script);
        return -1;
    }
    return 0;
}

static void tls_stop(tls_server *t)
{
    close(t->to_child);
    waitpid(t->pid, NULL, 0);
}

static void test_fetch_tls(void)
{
    char target[128];
    snprintf(target, sizeof target, "http://127.0.0.1:%d/ok", trap.port);
    tls_server t;
    int started = tls_start(&t, target) == 0;
    CHECK(started);
    if (!started)
        return;

    fetch_policy pol = test_policy(loopback_ip_hosts, 1);
    pol.allow_http = 0;
    pol.ca_file = t.ca_file;
    fetched f;

    fetch(&f, &pol, "https://127.0.0.1:%d/ok", t.port);
    EXPECT(f, FETCH_OK);
    CHECK(f.body.len == 9 && !memcmp(f.body.data, "hello-tls", 9));
    buf_free(&f.body);

    /* https -> http is refused before any connection to the target */
    fetch(&f, &pol, "https://127.0.0.1:%d/redirect", t.port);
    EXPECT(f, FETCH_ERR_SCHEME);
    CHECK(f.status == 302);
    buf_free(&f.body);
    CHECK(server_accepted(&trap) == 0);

    /* the control: with http allowed the same redirect is followed */
    pol.allow_http = 1;
    fetch(&f, &pol, "https://127.0.0.1:%d/redirect", t.port);
    EXPECT(f, FETCH_OK);
    buf_free(&f.body);
    CHECK(server_accepted(&trap) == 1);

    /* certificates are verified: without the test CA the fetch fails */
    pol.ca_file = NULL;
    fetch(&f, &pol, "https://127.0.0.1:%d/ok", t.port);
    EXPECT(f, FETCH_ERR_NETWORK);
    buf_free(&f.body);

    tls_stop(&t);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_addresses();
    test_urls();

    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    CHECK(curl != NULL);
    CHECK(server_start(&srv) == 0);
    CHECK(server_start(&trap) == 0);
    test_fetch_basics();
    test_fetch_no_leaks();
    test_fetch_redirects();
    test_fetch_forbidden_addresses();
    test_fetch_timeouts();
    test_fetch_tls(); /* last: the trap server is reached on purpose */
    server_stop(&srv);
    server_stop(&trap);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return check_done("safe_fetch");
}
