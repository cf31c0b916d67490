#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "http/multipart.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static multipart_part parts[MULTIPART_MAX_PARTS];
static int n;

/* Parses a copy of the bytes in a buffer of exactly their size, so that
 * AddressSanitizer sees any read past the end. */
static multipart_status parse_buf(const void *bytes, size_t len, const char *boundary)
{
    unsigned char *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, bytes, len);
    multipart_status st = multipart_parse(copy, len, boundary, parts, MULTIPART_MAX_PARTS, &n);
    /* data points into copy: keep the copy alive until the next parse */
    static unsigned char *last;
    free(last);
    last = copy;
    return st;
}

/* A string literal, NULs and all. */
#define PARSE(lit, b) parse_buf((lit), sizeof(lit) - 1, (b))

static int data_is(const multipart_part *p, const char *bytes, size_t len)
{
    return p->len == len && (len == 0 || memcmp(p->data, bytes, len) == 0);
}
#define DATA_IS(p, lit) data_is((p), (lit), sizeof(lit) - 1)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_boundary_header(void)
{
    char b[MULTIPART_BOUNDARY_MAX + 1];
    CHECK(multipart_boundary("multipart/form-data; boundary=\"----x\"", b, sizeof b) == 0);
    CHECK_STR(b, "----x");
    CHECK(multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
                             b, sizeof b) == 0);
    CHECK_STR(b, "----WebKitFormBoundary7MA4YWxkTrZu0gW");
    CHECK(multipart_boundary("Multipart/Form-Data;BOUNDARY=abc", b, sizeof b) == 0);
    CHECK_STR(b, "abc");
    CHECK(multipart_boundary("  multipart/form-data ; charset=utf-8 ; boundary = abc ;", b,
                             sizeof b) == 0);
    CHECK_STR(b, "abc");
    CHECK(multipart_boundary("multipart/form-data; boundary=\"simple boundary\"; charset=x", b,
                             sizeof b) == 0);
    CHECK_STR(b, "simple boundary");
    CHECK(multipart_boundary("multipart/form-data; boundary=\"a:b/c?d=e,f'(g)+_.\"", b, sizeof b) ==
          0);
    CHECK_STR(b, "a:b/c?d=e,f'(g)+_.");
    CHECK(multipart_boundary("multipart/form-data; boundary=\"a\\\"b\"", b, sizeof b) == -1);

    char ct[200];
    char seventy[71];
    memset(seventy, 'a', 70);
    seventy[70] = '\0';
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", seventy);
    CHECK(multipart_boundary(ct, b, sizeof b) == 0);
    CHECK_STR(b, seventy);
    CHECK(multipart_boundary(ct, b, 70) == -1); /* no room for the NUL */
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%sa", seventy);
    CHECK(multipart_boundary(ct, b, sizeof b) == -1); /* 71 chars */
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=\"%sa\"", seventy);
    CHECK(multipart_boundary(ct, b, sizeof b) == -1);

    const char *bad[] = {
        NULL,
        "",
        "text/plain",
        "multipart/mixed; boundary=abc",
        "multipart/form-data-x; boundary=abc",
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"abc \"", /* ends in a space */
        "multipart/form-data; boundary=\"abc",    /* unterminated */
        "multipart/form-data; boundary=abc def",
        "multipart/form-data; boundary=a@b",
        "multipart/form-data; boundary=\"a@b\"", /* @ is not a bchar */
        "multipart/form-data; boundary=a*b",     /* a token char, not a bchar */
        "multipart/form-data; boundary=abc; boundary=def",
        "multipart/form-data; boundary=\"a\rb\"",
        "multipart/form-data boundary=abc",
        "multipart /form-data; boundary=abc",
        "form-data; boundary=abc",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = multipart_boundary(bad[i], b, sizeof b);
        CHECK(r == -1);
        if (r != -1)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    CHECK(multipart_boundary("multipart/form-data; boundary=abc", NULL, 10) == -1);
    CHECK(multipart_boundary("multipart/form-data; boundary=abc", b, 0) == -1);
    CHECK(multipart_boundary("multipart/form-data; boundary=abc", b, 3) == -1);
    CHECK(multipart_boundary("multipart/form-data; boundary=abc", b, 4) == 0);
}

