/* lookalike.c: the table of protected names and the lookalike check (docs/lookalike.md).
 *
 * Per protected name the lower-cased and the homoglyph-folded spellings are computed once; index
 * arrays sort them for exact look-ups (binary search) and bucket them by length, so a candidate
 * name is compared only with the names whose length is within one of its own, each comparison
 * linear in the length. */
#include "intel/lookalike.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LA_FILE          1u             /* the entry applies to file base names */
#define LA_PROC          2u             /* ... to process names (comm) */
#define LA_MAX_IOC_NAMES ((size_t)4096) /* protected-name IOCs used; ab_iocs caps them too */

/* The built-in list: what malware most often imitates on Windows (Loki's list and the system
 * processes every Windows host runs) and on Linux (daemons, and kernel threads whose names have
 * no per-CPU number: kswapd0/kswapd1 would be one edit apart). */
static const char *const builtin_windows[] = {
    "svchost.exe",    "lsass.exe",         "csrss.exe",         "winlogon.exe",   "services.exe",
    "smss.exe",       "explorer.exe",      "spoolsv.exe",       "taskhost.exe",   "taskhostw.exe",
    "taskhostex.exe", "rundll32.exe",      "dllhost.exe",       "conhost.exe",    "wininit.exe",
    "lsm.exe",        "lsaiso.exe",        "iexplore.exe",      "chrome.exe",     "firefox.exe",
    "taskmgr.exe",    "regsvr32.exe",      "mshta.exe",         "powershell.exe", "cmd.exe",
    "wmiprvse.exe",   "searchindexer.exe", "msmpeng.exe",       "sihost.exe",     "ctfmon.exe",
    "userinit.exe",   "audiodg.exe",       "fontdrvhost.exe",   "ntoskrnl.exe",   "wuauclt.exe",
    "msiexec.exe",    "dwm.exe",           "runtimebroker.exe", "werfault.exe",
};
static const char *const builtin_linux[] = {
    "sshd",
    "cron",
    "crond",
    "init",
    "bash",
    "systemd",
    "systemd-journald",
    "systemd-logind",
    "systemd-udevd",
    "systemd-resolved",
    "systemd-networkd",
    "systemd-timesyncd",
    "dbus-daemon",
    "dbus-broker",
    "kworker",
    "kthreadd",
    "ksoftirqd",
    "kdevtmpfs",
    "khugepaged",
    "kblockd",
    "rsyslogd",
    "syslogd",
    "agetty",
    "auditd",
    "polkitd",
    "networkmanager",
    "dockerd",
    "containerd",
    "accounts-daemon",
    "udisksd",
    "irqbalance",
    "chronyd",
    "sshd-session",
    "xinetd",
};

/* Real names one edit (or a homoglyph) from a protected one, met on Debian and in kernel thread
 * lists: never reported. Scripts and config files named after a package (/etc/init.d/rsyslog),
 * neighbouring programs (chronyc, inetd, mgetty), kernel threads (kauditd), zsh completions
 * (_systemd) and terminfo entries (system1). */
static const char *const builtin_allow[] = {
    "rsyslog", "syslog", "system", "system1", "_systemd", "kthread", "kauditd", "docker",
    "getty",   "mgetty", "polkit", "chrony",  "chronyc",  "inetd",   "audit",   "udisks",
};

typedef struct la_entry {
    char name[AB_LOOKALIKE_MAX_NAME + 1]; /* lower-cased (cut to 15 bytes for a comm entry) */
    char fold[AB_LOOKALIKE_MAX_NAME + 1];
    size_t len, flen;
    size_t full_len; /* length of the protected name before any cut: decides the rules */
    unsigned scope;  /* LA_FILE | LA_PROC */
    int allow;       /* a real name: never reported, never imitated */
    const char *shown, *source, *description;
    int score;
} la_entry;

