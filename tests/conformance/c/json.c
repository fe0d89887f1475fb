/* A small, strict JSON reader: see json.h. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

typedef struct {
    const char *text;
    size_t len;
    size_t pos;
    int depth;
    char *err;
    size_t err_len;
    bool failed;
} parser;

/* Records the first error, with the line and column of `at`. */
static void fail_at(parser *p, size_t at, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = true;
    if (p->err_len == 0) return;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->err_len, "%s at line %zu column %zu", msg, line, col);
}

/* Length of the valid UTF-8 sequence starting at s[0] (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t need;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    return need;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            p->pos++;
        } else {
            break;
        }
    }
}

static json_value *new_value(parser *p, json_type type, size_t start) {
    json_value *v = calloc(1, sizeof *v);
    if (!v) {
        fail_at(p, start, "out of memory");
        return NULL;
    }
    v->type = type;
    v->src_start = start;
    v->src_end = start;
    return v;
}

/* A growable byte buffer for decoded strings. */
typedef struct {
    char *data;
    size_t len, cap;
} buffer;

static bool buf_put(buffer *b, const char *bytes, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16;
        while (b->len + n + 1 > cap) cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) return false;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static bool buf_put_codepoint(buffer *b, uint32_t cp) {
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_put(b, out, n);
}

/* Reads the 4 hex digits of a \u escape at p->pos. */
static bool read_hex4(parser *p, uint32_t *out) {
    if (p->len - p->pos < 4) {
        fail_at(p, p->pos, "truncated \\u escape");
        return false;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->text[p->pos + (size_t)i];
        uint32_t d;
        if (c >= '0' && c <= '9') {
            d = (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (uint32_t)(c - 'A' + 10);
        } else {
            fail_at(p, p->pos + (size_t)i, "invalid hex digit in \\u escape");
            return false;
        }
        v = (v << 4) | d;
    }
    p->pos += 4;
    *out = v;
    return true;
}

/* Parses a string at p->pos (which is at the opening quote) into a
 * malloc'd buffer. */
static bool parse_string_raw(parser *p, char **out, size_t *out_len) {
    size_t start = p->pos;
    p->pos++; /* opening quote */
    buffer b = {0};
    if (!buf_put(&b, "", 0)) goto oom;
    for (;;) {
        if (p->pos >= p->len) {
            fail_at(p, start, "unterminated string");
            goto error;
        }
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            fail_at(p, p->pos, "control character in string");
            goto error;
        }
        if (c == '\\') {
            if (p->pos + 1 >= p->len) {
                fail_at(p, p->pos, "unterminated escape");
                goto error;
            }
            char e = p->text[p->pos + 1];
            const char *simple = NULL;
            switch (e) {
            case '"': simple = "\""; break;
            case '\\': simple = "\\"; break;
            case '/': simple = "/"; break;
            case 'b': simple = "\b"; break;
            case 'f': simple = "\f"; break;
            case 'n': simple = "\n"; break;
            case 'r': simple = "\r"; break;
            case 't': simple = "\t"; break;
            case 'u': break;
            default:
                fail_at(p, p->pos, "invalid escape");
                goto error;
            }
            if (simple) {
                if (!buf_put(&b, simple, 1)) goto oom;
                p->pos += 2;
                continue;
            }
            size_t esc = p->pos;
            p->pos += 2;
            uint32_t cp;
            if (!read_hex4(p, &cp)) goto error;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail_at(p, esc, "lone trailing surrogate in \\u escape");
                goto error;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p->len - p->pos < 2 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u') {
                    fail_at(p, esc, "lone leading surrogate in \\u escape");
                    goto error;
                }
                p->pos += 2;
                uint32_t lo;
                if (!read_hex4(p, &lo)) goto error;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail_at(p, esc, "lone leading surrogate in \\u escape");
                    goto error;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (!buf_put_codepoint(&b, cp)) goto oom;
            continue;
        }
        /* A raw byte sequence: the whole input was checked to be UTF-8. */
        size_t n = utf8_seq((const unsigned char *)p->text + p->pos, p->len - p->pos);
        if (n == 0) {
            fail_at(p, p->pos, "invalid UTF-8");
            goto error;
        }
        if (!buf_put(&b, p->text + p->pos, n)) goto oom;
        p->pos += n;
    }
    *out = b.data;
    *out_len = b.len;
    return true;
oom:
    fail_at(p, p->pos, "out of memory");
error:
    free(b.data);
    return false;
}