/* What curl -F image_file=@photo.jpg -F crop=true sends. */
static void test_curl(void)
{
    char b[MULTIPART_BOUNDARY_MAX + 1];
    CHECK(
        multipart_boundary("multipart/form-data; boundary=------------------------d74496d66958873e",
                           b, sizeof b) == 0);
    static const char body[] = "--------------------------d74496d66958873e\r\n"
                               "Content-Disposition: form-data; name=\"image_file\"; "
                               "filename=\"photo.jpg\"\r\n"
                               "Content-Type: image/jpeg\r\n"
                               "\r\n"
                               "\xff\xd8\xff\xe0\0\x10JFIF\0\r\n\r\n--\r\n-\xff\xd9\r\n"
                               "--------------------------d74496d66958873e\r\n"
                               "Content-Disposition: form-data; name=\"crop\"\r\n"
                               "\r\n"
                               "true\r\n"
                               "--------------------------d74496d66958873e--\r\n";
    CHECK(PARSE(body, b) == MULTIPART_OK);
    CHECK(n == 2);
    CHECK_STR(parts[0].name, "image_file");
    CHECK_STR(parts[0].filename, "photo.jpg");
    CHECK(parts[0].has_filename == 1);
    CHECK_STR(parts[0].content_type, "image/jpeg");
    CHECK(DATA_IS(&parts[0], "\xff\xd8\xff\xe0\0\x10JFIF\0\r\n\r\n--\r\n-\xff\xd9"));
    CHECK_STR(parts[1].name, "crop");
    CHECK(parts[1].has_filename == 0);
    CHECK_STR(parts[1].filename, "");
    CHECK_STR(parts[1].content_type, "");
    CHECK(DATA_IS(&parts[1], "true"));

    const multipart_part *p = NULL;
    CHECK(multipart_find(parts, n, "image_file", &p) == 1 && p == &parts[0]);
    CHECK(multipart_find(parts, n, "crop", &p) == 1 && p == &parts[1]);
    CHECK(multipart_find(parts, n, "file", &p) == 0);
    CHECK(multipart_find(parts, n, "Crop", NULL) == 0); /* names are case-sensitive */
}

/* What Chrome sends for a form with a file input and two text inputs. The
 * file name has a quote (Chrome sends %22) and UTF-8 (sent raw). */
static void test_chrome(void)
{
    const char *b = "----WebKitFormBoundaryx7Ye3kzjPl2qA9Ts";
    static const char body[] = "------WebKitFormBoundaryx7Ye3kzjPl2qA9Ts\r\n"
                               "Content-Disposition: form-data; name=\"image_file\"; "
                               "filename=\"caf\xc3\xa9 %22best%22.png\"\r\n"
                               "Content-Type: image/png\r\n"
                               "\r\n"
                               "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
                               "\r\n"
                               "------WebKitFormBoundaryx7Ye3kzjPl2qA9Ts\r\n"
                               "Content-Disposition: form-data; name=\"size\"\r\n"
                               "\r\n"
                               "preview\r\n"
                               "------WebKitFormBoundaryx7Ye3kzjPl2qA9Ts\r\n"
                               "Content-Disposition: form-data; name=\"bg_color\"\r\n"
                               "\r\n"
                               "\r\n"
                               "------WebKitFormBoundaryx7Ye3kzjPl2qA9Ts--\r\n";
    CHECK(PARSE(body, b) == MULTIPART_OK);
    CHECK(n == 3);
    CHECK_STR(parts[0].filename, "caf\xc3\xa9 %22best%22.png");
    CHECK_STR(parts[0].content_type, "image/png");
    CHECK(DATA_IS(&parts[0], "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
    CHECK_STR(parts[1].name, "size");
    CHECK(DATA_IS(&parts[1], "preview"));
    CHECK_STR(parts[2].name, "bg_color");
    CHECK(parts[2].len == 0);

    /* An empty file input: filename="" and no bytes. */
    static const char empty_file[] =
        "------WebKitFormBoundaryx7Ye3kzjPl2qA9Ts\r\n"
        "Content-Disposition: form-data; name=\"image_file\"; filename=\"\"\r\n"
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
        "\r\n"
        "------WebKitFormBoundaryx7Ye3kzjPl2qA9Ts--\r\n";
    CHECK(PARSE(empty_file, b) == MULTIPART_OK);
    CHECK(n == 1 && parts[0].has_filename == 1 && parts[0].len == 0);
    CHECK_STR(parts[0].filename, "");

    /* An empty FormData: only the close delimiter. */
    CHECK(PARSE("------WebKitFormBoundaryx7Ye3kzjPl2qA9Ts--\r\n", b) == MULTIPART_OK);
    CHECK(n == 0);
}

/* Only CRLF "--" boundary ends a part; everything short of it is data. */
static void test_near_boundaries(void)
{
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"f\"\r\n"
                               "\r\n"
                               "XyZ --XyZ\n--XyZ\r--XyZ\r\n-XyZ\r\n--Xy\r\n--xyz\r\n--\r\n"
                               "--\r\n--X\r\n\r\n--XyZ--\r\n";
    CHECK(PARSE(body, "XyZ") == MULTIPART_OK);
    CHECK(n == 1);
    CHECK(DATA_IS(&parts[0], "XyZ --XyZ\n--XyZ\r--XyZ\r\n-XyZ\r\n--Xy\r\n--xyz\r\n--\r\n"
                             "--\r\n--X\r\n"));

    /* Data ending in CR or LF keeps them. */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nab\r\r\n--b--", "b") ==
          MULTIPART_OK);
    CHECK(n == 1 && DATA_IS(&parts[0], "ab\r"));
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n\r\n\r\n--b--", "b") ==
          MULTIPART_OK);
    CHECK(n == 1 && DATA_IS(&parts[0], "\r\n"));

    /* The boundary in full after CRLF "--" but not ending the line: the
     * sender broke RFC 2046's rule, and we refuse rather than guess. */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--bc\r\n--b--",
                "b") == MULTIPART_ERR_MALFORMED);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--b  --", "b") ==
          MULTIPART_ERR_MALFORMED);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--b-x", "b") ==
          MULTIPART_ERR_MALFORMED);
    CHECK(PARSE("--bc\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--b--", "b") ==
          MULTIPART_ERR_MALFORMED);
}

