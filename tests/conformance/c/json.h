/* A small JSON reader for the C conformance runner (RFC 8259): objects,
 * arrays, strings with escapes, numbers, true/false/null. Strict: no
 * comments, no trailing commas, UTF-8 input only. Every value remembers
 * where it was in the source text, so a sub-document can be handed on as
 * text without re-serializing it. */
#ifndef CONFORMANCE_JSON_H
#define CONFORMANCE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} json_type;

typedef struct json_value json_value;

typedef struct {
    char *key;      /* decoded, NUL-terminated (may also contain NULs) */
    size_t key_len; /* bytes, without the terminator */
    json_value *value;
} json_member;

struct json_value {
    json_type type;
    size_t src_start, src_end; /* the value's bytes in the source: [start, end) */
    bool boolean;              /* JSON_BOOL */
    double number;             /* JSON_NUMBER */
    bool is_uint;              /* JSON_NUMBER written as a whole number in 0..=UINT64_MAX */
    uint64_t uint;             /* its value when is_uint */
    char *string;              /* JSON_STRING: decoded, NUL-terminated */
    size_t string_len;         /* bytes, without the terminator */
    json_value **items;        /* JSON_ARRAY */
    json_member *members;      /* JSON_OBJECT, in source order */
    size_t count;              /* items or members */
};

/* Parses `len` bytes of `text`. On error returns NULL and writes a message
 * (with line and column) to `err` (`err_len` bytes, may be 0). */
json_value *json_parse(const char *text, size_t len, char *err, size_t err_len);

/* Frees a parsed value and everything in it. NULL is ignored. */
void json_free(json_value *v);

/* The member `key` of an object (the last one if repeated), or NULL if
 * `obj` is NULL, not an object or has no such member. */
const json_value *json_get(const json_value *obj, const char *key);

/* The value as a whole non-negative integer up to 2^53 - 1 (5.0 reads as 5); false for anything else. */
bool json_as_u64(const json_value *v, uint64_t *out);
/* `json_get`, with a `null` member read as absent (optional scenario fields). */
const json_value *json_field(const json_value *obj, const char *key);

/* The string, or NULL if `v` is NULL or not a string. */
const char *json_as_string(const json_value *v);

/* A malloc'd, NUL-terminated copy of the value's source text. */
char *json_source(const json_value *v, const char *text);

#endif