static json_value *parse_value(parser *p);

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static json_value *parse_number(parser *p) {
    size_t start = p->pos;
    size_t i = p->pos;
    bool negative = false, whole = true;
    if (i < p->len && p->text[i] == '-') {
        negative = true;
        i++;
    }
    if (i >= p->len || !is_digit(p->text[i])) {
        fail_at(p, i, "invalid number");
        return NULL;
    }
    if (p->text[i] == '0') {
        i++;
    } else {
        while (i < p->len && is_digit(p->text[i])) i++;
    }
    size_t int_end = i;
    if (i < p->len && p->text[i] == '.') {
        whole = false;
        i++;
        if (i >= p->len || !is_digit(p->text[i])) {
            fail_at(p, i, "invalid number: digit expected after '.'");
            return NULL;
        }
        while (i < p->len && is_digit(p->text[i])) i++;
    }
    if (i < p->len && (p->text[i] == 'e' || p->text[i] == 'E')) {
        whole = false;
        i++;
        if (i < p->len && (p->text[i] == '+' || p->text[i] == '-')) i++;
        if (i >= p->len || !is_digit(p->text[i])) {
            fail_at(p, i, "invalid number: digit expected in exponent");
            return NULL;
        }
        while (i < p->len && is_digit(p->text[i])) i++;
    }
    json_value *v = new_value(p, JSON_NUMBER, start);
    if (!v) return NULL;
    size_t n = i - start;
    char *copy = malloc(n + 1);
    if (!copy) {
        free(v);
        fail_at(p, start, "out of memory");
        return NULL;
    }
    memcpy(copy, p->text + start, n);
    copy[n] = '\0';
    v->number = strtod(copy, NULL);
    free(copy);
    if (whole && !negative) {
        uint64_t u = 0;
        bool overflow = false;
        for (size_t k = start; k < int_end; k++) {
            uint64_t d = (uint64_t)(p->text[k] - '0');
            if (u > (UINT64_MAX - d) / 10) {
                overflow = true;
                break;
            }
            u = u * 10 + d;
        }
        if (!overflow) {
            v->is_uint = true;
            v->uint = u;
        }
    }
    p->pos = i;
    v->src_end = i;
    return v;
}

static bool match_word(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos >= n && memcmp(p->text + p->pos, word, n) == 0) {
        p->pos += n;
        return true;
    }
    return false;
}

/* After an element: consumes ',' (returns 1: another element follows) or
 * the closing bracket (returns 0); anything else is an error (-1). */
static int separator_or_close(parser *p, char close, const char *what) {
    skip_ws(p);
    if (p->pos >= p->len) {
        fail_at(p, p->pos, "unterminated %s", what);
        return -1;
    }
    char c = p->text[p->pos];
    if (c == ',' || c == close) {
        p->pos++;
        return c == ',';
    }
    fail_at(p, p->pos, "expected ',' or '%c' in %s", close, what);
    return -1;
}

static json_value *parse_array(parser *p) {
    json_value *v = new_value(p, JSON_ARRAY, p->pos);
    if (!v) return NULL;
    p->pos++; /* [ */
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->text[p->pos] == ']') {
        p->pos++;
        v->src_end = p->pos;
        return v;
    }
    for (;;) {
        json_value *item = parse_value(p);
        if (!item) goto error;
        if (v->count == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            json_value **items = realloc(v->items, ncap * sizeof *items);
            if (!items) {
                json_free(item);
                fail_at(p, p->pos, "out of memory");
                goto error;
            }
            v->items = items;
            cap = ncap;
        }
        v->items[v->count++] = item;
        int next = separator_or_close(p, ']', "array");
        if (next < 0) goto error;
        if (next == 0) break;
    }
    v->src_end = p->pos;
    return v;
error:
    json_free(v);
    return NULL;
}

static json_value *parse_object(parser *p) {
    json_value *v = new_value(p, JSON_OBJECT, p->pos);
    if (!v) return NULL;
    p->pos++; /* { */
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->text[p->pos] == '}') {
        p->pos++;
        v->src_end = p->pos;
        return v;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->text[p->pos] != '"') {
            fail_at(p, p->pos, "expected a string key in object");
            goto error;
        }
        char *key = NULL;
        size_t key_len = 0;
        if (!parse_string_raw(p, &key, &key_len)) goto error;
        skip_ws(p);
        if (p->pos >= p->len || p->text[p->pos] != ':') {
            free(key);
            fail_at(p, p->pos, "expected ':' after object key");
            goto error;
        }
        p->pos++;
        json_value *item = parse_value(p);
        if (!item) {
            free(key);
            goto error;
        }
        if (v->count == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            json_member *members = realloc(v->members, ncap * sizeof *members);
            if (!members) {
                free(key);
                json_free(item);
                fail_at(p, p->pos, "out of memory");
                goto error;
            }
            v->members = members;
            cap = ncap;
        }
        v->members[v->count].key = key;
        v->members[v->count].key_len = key_len;
        v->members[v->count].value = item;
        v->count++;
        int next = separator_or_close(p, '}', "object");
        if (next < 0) goto error;
        if (next == 0) break;
    }
    v->src_end = p->pos;
    return v;