static void test_framing(void)
{
    /* preamble, transport padding, epilogue */
    static const char body[] = "This is the preamble. --b is not a delimiter here.\r\n"
                               "--b \t \r\n"
                               "Content-Disposition: form-data; name=\"a\"\r\n"
                               "\r\n"
                               "1\r\n"
                               "--b\t\r\n"
                               "Content-Disposition: form-data; name=\"b\"\r\n"
                               "\r\n"
                               "2\r\n"
                               "--b--  \r\n"
                               "This is the epilogue.\r\n--b\r\nContent-Disposition: garbage\r\n";
    CHECK(PARSE(body, "b") == MULTIPART_OK);
    CHECK(n == 2 && DATA_IS(&parts[0], "1") && DATA_IS(&parts[1], "2"));
    /* an epilogue with no CRLF before it */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--junk", "b") ==
          MULTIPART_OK);
    CHECK(n == 1);

    /* a preamble that is only a CRLF */
    CHECK(PARSE("\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_OK);
    CHECK(n == 1);

    /* empty body, only the boundary, no final boundary */
    CHECK(parse_buf("", 0, "b") == MULTIPART_ERR_NO_FINAL_BOUNDARY);
    CHECK(multipart_parse(NULL, 0, "b", parts, MULTIPART_MAX_PARTS, &n) ==
          MULTIPART_ERR_NO_FINAL_BOUNDARY);
    CHECK(PARSE("--b--", "b") == MULTIPART_OK && n == 0);
    CHECK(PARSE("--b--\r\n", "b") == MULTIPART_OK && n == 0);
    CHECK(PARSE("--b", "b") == MULTIPART_ERR_NO_FINAL_BOUNDARY);
    CHECK(PARSE("--b\r\n", "b") == MULTIPART_ERR_NO_FINAL_BOUNDARY);
    CHECK(PARSE("--b-", "b") == MULTIPART_ERR_NO_FINAL_BOUNDARY);
    CHECK(PARSE("no delimiter at all", "b") == MULTIPART_ERR_NO_FINAL_BOUNDARY);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n", "b") ==
          MULTIPART_ERR_NO_FINAL_BOUNDARY);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\n", "b") ==
          MULTIPART_ERR_NO_FINAL_BOUNDARY);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\n"
                "Content-Disposition: form-data; name=\"c\"\r\n\r\n2",
                "b") == MULTIPART_ERR_NO_FINAL_BOUNDARY);
    /* a part with no blank line after its headers */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n--b--\r\n", "b") ==
          MULTIPART_ERR_MALFORMED);

    /* LF-only line endings are refused, wherever they are */
    CHECK(PARSE("--b\nContent-Disposition: form-data; name=\"a\"\n\n1\n--b--\n", "b") ==
          MULTIPART_ERR_MALFORMED);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_MALFORMED);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\n1\r\n--b--", "b") ==
          MULTIPART_ERR_MALFORMED);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\n--b--", "b") ==
          MULTIPART_ERR_NO_FINAL_BOUNDARY); /* "\n--b--" is data, so no end */
    CHECK(PARSE("--b\rContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_MALFORMED);

    /* the boundary passed in is checked too */
    CHECK(PARSE("--b--", "") == MULTIPART_ERR_BOUNDARY);
    CHECK(PARSE("--b--", "b ") == MULTIPART_ERR_BOUNDARY);
    CHECK(PARSE("--b\x01--", "b\x01") == MULTIPART_ERR_BOUNDARY);
    CHECK(multipart_parse((const unsigned char *)"--b--", 5, NULL, parts, 4, &n) ==
          MULTIPART_ERR_BOUNDARY);
    char b70[71];
    memset(b70, 'z', 70);
    b70[70] = '\0';
    char body70[200];
    int len70 =
        snprintf(body70, sizeof body70,
                 "--%s\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--%s--", b70, b70);
    CHECK(parse_buf(body70, (size_t)len70, b70) == MULTIPART_OK && n == 1);
    CHECK(DATA_IS(&parts[0], "v"));
}

static void test_headers(void)
{
    /* header names in any case, values with extra spaces, unknown headers */
    CHECK(PARSE("--b\r\n"
                "content-DISPOSITION:form-data;name=a;  FILENAME = \"x.png\" ;\r\n"
                "CONTENT-TYPE:   image/png  \r\n"
                "X-Whatever: 1\r\n"
                "Content-Transfer-Encoding: binary\r\n"
                "\r\n"
                "1\r\n--b--",
                "b") == MULTIPART_OK);
    CHECK(n == 1);
    CHECK_STR(parts[0].name, "a");
    CHECK_STR(parts[0].filename, "x.png");
    CHECK_STR(parts[0].content_type, "image/png");

    /* nested multipart is refused, whatever the subtype and case */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                "Content-Type: multipart/mixed; boundary=c\r\n\r\n"
                "--c\r\nContent-Disposition: file; filename=\"x\"\r\n\r\n1\r\n--c--\r\n--b--",
                "b") == MULTIPART_ERR_NESTED);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                "Content-Type: MultiPart/Form-Data; boundary=c\r\n\r\n\r\n--b--",
                "b") == MULTIPART_ERR_NESTED);

    /* Content-Disposition: missing, repeated, not form-data, no name */
    CHECK(PARSE("--b\r\n\r\n1\r\n--b--", "b") == MULTIPART_ERR_BAD_DISPOSITION);
    CHECK(PARSE("--b\r\nContent-Type: text/plain\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_BAD_DISPOSITION);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=a\r\n"
                "Content-Disposition: form-data; name=c\r\n\r\n1\r\n--b--",
                "b") == MULTIPART_ERR_BAD_DISPOSITION);
    CHECK(PARSE("--b\r\nContent-Disposition: attachment; name=a\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_BAD_DISPOSITION);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_BAD_DISPOSITION);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; filename=x\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_BAD_DISPOSITION);
    CHECK(PARSE("--b\r\nContent-Disposition: form-datax; name=a\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_BAD_DISPOSITION);

    /* header syntax: no colon, space before the colon, an empty header
     * name, obs-fold, repeated parameters, an unterminated quote, junk after
     * a value, empty values and attributes, a comma for a semicolon, two
     * Content-Types, an encoded part, a DEL in a value */
    const char *malformed[] = {
        "--b\r\nContent-Disposition form-data; name=a\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition : form-data; name=a\r\n\r\n1\r\n--b--",
        "--b\r\n: x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=a\r\nX-A: 1\r\n 2\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=a; name=c\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=a; NAME=a\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=a; filename=x; filename=y\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=\"a\" x\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; =a\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data, name=a\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=a\r\nContent-Type: a/b\r\n"
        "Content-Type: c/d\r\n\r\n1\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=a\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nMQ==\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=a\r\nX-Bad: a\x7f\r\n\r\n1\r\n--b--",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        multipart_status st = parse_buf(malformed[i], strlen(malformed[i]), "b");
        CHECK(st == MULTIPART_ERR_MALFORMED);
        if (st != MULTIPART_ERR_MALFORMED)
            fprintf(stderr, "  case %zu gave %d\n", i, (int)st);
    }

    /* a Content-Type that does not fit the struct is refused, not cut */
    char ct[400];
    char longtype[200];
    memset(longtype, 'x', sizeof longtype - 1);
    longtype[sizeof longtype - 1] = '\0';
    int len = snprintf(ct, sizeof ct,
                       "--b\r\nContent-Disposition: form-data; name=a\r\nContent-Type: "
                       "image/%s\r\n\r\n1\r\n--b--",
                       longtype);
    CHECK(parse_buf(ct, (size_t)len, "b") == MULTIPART_ERR_MALFORMED);
}

static void test_names(void)
{
    /* raw control characters and NUL anywhere in a header line */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_MALFORMED);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\x01"
                "b\"\r\n\r\n1\r\n--b--",
                "b") == MULTIPART_ERR_MALFORMED);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\rb\"\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_MALFORMED);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=a; filename=\"x\x1b.png\"\r\n\r\n1"
                "\r\n--b--",
                "b") == MULTIPART_ERR_MALFORMED);
    /* decoded control characters (RFC 5987 percent-escapes) */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=a; filename*=UTF-8''x%00.png\r\n\r\n"
                "1\r\n--b--",
                "b") == MULTIPART_ERR_BAD_NAME);
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=a; filename*=UTF-8''x%0d%0A.png\r\n"
                "\r\n1\r\n--b--",
                "b") == MULTIPART_ERR_BAD_NAME);
    /* an empty name */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_ERR_BAD_NAME);

    /* name length: 63 fits, 64 does not */
    char name[80], body[300];
    memset(name, 'n', 63);
    name[63] = '\0';
    int len =
        snprintf(body, sizeof body,
                 "--b\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n1\r\n--b--", name);
    CHECK(parse_buf(body, (size_t)len, "b") == MULTIPART_OK);
    CHECK_STR(parts[0].name, name);
    strcat(name, "n");
    len = snprintf(body, sizeof body,
                   "--b\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n1\r\n--b--", name);
    CHECK(parse_buf(body, (size_t)len, "b") == MULTIPART_ERR_BAD_NAME);

    /* an escaped quote in a quoted-string; a backslash before a letter is kept */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\\\"q\"; filename=\"say "
                "\\\"hi\\\".png\"\r\n\r\n1\r\n--b--",
                "b") == MULTIPART_OK);
    CHECK_STR(parts[0].name, "a\"q");
    CHECK_STR(parts[0].filename, "say \"hi\".png");
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a\\b\"\r\n\r\n1\r\n--b--", "b") ==
          MULTIPART_OK);
    CHECK_STR(parts[0].name, "a\\b");
    /* a semicolon inside a quoted name is part of it */
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=\"a;filename=x\"\r\n\r\n1\r\n--b--",
                "b") == MULTIPART_OK);
    CHECK_STR(parts[0].name, "a;filename=x");
    CHECK(parts[0].has_filename == 0);
}

