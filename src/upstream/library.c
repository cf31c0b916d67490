#include "upstream/library.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define MAX_WORDS_PER_PHOTO 96
#define MAX_QUERY_WORDS 16
#define WORD_MAX 48

enum { W_TAG = 4, W_TITLE = 2, W_DESC = 1 };

typedef struct {
    char text[WORD_MAX];
    int weight;
} word;

typedef struct {
    photo_result r;
    char urls[3][512];
    char author_url[512];
    char link[512];
    const char *full_file;
    const char *color_word; /* the Unsplash colour word closest to r.color */
    word words[MAX_WORDS_PER_PHOTO];
    int nwords;
} lib_photo;

struct library {
    json_object *root;
    lib_photo *photos;
    size_t count;
};

/* Folds a word to a comparable stem: lower case, trailing plural "s"/"es" gone. */
static void stem(const char *in, size_t len, char *out)
{
    if (len >= WORD_MAX)
        len = WORD_MAX - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[len] = '\0';
    if (len > 4 && !strcmp(out + len - 3, "ies")) {
        strcpy(out + len - 3, "y");
    } else if (len > 4 && (!strcmp(out + len - 4, "ches") || !strcmp(out + len - 4, "shes") ||
                           !strcmp(out + len - 3, "xes") || !strcmp(out + len - 3, "oes"))) {
        out[len - 2] = '\0';
    } else if (len > 3 && out[len - 1] == 's' && out[len - 2] != 's') {
        out[len - 1] = '\0';
    }
}

static int is_word_char(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

/* Splits text into stems; calls add(stem) for each. Returns count added. */
static int split_words(const char *text, char out[][WORD_MAX], int max)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        while (*p && !is_word_char((unsigned char)*p))
            p++;
        const char *s = p;
        while (*p && is_word_char((unsigned char)*p))
            p++;
        if (p > s)
            stem(s, (size_t)(p - s), out[n++]);
    }
    return n;
}

static void add_words(lib_photo *ph, const char *text, int weight)
{
    if (!text)
        return;
    char tmp[MAX_WORDS_PER_PHOTO][WORD_MAX];
    int n = split_words(text, tmp, MAX_WORDS_PER_PHOTO);
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int j = 0; j < ph->nwords; j++) {
            if (!strcmp(ph->words[j].text, tmp[i])) {
                if (weight > ph->words[j].weight)
                    ph->words[j].weight = weight;
                found = 1;
                break;
            }
        }
        if (!found && ph->nwords < MAX_WORDS_PER_PHOTO) {
            strcpy(ph->words[ph->nwords].text, tmp[i]);
            ph->words[ph->nwords].weight = weight;
            ph->nwords++;
        }
    }
}

/* Which of Unsplash's colour words a "#rrggbb" is closest to. */
static const char *color_word(const char *hex)
{
    unsigned r, g, b;
    if (!hex || sscanf(hex, "#%02x%02x%02x", &r, &g, &b) != 3)
        return NULL;
    unsigned mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
    unsigned mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
    double v = mx / 255.0, s = mx ? (double)(mx - mn) / mx : 0;
    if (v < 0.2)
        return "black";
    if (s < 0.15)
        return v > 0.85 ? "white" : "black_and_white";
    double h;
    double d = (double)(mx - mn);
    if (mx == r)
        h = 60.0 * ((double)((int)g - (int)b) / d);
    else if (mx == g)
        h = 60.0 * (2.0 + (double)((int)b - (int)r) / d);
    else
        h = 60.0 * (4.0 + (double)((int)r - (int)g) / d);
    if (h < 0)
        h += 360;
    if (h < 15 || h >= 345)
        return "red";
    if (h < 45)
        return "orange";
    if (h < 70)
        return "yellow";
    if (h < 165)
        return "green";
    if (h < 195)
        return "teal";
    if (h < 255)
        return "blue";
    if (h < 290)
        return "purple";
    return "magenta";
}

