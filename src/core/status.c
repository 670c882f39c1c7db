/* status.c: names for status codes, skip reasons and matchers. */
#include "antibody/antibody.h"

const char *ab_strerror(ab_status st)
{
    switch (st) {
    case AB_OK:
        return "success";
    case AB_ERR_NOMEM:
        return "out of memory";
    case AB_ERR_ARG:
        return "invalid argument";
    case AB_ERR_IO:
        return "I/O error";
    case AB_ERR_PARSE:
        return "malformed input";
    case AB_ERR_RULES:
        return "YARA rules error";
    case AB_ERR_LIMIT:
        return "limit exceeded";
    case AB_ERR_TIMEOUT:
        return "timed out";
    case AB_ERR_CRASH:
        return "scanner worker crashed";
    case AB_ERR_UNSUPPORTED:
        return "not supported";
    case AB_ERR_NOTFOUND:
        return "not found";
    case AB_ERR_INTERNAL:
        return "internal error";
    }
    return "unknown status";
}

const char *ab_skip_reason_name(ab_skip_reason r)
{
    static const char *const names[AB_SKIP_REASON_COUNT] = {
        [AB_SKIP_TOO_LARGE] = "too-large",
        [AB_SKIP_EXCLUDED] = "excluded",
        [AB_SKIP_SPECIAL] = "special-file",
        [AB_SKIP_SYMLINK] = "symlink",
        [AB_SKIP_PSEUDO_FS] = "pseudo-fs",
        [AB_SKIP_OTHER_FS] = "other-fs",
        [AB_SKIP_DEPTH] = "max-depth",
        [AB_SKIP_LOOP] = "loop",
        [AB_SKIP_SELF] = "self",
        [AB_SKIP_ALLOWLIST] = "allow-listed",
        [AB_SKIP_NO_ACCESS] = "no-access",
        [AB_SKIP_REMOTE_FS] = "remote-fs",
        [AB_SKIP_EXITED] = "exited",
        [AB_SKIP_ENCRYPTED] = "encrypted",
        [AB_SKIP_UNPACK_LIMIT] = "unpack-limit",
    };
    if ((unsigned)r >= AB_SKIP_REASON_COUNT)
        return "unknown";
    return names[r];
}

const char *ab_matcher_name(ab_matcher_kind m)
{
    switch (m) {
    case AB_MATCHER_YARA:
        return "yara";
    case AB_MATCHER_HASH:
        return "hash";
    case AB_MATCHER_NAME:
        return "name";
    case AB_MATCHER_CONNECTION:
        return "connection";
    case AB_MATCHER_LOOKALIKE:
        return "lookalike";
    case AB_MATCHER_LIMIT:
        return "limit";
    case AB_MATCHER_OBSERVABLE:
        return "observable";
    case AB_MATCHER_MAIL_SIGNAL:
        return "mail-signal";
    }
    return "unknown";
}