static const char *filename_of(const char *disposition)
{
    static char body[2048];
    int len = snprintf(body, sizeof body,
                       "--b\r\nContent-Disposition: form-data; name=f; %s\r\n\r\n1\r\n--b--",
                       disposition);
    multipart_status st = parse_buf(body, (size_t)len, "b");
    if (st != MULTIPART_OK)
        return multipart_status_message(st);
    return parts[0].filename;
}

static void test_filenames(void)
{
    CHECK_STR(filename_of("filename=\"../../etc/passwd\""), "passwd");
    CHECK_STR(filename_of("filename=\"/abs/dir/\""), "");
    CHECK_STR(filename_of("filename=\"C:\\Users\\me\\cat.png\""), "cat.png"); /* old MSIE */
    CHECK_STR(filename_of("filename=\"a\\\\b.png\""), "b.png");
    CHECK_STR(filename_of("filename=cat.png"), "cat.png");
    CHECK_STR(filename_of("filename=\"..\""), "..");
    CHECK_STR(filename_of("filename=\" spaced name .png\""), " spaced name .png");
    /* RFC 5987: filename*= wins over filename=, in either order */
    CHECK_STR(filename_of("filename=\"EUR rates.png\"; filename*=UTF-8''%e2%82%ac%20rates.png"),
              "\xe2\x82\xac rates.png");
    CHECK_STR(filename_of("filename*=utf-8'en'%e2%82%ac%20rates.png; filename=\"EUR rates.png\""),
              "\xe2\x82\xac rates.png");
    CHECK(parts[0].has_filename == 1);
    CHECK_STR(filename_of("filename*=ISO-8859-1''%A3%20rates"), "\xc2\xa3 rates");
    CHECK_STR(filename_of("filename*=UTF-8''..%2F..%2Fx.png"), "x.png");
    CHECK_STR(filename_of("filename*=UTF-8''a%5Cx.png"), "x.png");
    /* an unsupported charset: the plain filename stands */
    CHECK_STR(filename_of("filename=\"plain.png\"; filename*=koi8-r''%C1"), "plain.png");
    CHECK_STR(filename_of("filename*=koi8-r''%C1"), "");
    CHECK(parts[0].has_filename == 1);
    /* malformed ext-values */
    const char *malformed_ext[] = {
        "filename*=UTF-8%20x",
        "filename*=UTF-8'x",
        "filename*=UTF-8''%2",
        "filename*=UTF-8''%zz.p",
        "filename*=\"UTF-8''x.png\"",
        "filename*=UTF-8''a'b",
        "filename*=UTF-8''a; filename*=UTF-8''b",
    };
    for (size_t i = 0; i < sizeof malformed_ext / sizeof malformed_ext[0]; i++)
        CHECK_STR(filename_of(malformed_ext[i]), multipart_status_message(MULTIPART_ERR_MALFORMED));

    /* length: 255 bytes fit, 256 do not; only the last component counts */
    char disp[1200], name[300];
    memset(name, 'f', 255);
    name[255] = '\0';
    snprintf(disp, sizeof disp, "filename=\"%s\"", name);
    CHECK_STR(filename_of(disp), name);
    snprintf(disp, sizeof disp, "filename=\"%sf\"", name);
    CHECK_STR(filename_of(disp), multipart_status_message(MULTIPART_ERR_BAD_NAME));
    snprintf(disp, sizeof disp, "filename=\"%s/%s/x.png\"", name, name);
    CHECK_STR(filename_of(disp), "x.png");
    snprintf(disp, sizeof disp, "filename*=UTF-8''%s%%41", name);
    CHECK_STR(filename_of(disp), multipart_status_message(MULTIPART_ERR_BAD_NAME));
}