struct ab_lookalike {
    la_entry *e; /* owned */
    size_t n, cap, protected_names;
    uint32_t *by_name, *by_fold; /* owned: entry indices sorted by name / by folded name */
    uint32_t *by_len, *by_flen;  /* owned: entry indices bucketed by len / flen */
    size_t len_start[AB_LOOKALIKE_MAX_NAME + 2], flen_start[AB_LOOKALIKE_MAX_NAME + 2];
};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

size_t ab_homoglyph_fold(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = lower(in[i]), d = i + 1 < n ? lower(in[i + 1]) : '\0';
        if ((c == 'r' && d == 'n') || (c == 'v' && d == 'v')) {
            out[o++] = c == 'r' ? 'm' : 'w';
            i++;
            continue;
        }
        switch (c) {
        case '0':
            c = 'o';
            break;
        case '1':
        case 'i':
            c = 'l';
            break;
        case '5':
            c = 's';
            break;
        default:
            break;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return o;
}

int ab_edit_distance1(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > bn) {
        const char *t = a;
        a = b;
        b = t;
        size_t tn = an;
        an = bn;
        bn = tn;
    }
    if (bn - an > 1)
        return 2;
    size_t i = 0;
    while (i < an && a[i] == b[i])
        i++;
    if (i == an)
        return (int)(bn - an); /* equal, or b is a with one byte appended */
    if (an == bn) {
        if (memcmp(a + i + 1, b + i + 1, an - i - 1) == 0)
            return 1; /* substitution */
        if (i + 1 < an && a[i] == b[i + 1] && a[i + 1] == b[i] &&
            memcmp(a + i + 2, b + i + 2, an - i - 2) == 0)
            return 1; /* transposition of neighbours */
        return 2;
    }
    return memcmp(a + i, b + i + 1, an - i) == 0 ? 1 : 2; /* one byte inserted at i */
}

void ab_lookalike_free(ab_lookalike *l)
{
    if (!l)
        return;
    free(l->e);
    free(l->by_name);
    free(l->by_fold);
    free(l->by_len);
    free(l->by_flen);
    free(l);
}

size_t ab_lookalike_count(const ab_lookalike *l)
{
    return l ? l->protected_names : 0;
}

static la_entry *push(ab_lookalike *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        la_entry *p = realloc(l->e, cap * sizeof(*p));
        if (!p)
            return NULL;
        l->e = p;
        l->cap = cap;
    }
    la_entry *e = &l->e[l->n++];
    memset(e, 0, sizeof(*e));
    return e;
}

static void set_name(la_entry *e, const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++)
        e->name[i] = lower(name[i]);
    e->name[len] = '\0';
    e->len = len;
    e->flen = ab_homoglyph_fold(e->name, len, e->fold);
}

/* One name: an entry for files and, when the kernel would cut it, one more for process names
 * holding the first 15 bytes (systemd-journald runs as "systemd-journal"). */
static ab_status add_name(ab_lookalike *l, const char *name, const char *source, const char *desc,
                          int score, int allow)
{
    size_t len = strlen(name);
    if (len == 0 || len > AB_LOOKALIKE_MAX_NAME)
        return AB_OK; /* the IOC loader refuses these; nothing to protect */
    int cut = len > AB_LOOKALIKE_COMM_LEN;
    for (int k = 0; k <= cut; k++) {
        la_entry *e = push(l);
        if (!e)
            return AB_ERR_NOMEM;
        set_name(e, name, k ? AB_LOOKALIKE_COMM_LEN : len);
        e->full_len = len;
        e->scope = cut ? (k ? LA_PROC : LA_FILE) : (LA_FILE | LA_PROC);
        e->allow = allow;
        e->shown = name;
        e->source = source;
        e->description = desc;
        e->score = score;
    }
    if (!allow)
        l->protected_names++;
    return AB_OK;
}