/* A file name from the manifest: no path tricks, nothing needing escapes. */
static int safe_file(const char *f)
{
    if (!f || !*f || f[0] == '.' || strlen(f) > 200)
        return 0;
    for (const char *c = f; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            return 0;
    return 1;
}

library *library_load_buffer(const char *json, size_t len, const char *url_prefix, char *err,
                             size_t errlen)
{
    library *lib = calloc(1, sizeof *lib);
    if (!lib) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    json_tokener *tok = json_tokener_new();
    lib->root = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL;
    if (tok)
        json_tokener_free(tok);
    json_object *photos;
    if (!lib->root || !json_object_object_get_ex(lib->root, "photos", &photos) ||
        !json_object_is_type(photos, json_type_array)) {
        snprintf(err, errlen, "manifest.json is not a JSON object with a \"photos\" array");
        library_free(lib);
        return NULL;
    }
    size_t n = json_object_array_length(photos);
    if (n > LIBRARY_MAX_PHOTOS)
        n = LIBRARY_MAX_PHOTOS;
    lib->photos = calloc(n ? n : 1, sizeof *lib->photos);
    if (!lib->photos) {
        snprintf(err, errlen, "out of memory");
        library_free(lib);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(photos, i);
        json_object *files = json_obj(o, "files"), *author = json_obj(o, "author");
        lib_photo *ph = &lib->photos[lib->count];
        const char *id = json_str(o, "id");
        const char *f[3] = {json_str(files, "thumb"), json_str(files, "small"),
                            json_str(files, "regular")};
        const char *full = json_str(files, "full");
        if (!id || !safe_file(f[0]) || !safe_file(f[1]) || !safe_file(f[2]) || !safe_file(full))
            continue; /* skip an entry we could not serve safely */
        ph->r.id = id;
        for (int k = 0; k < 3; k++)
            snprintf(ph->urls[k], sizeof ph->urls[k], "%s%s", url_prefix, f[k]);
        ph->r.url_thumb = ph->urls[0];
        ph->r.url_small = ph->urls[1];
        ph->r.url_regular = ph->urls[2];
        json_object *v;
        if (json_object_object_get_ex(o, "width", &v))
            ph->r.width = (long)json_object_get_int64(v);
        if (json_object_object_get_ex(o, "height", &v))
            ph->r.height = (long)json_object_get_int64(v);
        ph->r.color = json_str(o, "color");
        ph->color_word = color_word(ph->r.color);
        ph->r.description = json_str(o, "description");
        if (!ph->r.description)
            ph->r.description = json_str(o, "title");
        ph->r.author_name = json_str(author, "name") ? json_str(author, "name") : "unknown";
        const char *au = json_str(author, "url");
        if (au && (!strncmp(au, "https://", 8) || !strncmp(au, "http://", 7))) {
            snprintf(ph->author_url, sizeof ph->author_url, "%s", au);
            ph->r.author_url = ph->author_url;
        }
        ph->full_file = full;
        snprintf(ph->link, sizeof ph->link, "%s%s", url_prefix, full);
        ph->r.link = ph->link;
        json_object *tags;
        if (json_object_object_get_ex(o, "tags", &tags) &&
            json_object_is_type(tags, json_type_array)) {
            for (size_t t = 0; t < json_object_array_length(tags); t++) {
                json_object *tag = json_object_array_get_idx(tags, t);
                if (json_object_is_type(tag, json_type_string))
                    add_words(ph, json_object_get_string(tag), W_TAG);
            }
        }
        add_words(ph, json_str(o, "title"), W_TITLE);
        add_words(ph, json_str(o, "description"), W_DESC);
        lib->count++;
    }
    return lib;
}

library *library_load(const char *dir, const char *url_prefix, char *err, size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *data = malloc(LIBRARY_MANIFEST_MAX + 1);
    size_t len = data ? fread(data, 1, LIBRARY_MANIFEST_MAX + 1, f) : 0;
    fclose(f);
    if (!data || len > LIBRARY_MANIFEST_MAX) {
        free(data);
        snprintf(err, errlen, "%s is larger than %d bytes", path, LIBRARY_MANIFEST_MAX);
        return NULL;
    }
    library *lib = library_load_buffer(data, len, url_prefix, err, errlen);
    free(data);
    return lib;
}

void library_free(library *lib)
{
    if (!lib)
        return;
    json_object_put(lib->root);
    free(lib->photos);
    free(lib);
}

size_t library_count(const library *lib)
{
    return lib ? lib->count : 0;
}

static int orientation_ok(const lib_photo *ph, const char *want)
{
    if (!want)
        return 1;
    long w = ph->r.width, h = ph->r.height, mx = w > h ? w : h;
    long diff = w > h ? w - h : h - w;
    const char *is = diff * 10 <= mx ? "squarish" : (w > h ? "landscape" : "portrait");
    return !strcmp(is, want);
}

typedef struct {
    size_t index;
    int matched;
    int score;
} hit;

static int by_relevance(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    if (x->matched != y->matched)
        return y->matched - x->matched;
    if (x->score != y->score)
        return y->score - x->score;
    return x->index < y->index ? -1 : 1;
}

static int by_latest(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    return x->index > y->index ? -1 : 1; /* later in the manifest = newer */
}

void library_search(const library *lib, const search_params *p, search_page *out)
{
    memset(out, 0, sizeof *out);
    char q[MAX_QUERY_WORDS][WORD_MAX];
    int nq = split_words(p->q, q, MAX_QUERY_WORDS);
    hit *hits = lib->count ? malloc(lib->count * sizeof *hits) : NULL;
    size_t nh = 0;
    for (size_t i = 0; hits && i < lib->count; i++) {
        const lib_photo *ph = &lib->photos[i];
        if (!orientation_ok(ph, p->orientation))
            continue;
        if (p->color && (!ph->color_word || strcmp(ph->color_word, p->color)))
            continue;
        int matched = 0, score = 0;
        for (int k = 0; k < nq; k++) {
            int best = 0;
            for (int j = 0; j < ph->nwords; j++)
                if (!strcmp(ph->words[j].text, q[k]) && ph->words[j].weight > best)
                    best = ph->words[j].weight;
            if (best) {
                matched++;
                score += best;
            }
        }
        if (matched)
            hits[nh++] = (hit){i, matched, score};
    }
    if (nh)
        qsort(hits, nh, sizeof *hits, strcmp(p->order_by, "latest") ? by_relevance : by_latest);
    out->total = (long)nh;
    out->total_pages = (long)((nh + (size_t)p->per_page - 1) / (size_t)p->per_page);
    size_t start = (size_t)(p->page - 1) * (size_t)p->per_page;
    for (size_t i = start; i < nh && out->count < p->per_page; i++)
        out->items[out->count++] = lib->photos[hits[i].index].r;
    free(hits);
}

const char *library_full_file(const library *lib, const char *id)
{
    for (size_t i = 0; lib && i < lib->count; i++)
        if (!strcmp(lib->photos[i].r.id, id))
            return lib->photos[i].full_file;
    return NULL;
}