static void test_limits(void)
{
    /* header block: 8192 bytes with its CRLFs fit, 8193 do not */
    static const char head[] = "--b\r\n";
    static const char cd[] = "Content-Disposition: form-data; name=a\r\n";
    size_t cap = MULTIPART_MAX_HEADER_BYTES + 100;
    char *body = malloc(cap + 100);
    for (int extra = 0; extra <= 1; extra++) {
        size_t pad = MULTIPART_MAX_HEADER_BYTES - (sizeof cd - 1) - 2 - 5 + (size_t)extra;
        size_t o = 0;
        memcpy(body + o, head, sizeof head - 1);
        o += sizeof head - 1;
        memcpy(body + o, cd, sizeof cd - 1);
        o += sizeof cd - 1;
        memcpy(body + o, "X-P: ", 5); /* "X-P: " + pad + CRLF */
        o += 5;
        memset(body + o, 'p', pad - 2);
        o += pad - 2;
        memcpy(body + o, "\r\n\r\n1\r\n--b--", 12);
        o += 12;
        multipart_status st = parse_buf(body, o, "b");
        CHECK(st == (extra ? MULTIPART_ERR_HEADER_TOO_LARGE : MULTIPART_OK));
    }
    /* far larger, and a header line that never ends */
    size_t big = 100000;
    char *huge = malloc(big + 64);
    int o = sprintf(huge, "--b\r\nContent-Disposition: form-data; name=a\r\nX: ");
    memset(huge + o, 'h', big);
    CHECK(parse_buf(huge, (size_t)o + big, "b") == MULTIPART_ERR_HEADER_TOO_LARGE);
    memcpy(huge + o + big - 20, "\r\n\r\n1\r\n--b--", 12);
    CHECK(parse_buf(huge, (size_t)o + big - 8, "b") == MULTIPART_ERR_HEADER_TOO_LARGE);
    free(huge);

    /* header lines: 16 fit, 17 do not */
    for (int lines = 16; lines <= 17; lines++) {
        size_t k = 0;
        k += (size_t)sprintf(body + k, "--b\r\nContent-Disposition: form-data; name=a\r\n");
        for (int i = 1; i < lines; i++)
            k += (size_t)sprintf(body + k, "X-%d: v\r\n", i);
        k += (size_t)sprintf(body + k, "\r\n1\r\n--b--");
        CHECK(parse_buf(body, k, "b") ==
              (lines == 16 ? MULTIPART_OK : MULTIPART_ERR_HEADER_TOO_LARGE));
    }
    free(body);

    /* parts: 32 fit, 33 and 1000 do not; the caller's max_parts counts */
    static const char part[] = "--b\r\nContent-Disposition: form-data; name=p\r\n\r\nx\r\n";
    size_t plen = sizeof part - 1;
    char *many = malloc(1000 * plen + 16);
    const int counts[] = {32, 33, 1000};
    for (size_t c = 0; c < 3; c++) {
        size_t k = 0;
        for (int i = 0; i < counts[c]; i++, k += plen)
            memcpy(many + k, part, plen);
        memcpy(many + k, "--b--\r\n", 7);
        k += 7;
        multipart_status st = parse_buf(many, k, "b");
        CHECK(st ==
              (counts[c] <= MULTIPART_MAX_PARTS ? MULTIPART_OK : MULTIPART_ERR_TOO_MANY_PARTS));
        if (c == 0) {
            CHECK(n == 32);
            CHECK(multipart_find(parts, n, "p", NULL) == -1);
            CHECK(multipart_parse((const unsigned char *)many, k, "b", parts, 4, &n) ==
                  MULTIPART_ERR_TOO_MANY_PARTS);
            CHECK(n == 0);
            CHECK(multipart_parse((const unsigned char *)many, k, "b", NULL, 0, &n) ==
                  MULTIPART_ERR_TOO_MANY_PARTS);
            CHECK(multipart_parse((const unsigned char *)many, k, "b", parts, 100, &n) ==
                  MULTIPART_OK);
            CHECK(n == 32);
        }
    }
    free(many);
}

