/*
 * The fast path of rates.py in C: parse one `in_network` item straight into
 * the column buffers of `tic_rate`, one row per negotiated price.
 *
 * It takes only items it can load exactly as the Python path would: valid
 * JSON, valid UTF-8, every required field of the right type, a known
 * billing_code_type, rates that are positive, finite and plausible, and
 * provider references by id. Anything else (inline provider_groups,
 * bundled_codes, covered_services, a bad value, a duplicate key) makes
 * add_item() return False with the columns rolled back, and the Python path
 * decodes that item and decides what to keep and what to reject.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define DIGIT(ch) ((ch) >= '0' && (ch) <= '9')
#define HEX(ch) (DIGIT(ch) || (((ch) | 0x20) >= 'a' && ((ch) | 0x20) <= 'f'))
#define IMPLAUSIBLE_RATE 10000000.0 /* checks.IMPLAUSIBLE_RATE */
#define MAX_DEPTH 64
#define MAX_IDS 4096

/* ---- growable buffers and Arrow-layout columns ---- */

typedef struct {
    char *data;
    Py_ssize_t len, cap;
    Py_ssize_t hint; /* the size it reached last time: the next start */
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : (b->hint > 4096 ? b->hint + b->hint / 8 : 4096);
    while (cap < b->len + extra) cap *= 2;
    char *data = PyMem_Realloc(b->data, (size_t)cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

/* Short strings dominate: copying and comparing them inline, a word at a
   time, beats calling memcpy and memcmp for each. */
static inline void copy_bytes(char *to, const char *from, Py_ssize_t n) {
    if (n > 32) {
        memcpy(to, from, (size_t)n);
        return;
    }
    for (; n >= 8; n -= 8, to += 8, from += 8) memcpy(to, from, 8);
    while (n-- > 0) *to++ = *from++;
}

static inline int same_bytes(const void *a, const void *b, Py_ssize_t n) {
    const char *x = a, *y = b;
    uint64_t u, v;
    if (n < 8) {
        while (n-- > 0)
            if (*x++ != *y++) return 0;
        return 1;
    }
    /* Whole words, the last one overlapping the one before it. */
    for (Py_ssize_t at = 0; at < n - 8; at += 8) {
        memcpy(&u, x + at, 8);
        memcpy(&v, y + at, 8);
        if (u != v) return 0;
    }
    memcpy(&u, x + n - 8, 8);
    memcpy(&v, y + n - 8, 8);
    return u == v;
}

static inline int buf_put(Buf *b, const void *src, Py_ssize_t n) {
    if (b->len + n > b->cap && buf_reserve(b, n)) return -1;
    copy_bytes(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

#define DEFINE_PUT(name, type)                                 \
    static inline int name(Buf *b, type value) {               \
        if (b->len + (Py_ssize_t)sizeof(type) > b->cap &&       \
            buf_reserve(b, (Py_ssize_t)sizeof(type)))           \
            return -1;                                         \
        memcpy(b->data + b->len, &value, sizeof(type));        \
        b->len += (Py_ssize_t)sizeof(type);                    \
        return 0;                                              \
    }
DEFINE_PUT(put_i32, int32_t)
DEFINE_PUT(put_i64, int64_t)
DEFINE_PUT(put_f64, double)

/* A string column: validity bits, int32 offsets, UTF-8 data. */
typedef struct {
    Buf valid, offsets, data;
    Py_ssize_t rows, nulls;
} StrCol;

/* A list<string> column: validity bits, int32 list offsets, child strings. */
typedef struct {
    Buf valid, offsets;
    StrCol child;
    Py_ssize_t rows, nulls;
} ListCol;

typedef struct {
    Py_ssize_t valid, offsets, data, rows, nulls;
} StrMark;

typedef struct {
    Py_ssize_t valid, offsets, rows, nulls;
    StrMark child;
} ListMark;

static inline int set_valid(Buf *valid, Py_ssize_t row, int is_valid) {
    if (row % 8 == 0) {
        if (valid->len + 1 > valid->cap && buf_reserve(valid, 1)) return -1;
        valid->data[valid->len++] = 0;
    }
    if (is_valid) valid->data[row / 8] |= (char)(1 << (row % 8));
    return 0;
}

static inline int str_start(StrCol *c) {
    return c->offsets.len ? 0 : put_i32(&c->offsets, 0);
}

static inline int str_finish_row(StrCol *c, int is_valid) {
    if (set_valid(&c->valid, c->rows, is_valid)) return -1;
    if (put_i32(&c->offsets, (int32_t)c->data.len)) return -1;
    c->rows++;
    if (!is_valid) c->nulls++;
    return 0;
}

static StrMark str_mark(StrCol *c) {
    StrMark m = {c->valid.len, c->offsets.len, c->data.len, c->rows, c->nulls};
    return m;
}

static void str_reset(StrCol *c, StrMark m) {
    c->valid.len = m.valid;
    c->offsets.len = m.offsets;
    c->data.len = m.data;
    c->rows = m.rows;
    c->nulls = m.nulls;
    /* Bits of rows past the mark in the last kept byte must read as null. */
    if (m.rows % 8) c->valid.data[m.rows / 8] &= (char)((1 << (m.rows % 8)) - 1);
}

static ListMark list_mark(ListCol *c) {
    ListMark m = {c->valid.len, c->offsets.len, c->rows, c->nulls, str_mark(&c->child)};
    return m;
}

static void list_reset(ListCol *c, ListMark m) {
    c->valid.len = m.valid;
    c->offsets.len = m.offsets;
    c->rows = m.rows;
    c->nulls = m.nulls;
    if (m.rows % 8) c->valid.data[m.rows / 8] &= (char)((1 << (m.rows % 8)) - 1);
    str_reset(&c->child, m.child);
}

static int list_finish_row(ListCol *c, int is_valid) {
    if (!c->offsets.len && put_i32(&c->offsets, 0)) return -1;
    if (set_valid(&c->valid, c->rows, is_valid)) return -1;
    if (put_i32(&c->offsets, (int32_t)c->child.rows)) return -1;
    c->rows++;
    if (!is_valid) c->nulls++;
    return 0;
}

static void str_free(StrCol *c) {
    PyMem_Free(c->valid.data);
    PyMem_Free(c->offsets.data);
    PyMem_Free(c->data.data);
    memset(c, 0, sizeof(*c));
}

static void list_free(ListCol *c) {
    PyMem_Free(c->valid.data);
    PyMem_Free(c->offsets.data);
    str_free(&c->child);
    memset(c, 0, sizeof(*c));
}

/* ---- the JSON subset parser ---- */

enum { OK = 0, PUNT = 1, FAIL = -1 };

typedef struct {
    const unsigned char *p, *end;
} Cursor;

static unsigned char is_ws[256];
static int hex4(const unsigned char *p);

static inline void skip_ws(Cursor *c) {
    /* Pretty-printed files indent with runs of spaces: skip eight at a time. */
    static const uint64_t spaces = 0x2020202020202020ULL;
    while (c->p < c->end && is_ws[*c->p]) {
        uint64_t word;
        if (c->end - c->p >= 8 && (memcpy(&word, c->p, 8), word == spaces))
            c->p += 8;
        else
            c->p++;
    }
}

static inline int expect(Cursor *c, unsigned char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A string's raw content (between the quotes) and whether it has escapes. */
typedef struct {
    const unsigned char *start;
    Py_ssize_t len;
    int escaped;
    int present; /* 0 absent, 1 string, 2 null */
} Str;

/* Length of a valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static int utf8_sequence(const unsigned char *p, const unsigned char *end) {
    unsigned char b = p[0];
    int n;
    uint32_t cp;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        cp = b & 0x07;
    } else {
        return 0;
    }
    if (end - p < n) return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return n;
}

/* Eight bytes at a time: whether any is a quote, a backslash, a control
   character or non-ASCII, the bytes a string scan must stop at. */
static inline int plain_word(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = v ^ (ones * '"'), slash = v ^ (ones * '\\');
    uint64_t special = ((quote - ones) & ~quote) | ((slash - ones) & ~slash) |
                       (v - ones * 0x20) | v;
    return (special & highs) == 0;
}

/* Parse a string after its opening quote; valid JSON and UTF-8 or PUNT. */
static int parse_string_body(Cursor *c, Str *s) {
    const unsigned char *p = c->p, *end = c->end;
    s->start = p;
    s->escaped = 0;
    while (p < end) {
        while (end - p >= 8 && plain_word(p)) p += 8;
        if (p >= end) break;
        unsigned char b = *p;
        if (b == '"') {
            s->len = p - s->start;
            s->present = 1;
            c->p = p + 1;
            return OK;
        }
        if (b == '\\') {
            s->escaped = 1;
            if (p + 1 >= end) return PUNT;
            unsigned char e = p[1];
            if (e == 'u') {
                if (end - p < 6) return PUNT;
                for (int i = 2; i < 6; i++)
                    if (!HEX(p[i])) return PUNT;
                int cp = hex4(p + 2);
                p += 6;
                /* A surrogate must come as a high-low pair. */
                if (cp >= 0xDC00 && cp <= 0xDFFF) return PUNT;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return PUNT;
                    for (int i = 2; i < 6; i++)
                        if (!HEX(p[i])) return PUNT;
                    int low = hex4(p + 2);
                    if (low < 0xDC00 || low > 0xDFFF) return PUNT;
                    p += 6;
                }
            } else if (e && strchr("\"\\/bfnrt", e)) {
                p += 2;
            } else {
                return PUNT;
            }
            continue;
        }
        if (b < 0x20) return PUNT;
        if (b < 0x80) {
            p++;
            continue;
        }
        int n = utf8_sequence(p, end);
        if (!n) return PUNT;
        p += n;
    }
    return PUNT;
}

static int parse_string(Cursor *c, Str *s) {
    skip_ws(c);
    if (c->p >= c->end || *c->p != '"') return PUNT;
    c->p++;
    return parse_string_body(c, s);
}

/* A string or null (for optional fields). */
static int parse_string_or_null(Cursor *c, Str *s) {
    skip_ws(c);
    if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
        c->p += 4;
        s->present = 2;
        return OK;
    }
    return parse_string(c, s);
}

static int hex4(const unsigned char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int ch = p[i];
        v = v * 16 + (ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
    }
    return v;
}

/* Append a parsed string's text, unescaped, to a string column's data. */
static int put_text(Buf *out, const Str *s) {
    if (!s->escaped) return buf_put(out, s->start, s->len);
    if (buf_reserve(out, s->len)) return FAIL;
    const unsigned char *p = s->start, *end = s->start + s->len;
    while (p < end) {
        if (*p != '\\') {
            out->data[out->len++] = (char)*p++;
            continue;
        }
        unsigned char e = p[1];
        if (e != 'u') {
            char ch = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n'
                    : e == 'r' ? '\r' : e == 't' ? '\t' : (char)e;
            out->data[out->len++] = ch;
            p += 2;
            continue;
        }
        uint32_t cp = (uint32_t)hex4(p + 2);
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return PUNT;
            uint32_t low = (uint32_t)hex4(p + 2);
            if (low < 0xDC00 || low > 0xDFFF) return PUNT;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            p += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return PUNT;
        }
        /* An escape never yields more bytes than it took (6 or 12 for 4). */
        if (cp < 0x80) {
            out->data[out->len++] = (char)cp;
        } else if (cp < 0x800) {
            out->data[out->len++] = (char)(0xC0 | (cp >> 6));
            out->data[out->len++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out->data[out->len++] = (char)(0xE0 | (cp >> 12));
            out->data[out->len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out->data[out->len++] = (char)(0x80 | (cp & 0x3F));
        } else {
            out->data[out->len++] = (char)(0xF0 | (cp >> 18));
            out->data[out->len++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            out->data[out->len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out->data[out->len++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    return OK;
}

static int str_add(StrCol *col, const Str *s) {
    if (str_start(col)) return FAIL;
    if (s->present == 1) {
        int r = put_text(&col->data, s);
        if (r) return r;
        if (col->data.len > INT32_MAX) return PUNT;
        return str_finish_row(col, 1) ? FAIL : OK;
    }
    return str_finish_row(col, 0) ? FAIL : OK;
}

/* A JSON number's text; 1 if it has a fraction or exponent, 0 if integer. */
static int parse_number(Cursor *c, const unsigned char **start, Py_ssize_t *len,
                        int *is_float) {
    skip_ws(c);
    const unsigned char *p = c->p, *end = c->end;
    *start = p;
    *is_float = 0;
    if (p < end && *p == '-') p++;
    if (p >= end || !DIGIT(*p)) return PUNT;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && DIGIT(*p)) p++;
    }
    if (p < end && *p == '.') {
        *is_float = 1;
        p++;
        if (p >= end || !DIGIT(*p)) return PUNT;
        while (p < end && DIGIT(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_float = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !DIGIT(*p)) return PUNT;
        while (p < end && DIGIT(*p)) p++;
    }
    *len = p - *start;
    c->p = p;
    return OK;
}

static const double POWERS_OF_TEN[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int parse_double(Cursor *c, double *value) {
    const unsigned char *start;
    Py_ssize_t len;
    int is_float, r = parse_number(c, &start, &len, &is_float);
    if (r) return r;

    /* Up to 15 digits and no exponent: the digits as an integer and a power of
       ten are both exact doubles, so one division is correctly rounded, the
       same double Python's parser gives. */
    const unsigned char *p = start, *end = start + len;
    int negative = *p == '-', digits = 0, fraction = -1;
    uint64_t mantissa = 0;
    if (negative) p++;
    for (; p < end; p++) {
        if (*p == '.') {
            fraction = 0;
            continue;
        }
        if (!DIGIT(*p)) break;
        mantissa = mantissa * 10 + (uint64_t)(*p - '0');
        if (mantissa) digits++;
        if (fraction >= 0) fraction++;
    }
    if (p == end && digits <= 15) {
        double v = (double)mantissa;
        if (fraction > 0) v /= POWERS_OF_TEN[fraction < 22 ? fraction : 22];
        if (fraction <= 22) {
            *value = negative ? -v : v;
            return OK;
        }
    }

    char text[64];
    if (len >= (Py_ssize_t)sizeof(text)) return PUNT;
    memcpy(text, start, (size_t)len);
    text[len] = 0;
    char *stop = NULL;
    *value = PyOS_string_to_double(text, &stop, NULL);
    if (*value == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return PUNT;
    }
    return stop == text + len ? OK : PUNT;
}

/* Skip any JSON value, checking it as the decoder would. */
static int skip_value(Cursor *c, int depth) {
    if (depth > MAX_DEPTH) return PUNT;
    skip_ws(c);
    if (c->p >= c->end) return PUNT;
    unsigned char b = *c->p;
    if (b == '"') {
        Str s;
        c->p++;
        return parse_string_body(c, &s);
    }
    if (b == '{' || b == '[') {
        unsigned char close = b == '{' ? '}' : ']';
        c->p++;
        if (expect(c, close)) return OK;
        for (;;) {
            if (b == '{') {
                Str key;
                if (parse_string(c, &key) || !expect(c, ':')) return PUNT;
            }
            int r = skip_value(c, depth + 1);
            if (r) return r;
            if (expect(c, ',')) continue;
            return expect(c, close) ? OK : PUNT;
        }
    }
    static const char *words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(c->end - c->p) >= n && memcmp(c->p, words[i], n) == 0) {
            c->p += n;
            return OK;
        }
    }
    const unsigned char *start;
    Py_ssize_t len;
    int is_float;
    return parse_number(c, &start, &len, &is_float);
}

/* Parse an object key and its colon: the key's index among `names`, -1 for
   another key, -2 for an escaped key (it might spell a known one), or PUNT_KEY
   when the text is not a key. Known keys are compared in place first, which
   spares scanning them byte by byte. */
#define PUNT_KEY (-3)
static int parse_key(Cursor *c, const char *const *names, const int *lengths,
                     int count) {
    skip_ws(c);
    if (c->p >= c->end || *c->p != '"') return PUNT_KEY;
    const unsigned char *p = c->p + 1;
    Py_ssize_t room = c->end - p;
    for (int i = 0; i < count; i++) {
        int n = lengths[i];
        if (room > n && p[0] == (unsigned char)names[i][0] && p[n] == '"' &&
            same_bytes(p, names[i], n)) {
            c->p = p + n + 1;
            return expect(c, ':') ? i : PUNT_KEY;
        }
    }
    Str key;
    c->p = p;
    if (parse_string_body(c, &key)) return PUNT_KEY;
    if (key.escaped) return -2;
    return expect(c, ':') ? -1 : PUNT_KEY;
}

/* ---- dictionary columns: an index per row into the batch's distinct values ---- */

typedef struct {
    Buf indices, valid;
    Py_ssize_t rows, nulls;
    StrCol values;    /* the distinct values; kept when an item is rolled back */
    int32_t *slots;   /* open addressing: value index + 1, 0 for empty */
    Py_ssize_t nslots, count;
    Buf scratch;      /* a value's unescaped text */
    int32_t last;     /* the previous row's value, or -1: rows repeat it often */
} DictCol;

typedef struct {
    Py_ssize_t indices, valid, rows, nulls;
} DictMark;

static uint64_t hash_text(const char *p, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static int dict_grow(DictCol *d) {
    Py_ssize_t nslots = d->nslots ? d->nslots * 2 : 64;
    int32_t *slots = PyMem_Calloc((size_t)nslots, sizeof(int32_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return FAIL;
    }
    const int32_t *offsets = (const int32_t *)d->values.offsets.data;
    for (Py_ssize_t i = 0; i < d->count; i++) {
        const char *text = d->values.data.data + offsets[i];
        uint64_t h = hash_text(text, offsets[i + 1] - offsets[i]);
        Py_ssize_t at = (Py_ssize_t)(h & (uint64_t)(nslots - 1));
        while (slots[at]) at = (at + 1) & (nslots - 1);
        slots[at] = (int32_t)(i + 1);
    }
    PyMem_Free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
    return OK;
}

static int dict_add(DictCol *d, const Str *s) {
    int32_t index = 0;
    if (s->present == 1) {
        const char *text = (const char *)s->start;
        Py_ssize_t n = s->len;
        if (s->escaped) {
            d->scratch.len = 0;
            int r = put_text(&d->scratch, s);
            if (r) return r;
            text = d->scratch.data;
            n = d->scratch.len;
        }
        const int32_t *offsets;
        if (d->last >= 0 && d->last < d->count) {
            offsets = (const int32_t *)d->values.offsets.data;
            if (offsets[d->last + 1] - offsets[d->last] == n &&
                same_bytes(d->values.data.data + offsets[d->last], text, n)) {
                index = d->last;
                goto found;
            }
        }
        if ((d->count + 1) * 2 > d->nslots && dict_grow(d)) return FAIL;
        uint64_t h = hash_text(text, n);
        Py_ssize_t at = (Py_ssize_t)(h & (uint64_t)(d->nslots - 1));
        for (;;) {
            int32_t slot = d->slots[at];
            if (!slot) break;
            offsets = (const int32_t *)d->values.offsets.data;
            if (offsets[slot] - offsets[slot - 1] == n &&
                same_bytes(d->values.data.data + offsets[slot - 1], text, n))
                break;
            at = (at + 1) & (d->nslots - 1);
        }
        if (d->slots[at]) {
            index = d->slots[at] - 1;
        } else {
            if (str_start(&d->values) || buf_put(&d->values.data, text, n) ||
                str_finish_row(&d->values, 1))
                return FAIL;
            if (d->values.data.len > INT32_MAX) return PUNT;
            index = (int32_t)d->count++;
            d->slots[at] = index + 1;
        }
        d->last = index;
    }
found:
    if (put_i32(&d->indices, index) || set_valid(&d->valid, d->rows, s->present == 1))
        return FAIL;
    d->rows++;
    if (s->present != 1) d->nulls++;
    return OK;
}

static DictMark dict_mark(DictCol *d) {
    DictMark m = {d->indices.len, d->valid.len, d->rows, d->nulls};
    return m;
}

static void dict_reset(DictCol *d, DictMark m) {
    d->indices.len = m.indices;
    d->valid.len = m.valid;
    d->rows = m.rows;
    d->nulls = m.nulls;
    if (m.rows % 8) d->valid.data[m.rows / 8] &= (char)((1 << (m.rows % 8)) - 1);
}

static void dict_clear(DictCol *d) {
    DictMark zero = {0, 0, 0, 0};
    StrMark none = {0, 0, 0, 0, 0};
    dict_reset(d, zero);
    str_reset(&d->values, none);
    if (d->slots) memset(d->slots, 0, (size_t)d->nslots * sizeof(int32_t));
    d->count = 0;
    d->last = -1;
}

static void dict_free(DictCol *d) {
    PyMem_Free(d->indices.data);
    PyMem_Free(d->valid.data);
    PyMem_Free(d->slots);
    PyMem_Free(d->scratch.data);
    str_free(&d->values);
    memset(d, 0, sizeof(*d));
}

/* ---- the columns of tic_rate ---- */

/* Item fields: one value per item, the rows point at their item. */
enum {
    I_BILLING_CODE_TYPE, I_BILLING_CODE, I_BILLING_CODE_TYPE_VERSION, I_NAME,
    I_DESCRIPTION, I_NEGOTIATION_ARRANGEMENT, I_SEVERITY, N_ITEM_STR
};
/* Price fields with few distinct values. */
enum { D_NEGOTIATED_TYPE, D_EXPIRATION_DATE, D_BILLING_CLASS, D_SETTING, N_DICT };
enum { L_SERVICE_CODE, L_MODIFIER, L_PROVIDER_REFS, N_LIST };

typedef struct {
    PyObject_HEAD
    Buf item_index, rate_index, price_index, item_pos, rate;
    StrCol item_str[N_ITEM_STR];
    Py_ssize_t items;
    DictCol dict[N_DICT];
    StrCol information;
    ListCol list[N_LIST];
    Py_ssize_t rows;
    Py_ssize_t punts;
    Str ids[MAX_IDS];
    int id_count;
} RateColumns;

static const char *const ITEM_KEYS[] = {
    "billing_code_type", "billing_code", "billing_code_type_version", "name",
    "description", "negotiation_arrangement", "severity_of_illness",
    "negotiated_rates", "bundled_codes", "covered_services",
};
static int ITEM_LENGTHS[10], RATE_LENGTHS[3], PRICE_LENGTHS[8];

enum { K_BUNDLED = 8, K_COVERED = 9, N_ITEM_KEYS = 10 };

static const char *const RATE_KEYS[] = {
    "negotiated_prices", "provider_references", "provider_groups",
};

static const char *const PRICE_KEYS[] = {
    "negotiated_type", "expiration_date", "billing_class", "setting",
    "additional_information", "negotiated_rate", "service_code",
    "billing_code_modifier",
};
enum { P_INFORMATION = 4, P_RATE = 5, P_SERVICE = 6, P_MODIFIER = 7, N_PRICE_KEYS = 8 };

static const char *const CODE_TYPES[] = {
    "CPT", "HCPCS", "ICD", "MS-DRG", "R-DRG", "S-DRG", "APS-DRG", "AP-DRG",
    "APR-DRG", "APC", "NDC", "HIPPS", "LOCAL", "EAPG", "CDT", "RC", "CSTM-ALL",
};

/* A list of strings, or null, appended as one row of a list column. */
static int add_string_list(ListCol *col, const unsigned char *at,
                           const unsigned char *end) {
    Cursor c = {at, end};
    skip_ws(&c);
    if (c.end - c.p >= 4 && memcmp(c.p, "null", 4) == 0)
        return list_finish_row(col, 0) ? FAIL : OK;
    if (!expect(&c, '[')) return PUNT;
    if (!expect(&c, ']')) {
        for (;;) {
            Str s;
            int r = parse_string(&c, &s);
            if (r || (r = str_add(&col->child, &s))) return r;
            if (expect(&c, ',')) continue;
            if (!expect(&c, ']')) return PUNT;
            break;
        }
    }
    return list_finish_row(col, 1) ? FAIL : OK;
}

static int parse_price(RateColumns *self, Cursor *c) {
    Str strings[P_RATE];
    const unsigned char *lists[2] = {NULL, NULL};
    double rate = 0;
    int seen = 0, r;
    for (int i = 0; i < P_RATE; i++) strings[i].present = 0;
    if (!expect(c, '{')) return PUNT;
    if (!expect(c, '}')) {
        for (;;) {
            int k = parse_key(c, PRICE_KEYS, PRICE_LENGTHS, N_PRICE_KEYS);
            if (k == PUNT_KEY) return PUNT;
            if (k == -2) return PUNT;
            if (k >= 0) {
                if (seen & (1 << k)) return PUNT;
                seen |= 1 << k;
            }
            if (k < 0) {
                r = skip_value(c, 2);
            } else if (k < P_RATE) {
                /* The first three are required strings; the rest may be null. */
                r = k < 3 ? parse_string(c, &strings[k])
                          : parse_string_or_null(c, &strings[k]);
            } else if (k == P_RATE) {
                r = parse_double(c, &rate);
            } else {
                skip_ws(c);
                lists[k - P_SERVICE] = c->p;
                r = skip_value(c, 2);
            }
            if (r) return r;
            if (expect(c, ',')) continue;
            if (!expect(c, '}')) return PUNT;
            break;
        }
    }
    /* negotiated_type, expiration_date, billing_class, negotiated_rate. */
    if ((seen & 0x27) != 0x27) return PUNT;
    if (!isfinite(rate) || rate <= 0 || rate > IMPLAUSIBLE_RATE) return PUNT;

    for (int i = 0; i < N_DICT; i++) {
        if ((r = dict_add(&self->dict[i], &strings[i]))) return r;
    }
    if ((r = str_add(&self->information, &strings[P_INFORMATION]))) return r;
    if (put_f64(&self->rate, rate)) return FAIL;
    for (int i = 0; i < 2; i++) {
        ListCol *col = &self->list[i == 0 ? L_SERVICE_CODE : L_MODIFIER];
        if (lists[i] == NULL) {
            if (list_finish_row(col, 0)) return FAIL;
        } else if ((r = add_string_list(col, lists[i], c->end))) {
            return r;
        }
    }
    return OK;
}

/* provider_references: ids kept as written; numbers only, or strings. */
static int parse_ids(RateColumns *self, Cursor *c) {
    skip_ws(c);
    self->id_count = 0;
    if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
        c->p += 4;
        return OK;
    }
    if (!expect(c, '[')) return PUNT;
    if (expect(c, ']')) return OK;
    for (;;) {
        if (self->id_count >= MAX_IDS) return PUNT;
        Str *id = &self->ids[self->id_count++];
        skip_ws(c);
        if (c->p < c->end && *c->p == '"') {
            int r = parse_string(c, id);
            if (r) return r;
        } else {
            const unsigned char *start;
            Py_ssize_t len;
            int is_float, r = parse_number(c, &start, &len, &is_float);
            if (r) return r;
            /* Python writes an integer id back as str(int): "-0" would not survive,
               and a very long one is left to Python's own rules. */
            if (!is_float && ((len >= 2 && start[0] == '-' && start[1] == '0') || len > 18))
                return PUNT;
            id->start = start;
            id->len = len;
            id->escaped = 0;
            id->present = 1;
        }
        if (expect(c, ',')) continue;
        return expect(c, ']') ? OK : PUNT;
    }
}

static int parse_rate(RateColumns *self, Cursor *c, int64_t item, int32_t number) {
    int seen = 0, r;
    Py_ssize_t first_row = self->rows;
    int32_t position = (int32_t)self->items;
    self->id_count = 0;
    if (!expect(c, '{')) return PUNT;
    if (!expect(c, '}')) {
        for (;;) {
            int k = parse_key(c, RATE_KEYS, RATE_LENGTHS, 3);
            if (k == PUNT_KEY) return PUNT;
            if (k == -2 || k == 2) return PUNT; /* inline provider_groups: Python */
            if (k >= 0) {
                if (seen & (1 << k)) return PUNT;
                seen |= 1 << k;
            }
            if (k == 0) {
                if (!expect(c, '[')) return PUNT;
                if (!expect(c, ']')) {
                    for (int32_t place = 0;; place++) {
                        if ((r = parse_price(self, c))) return r;
                        if (put_i64(&self->item_index, item) ||
                            put_i32(&self->rate_index, number) ||
                            put_i32(&self->price_index, place) ||
                            put_i32(&self->item_pos, position))
                            return FAIL;
                        self->rows++;
                        if (expect(c, ',')) continue;
                        if (!expect(c, ']')) return PUNT;
                        break;
                    }
                }
            } else if (k == 1) {
                r = parse_ids(self, c);
            } else {
                r = skip_value(c, 1);
            }
            if (r) return r;
            if (expect(c, ',')) continue;
            if (!expect(c, '}')) return PUNT;
            break;
        }
    }
    if (!(seen & 1)) return PUNT; /* negotiated_prices is required */

    /* The rate's provider ids go on each of its price rows. */
    ListCol *refs = &self->list[L_PROVIDER_REFS];
    for (Py_ssize_t row = first_row; row < self->rows; row++) {
        for (int i = 0; i < self->id_count; i++) {
            if ((r = str_add(&refs->child, &self->ids[i]))) return r;
        }
        if (list_finish_row(refs, 1)) return FAIL;
    }
    return OK;
}

static int parse_item(RateColumns *self, Cursor *c, int64_t item) {
    Str strings[N_ITEM_STR];
    int seen = 0, r;
    int32_t number = 0;
    for (int i = 0; i < N_ITEM_STR; i++) strings[i].present = 0;
    if (!expect(c, '{')) return PUNT;
    if (!expect(c, '}')) {
        for (;;) {
            int k = parse_key(c, ITEM_KEYS, ITEM_LENGTHS, N_ITEM_KEYS);
            if (k == PUNT_KEY) return PUNT;
            if (k == -2 || k == K_BUNDLED || k == K_COVERED) return PUNT;
            if (k >= 0) {
                if (seen & (1 << k)) return PUNT;
                seen |= 1 << k;
            }
            if (k < 0) {
                r = skip_value(c, 1);
            } else if (k < N_ITEM_STR) {
                r = k == I_SEVERITY ? parse_string_or_null(c, &strings[k])
                                    : parse_string(c, &strings[k]);
            } else {
                if (!expect(c, '[')) return PUNT;
                if (!expect(c, ']')) {
                    for (;; number++) {
                        if ((r = parse_rate(self, c, item, number))) return r;
                        if (expect(c, ',')) continue;
                        if (!expect(c, ']')) return PUNT;
                        break;
                    }
                }
                r = OK;
            }
            if (r) return r;
            if (expect(c, ',')) continue;
            if (!expect(c, '}')) return PUNT;
            break;
        }
    }
    skip_ws(c);
    if (c->p != c->end) return PUNT;
    if ((seen & 0xBF) != 0xBF) return PUNT; /* all but severity_of_illness */

    /* billing_code_type must be one of the schema's values. */
    const Str *type = &strings[I_BILLING_CODE_TYPE];
    int known = 0;
    if (!type->escaped) {
        for (size_t i = 0; i < sizeof(CODE_TYPES) / sizeof(*CODE_TYPES); i++) {
            if ((Py_ssize_t)strlen(CODE_TYPES[i]) == type->len &&
                memcmp(CODE_TYPES[i], type->start, (size_t)type->len) == 0)
                known = 1;
        }
    }
    if (!known) return PUNT;

    for (int i = 0; i < N_ITEM_STR; i++) {
        if ((r = str_add(&self->item_str[i], &strings[i]))) return r;
    }
    self->items++;
    return OK;
}

/* ---- the Python type ---- */

typedef struct {
    Py_ssize_t item_index, rate_index, price_index, item_pos, rate, rows, items;
    StrMark item_str[N_ITEM_STR];
    DictMark dict[N_DICT];
    StrMark information;
    ListMark list[N_LIST];
} Mark;

static void mark(RateColumns *self, Mark *m) {
    m->item_index = self->item_index.len;
    m->rate_index = self->rate_index.len;
    m->price_index = self->price_index.len;
    m->item_pos = self->item_pos.len;
    m->rate = self->rate.len;
    m->rows = self->rows;
    m->items = self->items;
    for (int i = 0; i < N_ITEM_STR; i++) m->item_str[i] = str_mark(&self->item_str[i]);
    for (int i = 0; i < N_DICT; i++) m->dict[i] = dict_mark(&self->dict[i]);
    m->information = str_mark(&self->information);
    for (int i = 0; i < N_LIST; i++) m->list[i] = list_mark(&self->list[i]);
}

static void reset(RateColumns *self, const Mark *m) {
    self->item_index.len = m->item_index;
    self->rate_index.len = m->rate_index;
    self->price_index.len = m->price_index;
    self->item_pos.len = m->item_pos;
    self->rate.len = m->rate;
    self->rows = m->rows;
    self->items = m->items;
    for (int i = 0; i < N_ITEM_STR; i++) str_reset(&self->item_str[i], m->item_str[i]);
    for (int i = 0; i < N_DICT; i++) dict_reset(&self->dict[i], m->dict[i]);
    str_reset(&self->information, m->information);
    for (int i = 0; i < N_LIST; i++) list_reset(&self->list[i], m->list[i]);
}

static void clear(RateColumns *self) {
    Mark zero;
    memset(&zero, 0, sizeof(zero));
    reset(self, &zero);
    for (int i = 0; i < N_DICT; i++) dict_clear(&self->dict[i]);
}

static void columns_dealloc(RateColumns *self) {
    PyMem_Free(self->item_index.data);
    PyMem_Free(self->rate_index.data);
    PyMem_Free(self->price_index.data);
    PyMem_Free(self->item_pos.data);
    PyMem_Free(self->rate.data);
    for (int i = 0; i < N_ITEM_STR; i++) str_free(&self->item_str[i]);
    for (int i = 0; i < N_DICT; i++) dict_free(&self->dict[i]);
    str_free(&self->information);
    for (int i = 0; i < N_LIST; i++) list_free(&self->list[i]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *columns_add_item(RateColumns *self, PyObject *args) {
    Py_buffer view;
    long long item;
    if (!PyArg_ParseTuple(args, "y*L", &view, &item)) return NULL;
    Mark m;
    mark(self, &m);
    Cursor c = {(const unsigned char *)view.buf,
                (const unsigned char *)view.buf + view.len};
    int r = parse_item(self, &c, (int64_t)item);
    PyBuffer_Release(&view);
    if (r == FAIL) {
        reset(self, &m);
        return NULL;
    }
    if (r == PUNT) {
        reset(self, &m);
        self->punts++;
        Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

/* A block of column memory handed to Python without a copy: it exposes the
   buffer protocol (pyarrow wraps it as it is) and frees the memory when the
   last Arrow array using it goes. */
typedef struct {
    PyObject_HEAD
    char *data;
    Py_ssize_t len;
} Block;

static int block_getbuffer(Block *self, Py_buffer *view, int flags) {
    return PyBuffer_FillInfo(view, (PyObject *)self, self->data, self->len, 1, flags);
}

static void block_dealloc(Block *self) {
    PyMem_Free(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyBufferProcs block_as_buffer = {(getbufferproc)block_getbuffer, NULL};

static PyTypeObject BlockType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "payerbrief.sources.tic.innetwork._flatten.Block",
    .tp_basicsize = sizeof(Block),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Column memory owned by Python.",
    .tp_dealloc = (destructor)block_dealloc,
    .tp_as_buffer = &block_as_buffer,
};

/* Hand a buffer's memory to a Block; the buffer starts again, empty. */
static PyObject *bytes_of(Buf *b) {
    if (b->data == NULL && buf_reserve(b, 1)) return NULL;
    Block *block = PyObject_New(Block, &BlockType);
    if (block == NULL) return NULL;
    block->data = b->data;
    block->len = b->len;
    b->hint = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return (PyObject *)block;
}

static PyObject *offsets_of(Buf *b) {
    if (!b->len && put_i32(b, 0)) return NULL;
    return bytes_of(b);
}

/* (rows, nulls, validity bytes or None, offsets, data) of a string column. */
static PyObject *str_tuple(StrCol *c) {
    PyObject *valid = c->nulls ? bytes_of(&c->valid) : Py_NewRef(Py_None);
    return Py_BuildValue("(nnNNN)", c->rows, c->nulls, valid, offsets_of(&c->offsets),
                         bytes_of(&c->data));
}

/* (rows, nulls, validity or None, indices, values) of a dictionary column. */
static PyObject *dict_tuple(DictCol *d) {
    PyObject *valid = d->nulls ? bytes_of(&d->valid) : Py_NewRef(Py_None);
    return Py_BuildValue("(nnNNN)", d->rows, d->nulls, valid, bytes_of(&d->indices),
                         str_tuple(&d->values));
}

/* (rows, nulls, validity or None, offsets, child) of a list column. */
static PyObject *list_tuple(ListCol *l) {
    PyObject *valid = l->nulls ? bytes_of(&l->valid) : Py_NewRef(Py_None);
    return Py_BuildValue("(nnNNN)", l->rows, l->nulls, valid, offsets_of(&l->offsets),
                         str_tuple(&l->child));
}

static PyObject *columns_take(RateColumns *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *items = PyTuple_New(N_ITEM_STR), *dicts = PyTuple_New(N_DICT);
    PyObject *lists = PyTuple_New(N_LIST), *result = NULL;
    if (items == NULL || dicts == NULL || lists == NULL) goto done;
    for (int i = 0; i < N_ITEM_STR; i++) {
        PyObject *t = str_tuple(&self->item_str[i]);
        if (t == NULL) goto done;
        PyTuple_SET_ITEM(items, i, t);
    }
    for (int i = 0; i < N_DICT; i++) {
        PyObject *t = dict_tuple(&self->dict[i]);
        if (t == NULL) goto done;
        PyTuple_SET_ITEM(dicts, i, t);
    }
    for (int i = 0; i < N_LIST; i++) {
        PyObject *t = list_tuple(&self->list[i]);
        if (t == NULL) goto done;
        PyTuple_SET_ITEM(lists, i, t);
    }
    result = Py_BuildValue("(nNNNNNOONO)", self->rows, bytes_of(&self->item_index),
                           bytes_of(&self->rate_index), bytes_of(&self->price_index),
                           bytes_of(&self->item_pos), bytes_of(&self->rate), items,
                           dicts, str_tuple(&self->information), lists);
    if (result != NULL) clear(self);
done:
    Py_XDECREF(items);
    Py_XDECREF(dicts);
    Py_XDECREF(lists);
    return result;
}

static PyObject *columns_rows(RateColumns *self, void *Py_UNUSED(closure)) {
    return PyLong_FromSsize_t(self->rows);
}

static PyObject *columns_punts(RateColumns *self, void *Py_UNUSED(closure)) {
    return PyLong_FromSsize_t(self->punts);
}

static PyMethodDef columns_methods[] = {
    {"add_item", (PyCFunction)columns_add_item, METH_VARARGS,
     "Parse one in_network item into the columns; False if Python must take it."},
    {"take", (PyCFunction)columns_take, METH_NOARGS,
     "Hand out the columns' buffers and start empty."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef columns_getset[] = {
    {"rows", (getter)columns_rows, NULL, "Rows collected since the last take.", NULL},
    {"punts", (getter)columns_punts, NULL, "Items handed to the Python path.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject RateColumnsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "payerbrief.sources.tic.innetwork._flatten.RateColumns",
    .tp_basicsize = sizeof(RateColumns),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "tic_rate columns filled from in_network items in C.",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)columns_dealloc,
    .tp_methods = columns_methods,
    .tp_getset = columns_getset,
};

static struct PyModuleDef flatten_module = {
    PyModuleDef_HEAD_INIT, "_flatten", "The tic_rate fast path in C.", -1,
    NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__flatten(void) {
    is_ws[' '] = is_ws['\t'] = is_ws['\r'] = is_ws['\n'] = 1;
    for (int i = 0; i < N_ITEM_KEYS; i++) ITEM_LENGTHS[i] = (int)strlen(ITEM_KEYS[i]);
    for (int i = 0; i < 3; i++) RATE_LENGTHS[i] = (int)strlen(RATE_KEYS[i]);
    for (int i = 0; i < N_PRICE_KEYS; i++) PRICE_LENGTHS[i] = (int)strlen(PRICE_KEYS[i]);
    if (PyType_Ready(&RateColumnsType) < 0 || PyType_Ready(&BlockType) < 0) return NULL;
    PyObject *module = PyModule_Create(&flatten_module);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "RateColumns", (PyObject *)&RateColumnsType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