error:
    json_free(v);
    return NULL;
}

static json_value *parse_value(parser *p) {
    skip_ws(p);
    if (p->pos >= p->len) {
        fail_at(p, p->pos, "unexpected end of input, expected a value");
        return NULL;
    }
    if (p->depth >= MAX_DEPTH) {
        fail_at(p, p->pos, "nested too deeply");
        return NULL;
    }
    size_t start = p->pos;
    char c = p->text[p->pos];
    json_value *v = NULL;
    p->depth++;
    switch (c) {
    case '{': v = parse_object(p); break;
    case '[': v = parse_array(p); break;
    case '"': {
        char *s = NULL;
        size_t n = 0;
        if (parse_string_raw(p, &s, &n)) {
            v = new_value(p, JSON_STRING, start);
            if (v) {
                v->string = s;
                v->string_len = n;
                v->src_end = p->pos;
            } else {
                free(s);
            }
        }
        break;
    }
    case 't':
    case 'f':
    case 'n':
        if (match_word(p, "true") || match_word(p, "false")) {
            v = new_value(p, JSON_BOOL, start);
            if (v) v->boolean = c == 't';
        } else if (match_word(p, "null")) {
            v = new_value(p, JSON_NULL, start);
        } else {
            fail_at(p, start, "invalid literal");
        }
        if (v) v->src_end = p->pos;
        break;
    default:
        if (c == '-' || is_digit(c)) {
            v = parse_number(p);
        } else {
            fail_at(p, start, "unexpected character '%c'", c >= 0x20 && c < 0x7F ? c : '?');
        }
    }
    p->depth--;
    return v;
}

json_value *json_parse(const char *text, size_t len, char *err, size_t err_len) {
    parser p = {text, len, 0, 0, err, err_len, false};
    if (err_len > 0) err[0] = '\0';
    if (!text) {
        fail_at(&p, 0, "no input");
        return NULL;
    }
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq((const unsigned char *)text + i, len - i);
        if (n == 0) {
            fail_at(&p, i, "invalid UTF-8");
            return NULL;
        }
        i += n;
    }
    json_value *v = parse_value(&p);
    if (!v) return NULL;
    skip_ws(&p);
    if (p.pos != len) {
        fail_at(&p, p.pos, "trailing characters after the value");
        json_free(v);
        return NULL;
    }
    return v;
}

void json_free(json_value *v) {
    if (!v) return;
    switch (v->type) {
    case JSON_STRING: free(v->string); break;
    case JSON_ARRAY:
        for (size_t i = 0; i < v->count; i++) json_free(v->items[i]);
        free(v->items);
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->count; i++) {
            free(v->members[i].key);
            json_free(v->members[i].value);
        }
        free(v->members);
        break;
    default: break;
    }
    free(v);
}

const json_value *json_get(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = obj->count; i > 0; i--) {
        const json_member *m = &obj->members[i - 1];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return m->value;
    }
    return NULL;
}

bool json_as_u64(const json_value *v, uint64_t *out) {
    if (!v || v->type != JSON_NUMBER) return false;
    /* Up to 2^53 - 1, the largest number every runner reads exactly. */
    if (v->is_uint) {
        if (v->uint > 9007199254740991ULL) return false;
        *out = v->uint;
        return true;
    }
    /* A whole number written as a float (`5.0`, `1e3`): JS writes no integers. */
    double d = v->number;
    if (d >= 0.0 && d < 9007199254740992.0 && d == (double)(uint64_t)d) {
        *out = (uint64_t)d;
        return true;
    }
    return false;
}

const json_value *json_field(const json_value *obj, const char *key) {
    const json_value *v = json_get(obj, key);
    return v && v->type == JSON_NULL ? NULL : v;
}

const char *json_as_string(const json_value *v) {
    return v && v->type == JSON_STRING ? v->string : NULL;
}

char *json_source(const json_value *v, const char *text) {
    size_t n = v->src_end - v->src_start;
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, text + v->src_start, n);
    s[n] = '\0';
    return s;
}