static void test_find(void)
{
    CHECK(PARSE("--b\r\nContent-Disposition: form-data; name=file\r\n\r\n1\r\n"
                "--b\r\nContent-Disposition: form-data; name=size\r\n\r\nfull\r\n"
                "--b\r\nContent-Disposition: form-data; name=file\r\n\r\n2\r\n--b--",
                "b") == MULTIPART_OK);
    CHECK(n == 3);
    const multipart_part *p = NULL;
    CHECK(multipart_find(parts, n, "file", &p) == -1 && p == NULL);
    CHECK(multipart_find(parts, n, "size", &p) == 1 && DATA_IS(p, "full"));
    CHECK(multipart_find(parts, n, "image_file", &p) == 0);
    CHECK(multipart_find(parts, 0, "size", &p) == 0);
}

/* Every prefix of a valid body is an error until the close delimiter is in;
 * from then on the same parts come out. Each prefix sits in a buffer of its
 * exact size, so AddressSanitizer catches any read past it. Single-byte
 * changes must never crash either. */
static void test_truncation(void)
{
    static const char body[] = "preamble\r\n"
                               "--b0 \r\n"
                               "Content-Disposition: form-data; name=\"image_file\"; "
                               "filename=\"a\\\"b.png\"; filename*=UTF-8''%C3%A9.png\r\n"
                               "Content-Type: image/png\r\n"
                               "\r\n"
                               "\x89PNG\r\n--b\r\n--\r\n"
                               "--b0\r\n"
                               "Content-Disposition: form-data; name=size\r\n"
                               "\r\n"
                               "\r\n"
                               "--b0--\r\n"
                               "epilogue";
    size_t full = sizeof body - 1;
    const char *close = strstr(body, "--b0--");
    size_t complete = (size_t)(close - body) + 6;
    int errors = 0, oks = 0, bad = 0;
    for (size_t len = 0; len <= full; len++) {
        multipart_status st = parse_buf(body, len, "b0");
        if (len < complete) {
            errors += st != MULTIPART_OK;
            bad += st == MULTIPART_OK;
        } else {
            int good = st == MULTIPART_OK && n == 2 && DATA_IS(&parts[0], "\x89PNG\r\n--b\r\n--") &&
                       parts[1].len == 0 && strcmp(parts[0].filename, "\xc3\xa9.png") == 0;
            oks += good;
            bad += !good;
        }
    }
    CHECK(bad == 0);
    CHECK(errors == (int)complete);
    CHECK(oks == (int)(full - complete + 1));

    char *mutant = malloc(full);
    const unsigned char flips[] = {0x00, '\r', '\n', '-', '"', '\\', ';', ' ', 0xff};
    for (size_t i = 0; i < full; i++)
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(mutant, body, full);
            mutant[i] = (char)flips[f];
            (void)parse_buf(mutant, full, "b0");
            for (size_t len = i; len <= full; len += 7)
                (void)parse_buf(mutant, len, "b0");
        }
    free(mutant);
}