static ab_status add_builtin(ab_lookalike *l)
{
    ab_status st = AB_OK;
    for (size_t i = 0; st == AB_OK && i < sizeof(builtin_windows) / sizeof(*builtin_windows); i++)
        st = add_name(l, builtin_windows[i], "builtin", "Windows system binary", AB_LOOKALIKE_SCORE,
                      0);
    for (size_t i = 0; st == AB_OK && i < sizeof(builtin_linux) / sizeof(*builtin_linux); i++)
        st = add_name(l, builtin_linux[i], "builtin", "Linux system binary", AB_LOOKALIKE_SCORE, 0);
    for (size_t i = 0; st == AB_OK && i < sizeof(builtin_allow) / sizeof(*builtin_allow); i++)
        st = add_name(l, builtin_allow[i], "builtin", "real name", 0, 1);
    return st;
}

/* qsort_r comparators over entry indices. */
static int cmp_name(const void *a, const void *b, void *arg)
{
    const la_entry *e = arg;
    return strcmp(e[*(const uint32_t *)a].name, e[*(const uint32_t *)b].name);
}

static int cmp_fold(const void *a, const void *b, void *arg)
{
    const la_entry *e = arg;
    return strcmp(e[*(const uint32_t *)a].fold, e[*(const uint32_t *)b].fold);
}

/* Stable counting sort of the entries by a length: start[L]..start[L + 1] is bucket L. */
static void bucket(const ab_lookalike *l, int folded, uint32_t *out, size_t *start)
{
    memset(start, 0, sizeof(l->len_start));
    for (size_t i = 0; i < l->n; i++)
        start[(folded ? l->e[i].flen : l->e[i].len) + 1]++;
    for (size_t k = 1; k < AB_LOOKALIKE_MAX_NAME + 2; k++)
        start[k] += start[k - 1];
    size_t fill[AB_LOOKALIKE_MAX_NAME + 2];
    memcpy(fill, start, sizeof(fill));
    for (size_t i = 0; i < l->n; i++)
        out[fill[folded ? l->e[i].flen : l->e[i].len]++] = (uint32_t)i;
}

static ab_status index_entries(ab_lookalike *l)
{
    size_t n = l->n ? l->n : 1;
    l->by_name = malloc(n * sizeof(uint32_t));
    l->by_fold = malloc(n * sizeof(uint32_t));
    l->by_len = malloc(n * sizeof(uint32_t));
    l->by_flen = malloc(n * sizeof(uint32_t));
    if (!l->by_name || !l->by_fold || !l->by_len || !l->by_flen)
        return AB_ERR_NOMEM;
    for (size_t i = 0; i < l->n; i++)
        l->by_name[i] = l->by_fold[i] = (uint32_t)i;
    qsort_r(l->by_name, l->n, sizeof(uint32_t), cmp_name, l->e);
    qsort_r(l->by_fold, l->n, sizeof(uint32_t), cmp_fold, l->e);
    bucket(l, 0, l->by_len, l->len_start);
    bucket(l, 1, l->by_flen, l->flen_start);
    return AB_OK;
}

ab_status ab_lookalike_new(const ab_iocs *iocs, ab_lookalike **out)
{
    ab_lookalike *l = calloc(1, sizeof(*l));
    if (!l)
        return AB_ERR_NOMEM;
    ab_status st = AB_OK;
    /* IOCs first: a name listed both ways reports the IOC's score and description. */
    size_t n_ioc = ab_iocs_count(iocs, AB_IOC_PROTECTED_NAME);
    for (size_t i = 0; st == AB_OK && i < n_ioc && i < LA_MAX_IOC_NAMES; i++) {
        const ab_ioc *ioc = ab_iocs_get(iocs, AB_IOC_PROTECTED_NAME, i);
        st = add_name(l, ioc->value, ioc->source,
                      ioc->description ? ioc->description : "protected name", ioc->score, 0);
    }
    if (st == AB_OK)
        st = add_builtin(l);
    if (st == AB_OK)
        st = index_entries(l);
    if (st != AB_OK) {
        ab_lookalike_free(l);
        return st;
    }
    *out = l;
    return AB_OK;
}

