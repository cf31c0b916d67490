#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "http/multipart.h"

#include <string.h>

/* ---- character classes (RFC 2045 token, RFC 2046 bchars) ---------------- */

static int is_tspecial(unsigned char c)
{
    return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* Control characters other than horizontal tab. */
static int is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int is_tchar(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !is_tspecial(c);
}

static int is_bchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static int valid_boundary(const char *b, size_t n)
{
    if (n < 1 || n > MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_bchar((unsigned char)b[i]))
            return 0;
    return 1;
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the lower-case literal lit, ignoring ASCII case. */
static int ieq(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++)
        if (ascii_lower((unsigned char)s[i]) != (unsigned char)lit[i])
            return 0;
    return i == n && lit[i] == '\0';
}

static int ihasprefix(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && ieq(s, l, lit);
}

/* ---- header parameters: ';' attr '=' (token | quoted-string) ----------- */

typedef struct {
    const char *s;
    size_t n, i;
} cursor;

static void skip_ows(cursor *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
        c->i++;
}

static size_t take_token(cursor *c)
{
    size_t start = c->i;
    while (c->i < c->n && is_tchar((unsigned char)c->s[c->i]))
        c->i++;
    return c->i - start;
}

/* The cursor is on the opening quote; moves past the closing one. A backslash
 * escapes a tspecial only (see multipart.h); decode_value follows the same
 * rule. -1 when unterminated or holding a control character. */
static int take_quoted(cursor *c)
{
    c->i++;
    while (c->i < c->n) {
        unsigned char ch = (unsigned char)c->s[c->i];
        if (ch == '"') {
            c->i++;
            return 0;
        }
        if (ch == '\\' && c->i + 1 < c->n && is_tspecial((unsigned char)c->s[c->i + 1])) {
            c->i += 2;
            continue;
        }
        if (is_ctl(ch))
            return -1;
        c->i++;
    }
    return -1;
}

typedef struct {
    const char *attr;
    size_t attr_len;
    const char *val; /* raw: a quoted value without its quotes, still escaped */
    size_t val_len;
    int quoted;
} param;

/* 1 with *p set, 0 at the end, -1 on a syntax error. */
static int next_param(cursor *c, param *p)
{
    skip_ows(c);
    if (c->i == c->n)
        return 0;
    if (c->s[c->i] != ';')
        return -1;
    c->i++;
    skip_ows(c);
    if (c->i == c->n)
        return 0; /* a trailing ';' */
    p->attr = c->s + c->i;
    p->attr_len = take_token(c);
    if (p->attr_len == 0)
        return -1;
    skip_ows(c);
    if (c->i == c->n || c->s[c->i] != '=')
        return -1;
    c->i++;
    skip_ows(c);
    if (c->i < c->n && c->s[c->i] == '"') {
        size_t start = c->i + 1;
        if (take_quoted(c) < 0)
            return -1;
        p->val = c->s + start;
        p->val_len = c->i - 1 - start;
        p->quoted = 1;
    } else {
        p->val = c->s + c->i;
        p->val_len = take_token(c);
        p->quoted = 0;
        if (p->val_len == 0)
            return -1;
    }
    return 1;
}

/* A bounded output for decoded values. With strip_path, '/' and '\' start
 * the value afresh, so only the last path component is kept and only its
 * length counts against cap. */
typedef struct {
    char *buf;
    size_t cap; /* including the NUL */
    size_t len;
    int strip_path;
    int ctl;      /* a control character or NUL was decoded: sticky */
    int overflow; /* the current component does not fit */
} sink;

static void sink_put(sink *k, unsigned char ch)
{
    if (ch < 0x20 || ch == 0x7f) {
        k->ctl = 1;
        return;
    }
    if (k->strip_path && (ch == '/' || ch == '\\')) {
        k->len = 0;
        k->overflow = 0;
        return;
    }
    if (k->len + 1 >= k->cap) {
        k->overflow = 1;
        return;
    }
    k->buf[k->len++] = (char)ch;
}

/* NUL-terminates; 0 when the value was decoded whole, -1 otherwise. */
static int sink_end(sink *k)
{
    k->buf[k->len] = '\0';
    return (k->ctl || k->overflow) ? -1 : 0;
}

static void decode_value(const param *p, sink *k)
{
    for (size_t i = 0; i < p->val_len; i++) {
        unsigned char ch = (unsigned char)p->val[i];
        if (p->quoted && ch == '\\' && i + 1 < p->val_len &&
            is_tspecial((unsigned char)p->val[i + 1]))
            ch = (unsigned char)p->val[++i];
        sink_put(k, ch);
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* RFC 5987 ext-value: charset "'" [language] "'" pct-encoded. 0 decoded,
 * 1 an unsupported charset (the caller ignores the parameter), -1 malformed. */
static int decode_ext_value(const param *p, sink *k)
{
    const char *v = p->val, *end = p->val + p->val_len;
    const char *q1 = memchr(v, '\'', p->val_len);
    if (p->quoted || !q1)
        return -1;
    const char *q2 = memchr(q1 + 1, '\'', (size_t)(end - (q1 + 1)));
    if (!q2)
        return -1;
    int latin1 = ieq(v, (size_t)(q1 - v), "iso-8859-1");
    if (!latin1 && !ieq(v, (size_t)(q1 - v), "utf-8"))
        return 1;
    for (const char *s = q2 + 1; s < end; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '%') {
            if (end - s < 3)
                return -1;
            int hi = hexval((unsigned char)s[1]);
            int lo = hexval((unsigned char)s[2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = (unsigned char)(hi * 16 + lo);
            s += 2;
        } else if (ch == '\'') {
            return -1;
        }
        if (latin1 && ch >= 0x80) {
            sink_put(k, (unsigned char)(0xc0 | (ch >> 6)));
            sink_put(k, (unsigned char)(0x80 | (ch & 0x3f)));
        } else {
            sink_put(k, ch);
        }
    }
    return 0;
}

/* ---- boundary from Content-Type ----------------------------------------- */

int multipart_boundary(const char *content_type, char *out, size_t outlen)
{
    if (!content_type || !out || outlen == 0)
        return -1;
    out[0] = '\0';
    cursor c = {content_type, strlen(content_type), 0};
    skip_ows(&c);
    const char *type = content_type + c.i;
    size_t type_len = take_token(&c);
    if (!ieq(type, type_len, "multipart") || c.i == c.n || c.s[c.i] != '/')
        return -1;
    c.i++;
    const char *sub = content_type + c.i;
    size_t sub_len = take_token(&c);
    if (!ieq(sub, sub_len, "form-data"))
        return -1;

    char b[MULTIPART_BOUNDARY_MAX + 1];
    size_t blen = 0;
    int found = 0, r;
    param p;
    while ((r = next_param(&c, &p)) == 1) {
        if (!ieq(p.attr, p.attr_len, "boundary"))
            continue;
        if (found)
            return -1; /* two boundaries: which one would the sender use? */
        found = 1;
        sink k = {b, sizeof b, 0, 0, 0, 0};
        decode_value(&p, &k);
        if (sink_end(&k) < 0)
            return -1;
        blen = k.len;
    }
    if (r < 0 || !found || !valid_boundary(b, blen) || blen >= outlen)
        return -1;
    memcpy(out, b, blen + 1);
    return 0;
}

/* ---- part headers ------------------------------------------------------- */

typedef struct {
    int disposition, content_type;
} headers_seen;

static multipart_status parse_disposition(const char *v, size_t n, multipart_part *part)
{
    cursor c = {v, n, 0};
    size_t type_len = take_token(&c);
    if (!ieq(v, type_len, "form-data"))
        return MULTIPART_ERR_BAD_DISPOSITION;

    int have_name = 0, have_filename = 0, have_ext = 0, ext_used = 0, r;
    param p;
    while ((r = next_param(&c, &p)) == 1) {
        if (ieq(p.attr, p.attr_len, "name")) {
            if (have_name++)
                return MULTIPART_ERR_MALFORMED;
            sink k = {part->name, sizeof part->name, 0, 0, 0, 0};
            decode_value(&p, &k);
            if (sink_end(&k) < 0 || k.len == 0)
                return MULTIPART_ERR_BAD_NAME;
        } else if (ieq(p.attr, p.attr_len, "filename")) {
            if (have_filename++)
                return MULTIPART_ERR_MALFORMED;
            if (ext_used)
                continue; /* filename*= wins */
            sink k = {part->filename, sizeof part->filename, 0, 1, 0, 0};
            decode_value(&p, &k);
            if (sink_end(&k) < 0)
                return MULTIPART_ERR_BAD_NAME;
        } else if (ieq(p.attr, p.attr_len, "filename*")) {
            if (have_ext++)
                return MULTIPART_ERR_MALFORMED;
            char tmp[MULTIPART_FILENAME_MAX];
            sink k = {tmp, sizeof tmp, 0, 1, 0, 0};
            int e = decode_ext_value(&p, &k);
            if (e < 0)
                return MULTIPART_ERR_MALFORMED;
            if (e > 0)
                continue; /* unsupported charset: fall back to filename= */
            if (sink_end(&k) < 0)
                return MULTIPART_ERR_BAD_NAME;
            memcpy(part->filename, tmp, k.len + 1);
            ext_used = 1;
        }
    }
    if (r < 0)
        return MULTIPART_ERR_MALFORMED;
    if (!have_name)
        return MULTIPART_ERR_BAD_DISPOSITION;
    part->has_filename = have_filename || have_ext;
    return MULTIPART_OK;
}

/* One header line without its CRLF. */
static multipart_status parse_header_line(const char *line, size_t n, multipart_part *part,
                                          headers_seen *seen)
{
    size_t name_len = 0;
    while (name_len < n && is_tchar((unsigned char)line[name_len]))
        name_len++;
    if (name_len == 0 || name_len == n || line[name_len] != ':')
        return MULTIPART_ERR_MALFORMED; /* also obs-fold, which starts with a space */
    size_t vs = name_len + 1, ve = n;
    for (size_t i = vs; i < ve; i++)
        if (is_ctl((unsigned char)line[i]))
            return MULTIPART_ERR_MALFORMED;
    while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
        vs++;
    while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
        ve--;
    const char *v = line + vs;
    size_t vn = ve - vs;

    if (ieq(line, name_len, "content-disposition")) {
        if (seen->disposition++)
            return MULTIPART_ERR_BAD_DISPOSITION;
        return parse_disposition(v, vn, part);
    }
    if (ieq(line, name_len, "content-type")) {
        if (seen->content_type++)
            return MULTIPART_ERR_MALFORMED;
        if (ihasprefix(v, vn, "multipart/"))
            return MULTIPART_ERR_NESTED;
        if (vn >= sizeof part->content_type)
            return MULTIPART_ERR_MALFORMED; /* refused rather than cut */
        memcpy(part->content_type, v, vn);
        part->content_type[vn] = '\0';
        return MULTIPART_OK;
    }
    if (ieq(line, name_len, "content-transfer-encoding")) {
        /* We hand the bytes on as they are, so they must be unencoded. */
        if (ieq(v, vn, "binary") || ieq(v, vn, "8bit") || ieq(v, vn, "7bit"))
            return MULTIPART_OK;
        return MULTIPART_ERR_MALFORMED;
    }
    return MULTIPART_OK;
}

/* Parses the header block starting at *pos, up to and including its empty
 * line; on success *pos is the first byte of the part's data. */
static multipart_status parse_headers(const unsigned char *body, size_t len, size_t *pos,
                                      multipart_part *part)
{
    size_t avail = len - *pos;
    size_t window = avail < MULTIPART_MAX_HEADER_BYTES ? avail : MULTIPART_MAX_HEADER_BYTES;
    const unsigned char *line = body + *pos, *end = body + *pos + window;
    headers_seen seen = {0, 0};
    int lines = 0;

    for (;;) {
        const unsigned char *lf = memchr(line, '\n', (size_t)(end - line));
        if (!lf)
            return window < avail ? MULTIPART_ERR_HEADER_TOO_LARGE
                                  : MULTIPART_ERR_NO_FINAL_BOUNDARY;
        if (lf == line || lf[-1] != '\r')
            return MULTIPART_ERR_MALFORMED; /* bare LF */
        size_t n = (size_t)(lf - 1 - line);
        if (n == 0)
            break;
        if (++lines > MULTIPART_MAX_HEADER_LINES)
            return MULTIPART_ERR_HEADER_TOO_LARGE;
        multipart_status st = parse_header_line((const char *)line, n, part, &seen);
        if (st != MULTIPART_OK)
            return st;
        line = lf + 1;
    }
    if (!seen.disposition)
        return MULTIPART_ERR_BAD_DISPOSITION;
    *pos = (size_t)(line + 2 - body);
    return MULTIPART_OK;
}

/* ---- framing ------------------------------------------------------------ */

/* pos is just past "--boundary". Reads the rest of the delimiter line:
 * OK with *pos at the next part's headers, or *closed set at "--". */
static multipart_status after_delimiter(const unsigned char *body, size_t len, size_t *pos,
                                        int *closed)
{
    size_t i = *pos;
    if (i < len && body[i] == '-') {
        if (i + 1 == len)
            return MULTIPART_ERR_NO_FINAL_BOUNDARY;
        if (body[i + 1] != '-')
            return MULTIPART_ERR_MALFORMED;
        *closed = 1; /* the epilogue, if any, is ignored */
        return MULTIPART_OK;
    }
    while (i < len && (body[i] == ' ' || body[i] == '\t'))
        i++;
    if (i == len || (body[i] == '\r' && i + 1 == len))
        return MULTIPART_ERR_NO_FINAL_BOUNDARY;
    if (body[i] != '\r' || body[i + 1] != '\n')
        return MULTIPART_ERR_MALFORMED;
    *pos = i + 2;
    return MULTIPART_OK;
}

static multipart_status parse_body(const unsigned char *body, size_t len, const char *boundary,
                                   multipart_part *parts, int limit, int *count)
{
    size_t blen = strlen(boundary);
    /* CRLF "--" boundary: the only thing that ends a part. */
    unsigned char delim[4 + MULTIPART_BOUNDARY_MAX];
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    size_t dlen = 4 + blen;

    size_t pos;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        pos = dlen - 2; /* no preamble: the first delimiter lacks its CRLF */
    } else {
        const unsigned char *d = len ? memmem(body, len, delim, dlen) : NULL;
        if (!d)
            return MULTIPART_ERR_NO_FINAL_BOUNDARY;
        pos = (size_t)(d - body) + dlen;
    }

    for (;;) {
        int closed = 0;
        multipart_status st = after_delimiter(body, len, &pos, &closed);
        if (st != MULTIPART_OK || closed)
            return st;
        if (*count >= limit)
            return MULTIPART_ERR_TOO_MANY_PARTS;
        multipart_part *part = &parts[*count];
        memset(part, 0, sizeof *part);
        st = parse_headers(body, len, &pos, part);
        if (st != MULTIPART_OK)
            return st;
        /* memmem (two-way search in glibc) is linear, and each search starts
         * past the previous delimiter, so the whole parse is linear. */
        const unsigned char *d = memmem(body + pos, len - pos, delim, dlen);
        if (!d)
            return MULTIPART_ERR_NO_FINAL_BOUNDARY;
        part->data = body + pos;
        part->len = (size_t)(d - (body + pos));
        pos = (size_t)(d - body) + dlen;
        (*count)++;
    }
}

multipart_status multipart_parse(const unsigned char *body, size_t len, const char *boundary,
                                 multipart_part *parts, int max_parts, int *count)
{
    *count = 0;
    if (!boundary || !valid_boundary(boundary, strlen(boundary)))
        return MULTIPART_ERR_BOUNDARY;
    if (!body)
        len = 0;
    int limit = max_parts < MULTIPART_MAX_PARTS ? max_parts : MULTIPART_MAX_PARTS;
    if (limit < 0 || !parts)
        limit = 0;
    static const unsigned char empty[1] = {0};
    multipart_status st = parse_body(body ? body : empty, len, boundary, parts, limit, count);
    if (st != MULTIPART_OK)
        *count = 0;
    return st;
}

const char *multipart_status_message(multipart_status st)
{
    switch (st) {
    case MULTIPART_OK:
        return "ok";
    case MULTIPART_ERR_BOUNDARY:
        return "the multipart boundary is missing or invalid";
    case MULTIPART_ERR_MALFORMED:
        return "the multipart body is malformed";
    case MULTIPART_ERR_NO_FINAL_BOUNDARY:
        return "the multipart body is incomplete: it ends before its final boundary";
    case MULTIPART_ERR_TOO_MANY_PARTS:
        return "the multipart body has too many parts";
    case MULTIPART_ERR_HEADER_TOO_LARGE:
        return "a multipart part has too many or too large headers";
    case MULTIPART_ERR_NESTED:
        return "nested multipart bodies are not accepted";
    case MULTIPART_ERR_BAD_DISPOSITION:
        return "each multipart part needs one Content-Disposition: form-data with a name";
    case MULTIPART_ERR_BAD_NAME:
        return "a multipart field name or filename is empty, too long or has control characters";
    }
    return "the multipart body is invalid";
}

int multipart_find(const multipart_part *parts, int count, const char *name,
                   const multipart_part **out)
{
    const multipart_part *found = NULL;
    for (int i = 0; i < count; i++) {
        if (strcmp(parts[i].name, name) != 0)
            continue;
        if (found)
            return -1;
        found = &parts[i];
    }
    if (!found)
        return 0;
    if (out)
        *out = found;
    return 1;
}