/* 20 MB of random bytes laced with everything that looks like a delimiter
 * but is not one. */
static void test_large(void)
{
    const char *b = "------------------------d74496d66958873e";
    size_t blen = strlen(b);
    size_t data_len = 20u << 20;
    static const char head[] = "--------------------------d74496d66958873e\r\n"
                               "Content-Disposition: form-data; name=\"image_file\"; "
                               "filename=\"big.bin\"\r\n"
                               "Content-Type: application/octet-stream\r\n\r\n";
    static const char tail[] = "\r\n--------------------------d74496d66958873e--\r\n";
    size_t total = sizeof head - 1 + data_len + sizeof tail - 1;
    unsigned char *body = malloc(total);
    memcpy(body, head, sizeof head - 1);
    unsigned char *data = body + sizeof head - 1;
    for (size_t i = 0; i < data_len; i += 8) {
        uint64_t r = rng();
        memcpy(data + i, &r, data_len - i < 8 ? data_len - i : 8);
    }
    size_t lures = 0;
    for (size_t i = 8; i + 100 < data_len; i += 16 + rng() % 48, lures++) {
        unsigned char *p = data + i;
        size_t k = rng() % blen; /* a proper prefix of the boundary */
        switch (rng() % 5) {
        case 0: /* CRLF "--" */
            memcpy(p, "\r\n--", 4);
            if (p[4] == b[0])
                p[4] ^= 0x55;
            break;
        case 1: /* CRLF "--" and a prefix of the boundary, then a wrong byte */
            memcpy(p, "\r\n--", 4);
            memcpy(p + 4, b, k);
            p[4 + k] = (unsigned char)(b[k] ^ 0x20);
            break;
        case 2: /* the whole boundary, without the CRLF */
            p[-1] = 'x';
            memcpy(p, "--", 2);
            memcpy(p + 2, b, blen);
            break;
        case 3: /* bare LF before it */
            p[-1] = 'x';
            memcpy(p, "\n--", 3);
            memcpy(p + 3, b, blen);
            break;
        default: /* one dash short */
            memcpy(p, "\r\n-", 3);
            memcpy(p + 3, b, blen);
            break;
        }
    }
    memcpy(data + data_len, tail, sizeof tail - 1);

    double best = 1e9;
    for (int round = 0; round < 3; round++) {
        double t0 = now_ms();
        multipart_status st = multipart_parse(body, total, b, parts, MULTIPART_MAX_PARTS, &n);
        double t = now_ms() - t0;
        if (t < best)
            best = t;
        CHECK(st == MULTIPART_OK);
    }
    CHECK(n == 1 && parts[0].data == data && parts[0].len == data_len);
    printf("test_multipart: 20 MiB part with %zu near-delimiters parsed in %.2f ms%s\n", lures,
           best, SANITIZED ? " (sanitizers on)" : "");
    CHECK(best < (SANITIZED ? 2000.0 : 100.0));

    /* the search's worst case: nothing but near-misses */
    size_t unit = 4 + blen;
    size_t o = sizeof head - 1;
    while (o + unit + sizeof tail < total) {
        memcpy(body + o, "\r\n--", 4);
        memcpy(body + o + 4, b, blen);
        body[o + unit - 1] = 'X';
        o += unit;
    }
    memcpy(body + o, tail, sizeof tail - 1);
    size_t total2 = o + sizeof tail - 1;
    double t0 = now_ms();
    multipart_status st = multipart_parse(body, total2, b, parts, MULTIPART_MAX_PARTS, &n);
    double t = now_ms() - t0;
    CHECK(st == MULTIPART_OK && n == 1);
    printf("test_multipart: 20 MiB of near-miss delimiters parsed in %.2f ms\n", t);
    CHECK(t < (SANITIZED ? 2000.0 : 100.0));

    /* and the same body cut short: no final boundary */
    CHECK(multipart_parse(body, total2 - 3, b, parts, MULTIPART_MAX_PARTS, &n) ==
          MULTIPART_ERR_NO_FINAL_BOUNDARY);
    free(body);
}

static void test_messages(void)
{
    for (int st = MULTIPART_OK; st <= MULTIPART_ERR_BAD_NAME; st++) {
        const char *m = multipart_status_message((multipart_status)st);
        CHECK(m != NULL && m[0] != '\0');
    }
}

int main(void)
{
    test_boundary_header();
    test_curl();
    test_chrome();
    test_near_boundaries();
    test_framing();
    test_headers();
    test_names();
    test_filenames();
    test_limits();
    test_find();
    test_truncation();
    test_large();
    test_messages();
    parse_buf("", 0, "b"); /* frees the last copy */
    return check_done("test_multipart");
}