/* First index in idx (sorted by the field at off) whose string is >= key. */
static size_t lower_bound(const ab_lookalike *l, const uint32_t *idx, int folded, const char *key)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const la_entry *e = &l->e[idx[mid]];
        if (strcmp(folded ? e->fold : e->name, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Any entry of this scope spelled key (a real name: protected or allowed). */
static int is_real(const ab_lookalike *l, const char *key, unsigned scope)
{
    for (size_t i = lower_bound(l, l->by_name, 0, key); i < l->n; i++) {
        const la_entry *e = &l->e[l->by_name[i]];
        if (strcmp(e->name, key) != 0)
            return 0;
        if (e->scope & scope)
            return 1;
    }
    return 0;
}

static int is_target(const la_entry *e, unsigned scope, size_t min_len)
{
    return !e->allow && (e->scope & scope) && e->full_len >= min_len;
}

static const la_entry *same_fold(const ab_lookalike *l, const char *fold, unsigned scope)
{
    for (size_t i = lower_bound(l, l->by_fold, 1, fold); i < l->n; i++) {
        const la_entry *e = &l->e[l->by_fold[i]];
        if (strcmp(e->fold, fold) != 0)
            return NULL;
        if (is_target(e, scope, AB_LOOKALIKE_MIN_HOMOGLYPH))
            return e;
    }
    return NULL;
}

/* Windows installation media keep compressed copies whose last character is '_' (svchost.ex_):
 * not an imitation. */
static int cab_copy(const char *s, size_t n, const char *t, size_t tn)
{
    return n == tn && n > 1 && s[n - 1] == '_' && memcmp(s, t, n - 1) == 0;
}

/* An entry one edit from s (n bytes), looking only at the buckets n - 1, n and n + 1. */
static const la_entry *one_edit(const ab_lookalike *l, int folded, const char *s, size_t n,
                                unsigned scope)
{
    const uint32_t *idx = folded ? l->by_flen : l->by_len;
    const size_t *start = folded ? l->flen_start : l->len_start;
    size_t lo = n ? n - 1 : 0, hi = n + 1 > AB_LOOKALIKE_MAX_NAME ? AB_LOOKALIKE_MAX_NAME : n + 1;
    for (size_t len = lo; len <= hi; len++) {
        for (size_t k = start[len]; k < start[len + 1]; k++) {
            const la_entry *e = &l->e[idx[k]];
            const char *t = folded ? e->fold : e->name; /* len bytes */
            if (is_target(e, scope, AB_LOOKALIKE_MIN_EDIT) && !cab_copy(s, n, t, len) &&
                ab_edit_distance1(s, n, t, len) == 1)
                return e;
        }
    }
    return NULL;
}

int ab_lookalike_check(const ab_lookalike *l, const char *name, size_t len, int process,
                       ab_lookalike_hit *hit)
{
    char low[AB_LOOKALIKE_MAX_NAME + 2], fold[AB_LOOKALIKE_MAX_NAME + 2];
    if (!l || !name || len < AB_LOOKALIKE_MIN_HOMOGLYPH - 1 || len > AB_LOOKALIKE_MAX_NAME + 1 ||
        memchr(name, '\0', len))
        return 0;
    unsigned scope = process ? LA_PROC : LA_FILE;
    for (size_t i = 0; i < len; i++)
        low[i] = lower(name[i]);
    low[len] = '\0';
    if (is_real(l, low, scope))
        return 0;
    size_t flen = ab_homoglyph_fold(low, len, fold);
    ab_lookalike_kind kind = AB_LOOKALIKE_HOMOGLYPH;
    const la_entry *e = same_fold(l, fold, scope);
    if (!e && (e = one_edit(l, 0, low, len, scope)))
        kind = AB_LOOKALIKE_EDIT;
    if (!e && (e = one_edit(l, 1, fold, flen, scope)))
        kind = AB_LOOKALIKE_EDIT_HOMOGLYPH;
    if (!e)
        return 0;
    hit->name = e->shown;
    hit->source = e->source;
    hit->description = e->description;
    hit->score = e->score;
    hit->kind = kind;
    return 1;
}
