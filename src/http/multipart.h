/* multipart/form-data (RFC 7578, framing of RFC 2046): a pure function over a
 * buffer, no I/O, no allocation. Parts point into the caller's buffer.
 *
 * What is accepted, and why it is strict:
 * - Line endings are CRLF only. A bare LF anywhere in the framing (delimiter
 *   lines, part headers) is MULTIPART_ERR_MALFORMED: every client we serve
 *   (browsers, curl, HTTP libraries) sends CRLF, and a parser that also takes
 *   "\n--boundary" would end a part where other parsers do not.
 * - A preamble before the first delimiter and an epilogue after the close
 *   delimiter are ignored. The first delimiter may lack its leading CRLF.
 *   Spaces and tabs (transport padding) may follow a delimiter before CRLF.
 * - A part ends only at CRLF "--" boundary. Part data may hold CR, LF, "--",
 *   the bare boundary string, or CRLF "--" plus a prefix of the boundary.
 *   CRLF "--" boundary followed by anything but padding+CRLF or "--" is
 *   MALFORMED (RFC 2046 5.1.1: the boundary must not occur in the data).
 * - A body that ends before the close delimiter is
 *   MULTIPART_ERR_NO_FINAL_BOUNDARY: a truncated upload is never accepted.
 *   A close delimiter with no part before it is a valid, empty form.
 * - Part headers: names case-insensitive; no obs-fold; values may hold UTF-8
 *   but no control character except tab. Content-Disposition (required,
 *   once) must be form-data with a name; Content-Type at most once; a
 *   multipart/... part is MULTIPART_ERR_NESTED; Content-Transfer-Encoding, if
 *   sent, must be 7bit, 8bit or binary. Other headers are ignored.
 * - Disposition parameters: token or quoted-string. In a quoted-string a
 *   backslash escapes only a tspecial (\" and \\); before any other byte it is
 *   kept, as old browsers send unescaped Windows paths. filename*= (RFC 5987,
 *   UTF-8 or ISO-8859-1, converted to UTF-8) wins over filename=; another
 *   charset is ignored. A repeated parameter is MALFORMED.
 * - The name is 1..MULTIPART_NAME_MAX-1 bytes. The filename is kept as sent
 *   (the caller sanitises) except that only its last path component (after
 *   the last / or \) is kept. A control character or NUL in either, or one
 *   too long, is MULTIPART_ERR_BAD_NAME. */
#ifndef CLEANPNG_HTTP_MULTIPART_H
#define CLEANPNG_HTTP_MULTIPART_H

#include <stddef.h>

#define MULTIPART_BOUNDARY_MAX 70       /* RFC 2046 */
#define MULTIPART_MAX_PARTS 32          /* parts in one body */
#define MULTIPART_MAX_HEADER_BYTES 8192 /* one part's header block, with its CRLFs */
#define MULTIPART_MAX_HEADER_LINES 16   /* header lines in one part */
#define MULTIPART_NAME_MAX 64           /* sizeof multipart_part.name */
#define MULTIPART_FILENAME_MAX 256      /* sizeof multipart_part.filename */
#define MULTIPART_CONTENT_TYPE_MAX 128  /* sizeof multipart_part.content_type */

typedef struct {
    char name[MULTIPART_NAME_MAX];                 /* form field name, decoded, never empty */
    char filename[MULTIPART_FILENAME_MAX];         /* last path component; "" when absent */
    int has_filename;                              /* 1 when filename= or filename*= was sent */
    char content_type[MULTIPART_CONTENT_TYPE_MAX]; /* the part's header value, "" if absent */
    const unsigned char *data;                     /* into the body passed to multipart_parse */
    size_t len;
} multipart_part;

typedef enum {
    MULTIPART_OK = 0,
    MULTIPART_ERR_BOUNDARY,          /* the boundary argument is not 1..70 RFC 2046 chars */
    MULTIPART_ERR_MALFORMED,         /* framing or header syntax */
    MULTIPART_ERR_NO_FINAL_BOUNDARY, /* body ends before the close delimiter */
    MULTIPART_ERR_TOO_MANY_PARTS,
    MULTIPART_ERR_HEADER_TOO_LARGE, /* header block over 8 KiB or over 16 lines */
    MULTIPART_ERR_NESTED,           /* a multipart/... part */
    MULTIPART_ERR_BAD_DISPOSITION,  /* Content-Disposition missing, repeated, not form-data,
                                       or without a name */
    MULTIPART_ERR_BAD_NAME,         /* name or filename too long, empty name, control chars */
} multipart_status;

/* Extracts the boundary from a Content-Type header value such as
 * 'multipart/form-data; boundary="----x"': type and parameter names are
 * case-insensitive, the value a token or quoted-string of 1..70 RFC 2046
 * bchars, not ending in a space. Writes it NUL-terminated to out (outlen must
 * be > its length). 0 ok; -1 if not multipart/form-data, if the boundary is
 * missing, repeated or invalid, or if the header is malformed. */
int multipart_boundary(const char *content_type, char *out, size_t outlen);

/* Parses body[0..len) with the given boundary (as multipart_boundary gives
 * it) into parts[0..*count). At most min(max_parts, MULTIPART_MAX_PARTS)
 * parts; one more is MULTIPART_ERR_TOO_MANY_PARTS. On MULTIPART_OK, each
 * part's data points into body, which must outlive parts. On any error,
 * *count is 0 and the contents of parts are unspecified.
 * Runs in time linear in len. */
multipart_status multipart_parse(const unsigned char *body, size_t len, const char *boundary,
                                 multipart_part *parts, int max_parts, int *count);

/* Human words for a 400 message; a static string. */
const char *multipart_status_message(multipart_status st);

/* The part whose name is exactly `name`: 1 found (*out set), 0 absent,
 * -1 sent more than once (*out untouched). out may be NULL. */
int multipart_find(const multipart_part *parts, int count, const char *name,
                   const multipart_part **out);

#endif
