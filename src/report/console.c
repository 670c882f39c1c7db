/* console.c: the human-readable reporter. */
#include "report/console.h"

#include <string.h>
#include <time.h>

#include "report/json.h"

#define C_RESET  "\033[0m"
#define C_RED    "\033[1;31m"
#define C_YELLOW "\033[1;33m"
#define C_CYAN   "\033[36m"
#define C_DIM    "\033[2m"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xE0) == 0xC0 ? 2
               : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n && ab_utf8_valid((const char *)s, n) ? n : 0;
}

/* Code point of a valid sequence of n bytes. */
static unsigned code_point(const unsigned char *s, size_t n)
{
    unsigned cp = n == 2 ? s[0] & 0x1Fu : n == 3 ? s[0] & 0x0Fu : s[0] & 0x07u;
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (s[i] & 0x3Fu);
    return cp;
}

/* Valid UTF-8 that a terminal would still act on: C1 controls (U+009B is CSI on terminals that
 * honour 8-bit controls), line and paragraph separators, and the bidirectional controls that
 * make "gpj.exe" display as "exe.jpg" (Trojan Source). Escaped like invalid bytes. */
static int dangerous_cp(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* A name must not be able to pose as the rest of a line: ": " ends the location on a finding
 * line and '!' separates its levels (invoice.zip!docs/report.docm), so in names those ':' and
 * every '!' are escaped. */
static int fake_separator(const unsigned char *start, const unsigned char *p)
{
    (void)start;
    return (p[0] == ':' && p[1] == ' ') || p[0] == '!';
}

static void write_escaped(FILE *f, const char *s, int is_name)
{
    const unsigned char *start = (const unsigned char *)(s ? s : "(null)"), *p = start;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 1 && is_name && fake_separator(start, p)) {
            fprintf(f, "\\x%02x", *p);
        } else if (n == 1 && *p >= 0x20 && *p != 0x7f && *p != '\\') {
            fputc(*p, f);
        } else if (n == 1 && *p == '\\') {
            fputs("\\\\", f);
        } else if (n > 1 && dangerous_cp(code_point(p, n))) {
            fprintf(f, "\\u%04x", code_point(p, n));
        } else if (n > 1) {
            fwrite(p, 1, n, f);
        } else {
            fprintf(f, "\\x%02x", *p);
            n = 1;
        }
        p += n;
    }
}

void ab_console_write_safe(FILE *f, const char *s)
{
    write_escaped(f, s, 0);
}

void ab_console_write_name(FILE *f, const char *s)
{
    write_escaped(f, s, 1);
}

static const char *sev_color(const char *sev)
{
    if (!strcmp(sev, "critical") || !strcmp(sev, "high"))
        return C_RED;
    if (!strcmp(sev, "medium"))
        return C_YELLOW;
    return C_CYAN;
}

void ab_console_clear_progress(ab_console *c)
{
    if (c->progress_shown) {
        fputs("\r\033[K", c->err);
        fflush(c->err);
        c->progress_shown = 0;
    }
}

/* path!member!member: the levels below the file on disk. */
static void write_chain(FILE *f, const char *path, const char *const *loc, size_t n)
{
    ab_console_write_name(f, path);
    for (size_t i = 1; loc && i < n; i++) {
        fputc('!', f);
        ab_console_write_name(f, loc[i]);
    }
}

static void print_location(ab_console *c, const ab_object_info *o)
{
    write_chain(c->out, o->path, o->location, o->location_len);
    if (o->pid > 0 && o->process_name) {
        fputs(" (", c->out);
        ab_console_write_name(c->out, o->process_name);
        if (o->cmdline && *o->cmdline) {
            fputs(": ", c->out);
            ab_console_write_name(c->out, o->cmdline);
        }
        fputc(')', c->out);
    }
}

static void print_hashes(ab_console *c, const ab_object_info *o)
{
    if (o->md5)
        fprintf(c->out, " md5=%s sha1=%s sha256=%s", o->md5, o->sha1, o->sha256);
}

static void print_tags(ab_console *c, const ab_finding *f)
{
    for (size_t i = 0; i < f->tags_len; i++) {
        fputs(i ? "," : " [", c->out);
        ab_console_write_safe(c->out, f->tags[i]);
    }
    if (f->tags_len)
        fputc(']', c->out);
}

/* Matched bytes as yara -s shows them: printable ASCII as is, the rest (and '\\') escaped. */
static void write_bytes(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            fputc(p[i], f);
        else if (p[i] == '\\')
            fputs("\\\\", f);
        else
            fprintf(f, "\\x%02x", p[i]);
    }
}

/* One indented line per matched string under the finding (--strings). */
static void print_strings(ab_console *c, const ab_finding *f)
{
    for (size_t i = 0; i < f->strings_len; i++) {
        const ab_string_match *m = &f->strings[i];
        fprintf(c->out, "    0x%llx ", (unsigned long long)m->offset);
        ab_console_write_safe(c->out, m->identifier);
        fputs(": ", c->out);
        write_bytes(c->out, m->data, m->data_len);
        if (m->length > m->data_len)
            fprintf(c->out, "... (%u bytes)", m->length);
        if (m->region) {
            fputs(" in ", c->out);
            ab_console_write_name(c->out, m->region);
        }
        fputc('\n', c->out);
    }
    if (f->strings_omitted)
        fprintf(c->out, "    (%llu more matches not shown)\n",
                (unsigned long long)f->strings_omitted);
}

static void print_utc(FILE *f, double t)
{
    time_t secs = (time_t)t;
    struct tm tm;
    char buf[64];
    if (gmtime_r(&secs, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm))
        fputs(buf, f);
    else
        fputs("?", f);
}

/* Under an object's first finding: the file context THOR and Loki give (type, size, mode,
 * owner, times). Later findings of the same object follow it directly and do not repeat it. */
/* "    process: exe /usr/sbin/x (deleted from disk), parent 1, user root, started ..." */
static void print_process_context(ab_console *c, const ab_object_info *o)
{
    fputs("    process: exe ", c->out);
    ab_console_write_name(c->out, o->exe ? o->exe : "?");
    if (o->exe_deleted)
        fputs(" (DELETED or replaced on disk)", c->out);
    fprintf(c->out, ", parent %d, user ", (int)o->ppid);
    ab_console_write_name(c->out, o->user ? o->user : "?");
    if (o->start_time > 0) {
        fputs(", started ", c->out);
        print_utc(c->out, o->start_time);
    }
    fputc('\n', c->out);
}

static void print_file_context(ab_console *c, const ab_object_info *o)
{
    size_t n = o->path ? strlen(o->path) : 0;
    int proc = o->pid > 0 && (o->exe || o->user);
    if (!o->has_file && !proc)
        return;
    if (n < sizeof(c->last_object) && c->last_object_len == n + 1 &&
        !memcmp(c->last_object, o->path, n))
        return;
    c->last_object_len = 0;
    if (n < sizeof(c->last_object)) {
        memcpy(c->last_object, o->path, n);
        c->last_object_len = n + 1;
    }
    if (proc) {
        print_process_context(c, o);
        return;
    }
    fputs("    file: ", c->out);
    ab_console_write_safe(c->out, o->filetype ? o->filetype : "UNKNOWN");
    fprintf(c->out, ", %llu bytes, mode %04o, owner ", (unsigned long long)o->size,
            (unsigned)(o->mode & 07777));
    ab_console_write_name(c->out, o->owner ? o->owner : "?");
    fputc(':', c->out);
    ab_console_write_name(c->out, o->group ? o->group : "?");
    fputs(", modified ", c->out);
    print_utc(c->out, o->mtime);
    fputs(", changed ", c->out);
    print_utc(c->out, o->ctime);
    fputs(", accessed ", c->out);
    print_utc(c->out, o->atime);
    fputc('\n', c->out);
}

/* "    mail: "Subject" from X to Y, date, Message-ID <id>": once per message, under the first
 * finding of the message or of anything in it. */
static void print_mail_context(ab_console *c, const ab_object_info *o)
{
    const ab_mail_info *m = o->mail;
    if (!m)
        return;
    char key[sizeof(c->last_mail)];
    snprintf(key, sizeof(key), "%s\n%s\n%s", o->path ? o->path : "",
             m->message_id ? m->message_id : "", m->subject ? m->subject : "");
    if (!strcmp(key, c->last_mail))
        return;
    memcpy(c->last_mail, key, sizeof(key));
    fputs("    mail: \"", c->out);
    ab_console_write_safe(c->out, m->subject ? m->subject : "");
    fputs("\" from ", c->out);
    ab_console_write_safe(c->out, m->from ? m->from : "?");
    if (m->to) {
        fputs(" to ", c->out);
        ab_console_write_safe(c->out, m->to);
    }
    if (m->date_epoch > 0) {
        fputs(", ", c->out);
        print_utc(c->out, m->date_epoch);
    }
    if (m->message_id) {
        fputs(", Message-ID <", c->out);
        ab_console_write_safe(c->out, m->message_id);
        fputc('>', c->out);
    }
    fputc('\n', c->out);
}

/* " tcp 10.0.0.5:51234 -> 203.0.113.7:443 ESTABLISHED" ("[::1]:443" for IPv6). */
static void print_endpoint(ab_console *c, const char *addr, unsigned port)
{
    int v6 = addr && strchr(addr, ':');
    fputs(v6 ? "[" : "", c->out);
    ab_console_write_safe(c->out, addr);
    fprintf(c->out, "%s:%u", v6 ? "]" : "", port);
}

/* "    flow: tcp 10.0.0.5:49152 -> 198.51.100.7:80 http, flow 17 from 2020-05-14 09:02:00Z":
 * once per flow, under its first finding. */
static void print_flow_context(ab_console *c, const ab_object_info *o)
{
    const ab_flow_info *f = o->flow;
    if (!f)
        return;
    char key[sizeof(c->last_flow)];
    snprintf(key, sizeof(key), "%s\n%llu", o->path ? o->path : "", (unsigned long long)f->id);
    if (!strcmp(key, c->last_flow))
        return;
    memcpy(c->last_flow, key, sizeof(key));
    fputs("    flow: ", c->out);
    ab_console_write_safe(c->out, f->proto ? f->proto : "?");
    fputc(' ', c->out);
    print_endpoint(c, f->src_ip, f->src_port);
    fputs(" -> ", c->out);
    print_endpoint(c, f->dest_ip, f->dest_port);
    if (f->app_proto) {
        fputc(' ', c->out);
        ab_console_write_safe(c->out, f->app_proto);
    }
    fprintf(c->out, ", flow %llu from ", (unsigned long long)f->id);
    print_utc(c->out, f->start);
    fputc('\n', c->out);
}

static void print_connection(ab_console *c, const ab_connection *conn)
{
    fputc(' ', c->out);
    ab_console_write_safe(c->out, conn->protocol);
    fputc(' ', c->out);
    print_endpoint(c, conn->local_addr, conn->local_port);
    fputs(" -> ", c->out);
    print_endpoint(c, conn->remote_addr, conn->remote_port);
    fputc(' ', c->out);
    ab_console_write_safe(c->out, conn->state);
}

static void print_finding(ab_console *c, const ab_finding *f)
{
    char sev[16];
    size_t i = 0;
    for (; f->severity[i] && i < sizeof(sev) - 1; i++)
        sev[i] = (char)(f->severity[i] >= 'a' && f->severity[i] <= 'z' ? f->severity[i] - 32
                                                                       : f->severity[i]);
    sev[i] = '\0';
    if (c->color)
        fprintf(c->out, "%s[%s]%s ", sev_color(f->severity), sev, C_RESET);
    else
        fprintf(c->out, "[%s] ", sev);
    print_location(c, &f->obj);
    fputs(": ", c->out);
    if (c->color)
        fputs("\033[1m", c->out);
    ab_console_write_safe(c->out, f->rule);
    if (c->color)
        fputs(C_RESET, c->out);
    print_tags(c, f);
    fputs(" (", c->out);
    if (f->family) {
        ab_console_write_safe(c->out, f->family);
        fputs("; ", c->out);
    }
    fprintf(c->out, "%s", ab_matcher_name(f->matcher));
    if (f->rule_namespace && f->matcher == AB_MATCHER_YARA) {
        fputc(' ', c->out);
        ab_console_write_safe(c->out, f->rule_namespace);
    }
    fprintf(c->out, "; score %d; %s %d %s)", f->score, f->obj.pid > 0 ? "process" : "object",
            f->object_score, f->level ? f->level : "info");
    if (f->reason) {
        fputs(" ", c->out);
        ab_console_write_safe(c->out, f->reason);
    }
    if (f->conn)
        print_connection(c, f->conn);
    if (f->value && f->matcher == AB_MATCHER_OBSERVABLE) {
        fputs(": ", c->out);
        ab_console_write_safe(c->out, f->value);
    }
    if (f->description) {
        fputs(c->color ? C_DIM " - " : " - ", c->out);
        ab_console_write_safe(c->out, f->description);
        if (c->color)
            fputs(C_RESET, c->out);
    }
    print_hashes(c, &f->obj);
    fputc('\n', c->out);
    print_file_context(c, &f->obj);
    print_mail_context(c, &f->obj);
    print_flow_context(c, &f->obj);
    print_strings(c, f);
}

static void print_size(FILE *f, double b)
{
    static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4)
        b /= 1024, i++;
    fprintf(f, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

/* "1 object", "2 objects". */
static void print_count(FILE *f, uint64_t n, const char *one, const char *many)
{
    fprintf(f, "%llu %s", (unsigned long long)n, n == 1 ? one : many);
}

/* A live capture's counters: what was read, and every drop, whoever dropped. */
static void print_capture(ab_console *c, const ab_capture_summary *k)
{
    fputs("antibody: capture ", c->out);
    ab_console_write_safe(c->out, k->interface ? k->interface : "?");
    fprintf(c->out, ": %llu packets, ", (unsigned long long)k->packets);
    print_size(c->out, (double)k->bytes);
    if (k->kernel_ok)
        fprintf(c->out, "; kernel: %llu received, %llu dropped, %llu dropped by the interface",
                (unsigned long long)k->kernel_received, (unsigned long long)k->kernel_dropped,
                (unsigned long long)k->interface_dropped);
    else
        fputs("; kernel counters unknown", c->out);
    fprintf(c->out, "; dropped: worker behind %llu; workers restarted %llu\n",
            (unsigned long long)k->dropped_behind, (unsigned long long)k->worker_restarts);
}

/* ", N what": one count of what the network bounds or the capture left out, when not 0. */
static void print_lost(FILE *f, const char **sep, uint64_t n, const char *one, const char *many)
{
    if (!n)
        return;
    fputs(*sep, f);
    print_count(f, n, one, many);
    *sep = ", ";
}

/* A second line when captures were read: how much, and what was not seen and why. */
static void print_network(ab_console *c, const ab_net_summary *n)
{
    fputs("antibody: network: ", c->out);
    print_count(c->out, n->captures, "capture", "captures");
    fputs(", ", c->out);
    print_count(c->out, n->frames, "frame", "frames");
    fputs(" (", c->out);
    print_size(c->out, (double)n->bytes);
    fputs("), ", c->out);
    print_count(c->out, n->flows, "flow", "flows");
    fprintf(c->out, " (at most %llu open)", (unsigned long long)n->peak_flows);
    const char *sep = "; not seen whole: ";
    print_lost(c->out, &sep, n->flows_evicted, "flow evicted at --max-flows",
               "flows evicted at --max-flows");
    print_lost(c->out, &sep, n->flows_memcap, "flow ended early at --stream-memcap",
               "flows ended early at --stream-memcap");
    print_lost(c->out, &sep, n->depth_cut, "stream cut at --stream-depth",
               "streams cut at --stream-depth");
    print_lost(c->out, &sep, n->memcap_cut, "stream cut at --stream-memcap",
               "streams cut at --stream-memcap");
    if (n->gaps) {
        print_lost(c->out, &sep, n->gaps, "gap", "gaps");
        fputs(" (", c->out);
        print_size(c->out, (double)n->gap_bytes);
        fputs(" never seen)", c->out);
    }
    print_lost(c->out, &sep, n->ooo_dropped, "out-of-order segment dropped",
               "out-of-order segments dropped");
    print_lost(c->out, &sep, n->frag_dropped, "fragmented datagram dropped",
               "fragmented datagrams dropped");
    print_lost(c->out, &sep, n->parser_errors, "flow a parser gave up on",
               "flows a parser gave up on");
    print_lost(c->out, &sep, n->malformed, "malformed frame", "malformed frames");
    print_lost(c->out, &sep, n->truncated, "truncated frame", "truncated frames");
    fputc('\n', c->out);
}

static void print_summary(ab_console *c, const ab_summary *s)
{
    fputs("antibody: ", c->out);
    print_count(c->out, s->objects, "object", "objects");
    fputs(", ", c->out);
    print_size(c->out, (double)s->bytes);
    if (s->members) { /* what was found inside those objects */
        fputs(", ", c->out);
        print_count(c->out, s->members, "member", "members");
        fputs(" inside (", c->out);
        print_size(c->out, (double)s->member_bytes);
        fputc(')', c->out);
    }
    fprintf(c->out, ", %llu skipped", (unsigned long long)s->skipped_total);
    if (s->skipped_total) {
        const char *sep = " (";
        for (int r = 0; r < AB_SKIP_REASON_COUNT; r++)
            if (s->skipped[r]) {
                fprintf(c->out, "%s%s %llu", sep, ab_skip_reason_name((ab_skip_reason)r),
                        (unsigned long long)s->skipped[r]);
                sep = ", ";
            }
        fputc(')', c->out);
    }
    fputs(", ", c->out);
    print_count(c->out, s->errors, "error", "errors");
    fputs(", ", c->out);
    print_count(c->out, s->findings, "finding", "findings");
    if (s->suppressed)
        fprintf(c->out, " (%llu under --min-score not shown)", (unsigned long long)s->suppressed);
    fprintf(c->out, ", %.2f s%s%s\n", s->seconds,
            s->interrupted ? " (INTERRUPTED: incomplete)" : "",
            s->skipped_total && !c->list_skipped ? "; --list-skipped lists what was skipped" : "");
    if (s->net)
        print_network(c, s->net);
    if (s->capture)
        print_capture(c, s->capture);
}

static void print_error(ab_console *c, const ab_error *e)
{
    if (c->out)
        fflush(c->out); /* findings before the error, as they happened */
    fputs("antibody: error: ", c->err);
    if (e->path) {
        write_chain(c->err, e->path, e->location, e->location_len);
        fputs(": ", c->err);
    }
    ab_console_write_safe(c->err, e->message);
    fputc('\n', c->err);
}

static void print_object(ab_console *c, const ab_object_info *o)
{
    fputs(o->pid > 0 ? "[PROC] " : o->location_len > 1 ? "[MEMBER] " : "[FILE] ", c->out);
    print_location(c, o);
    fprintf(c->out, " %llu", (unsigned long long)o->size);
    print_hashes(c, o);
    fputc('\n', c->out);
}

static void print_skip(ab_console *c, const ab_skip *s)
{
    fputs("[SKIP] ", c->out);
    write_chain(c->out, s->path, s->location, s->location_len);
    fprintf(c->out, " (%s", ab_skip_reason_name(s->reason));
    if (s->size)
        fprintf(c->out, ", %llu bytes", (unsigned long long)s->size);
    fputs(")\n", c->out);
}

int ab_console_event(void *ctx, const ab_event *ev)
{
    ab_console *c = ctx;
    ab_console_clear_progress(c);
    if (ev->kind == AB_EVENT_ERROR) {
        print_error(c, &ev->u.error);
        return 0;
    }
    if (!c->out) /* errors only: another reporter has standard output */
        return 0;
    switch (ev->kind) {
    case AB_EVENT_FINDING:
        print_finding(c, &ev->u.finding);
        break;
    case AB_EVENT_SKIP:
        if (c->list_skipped)
            print_skip(c, &ev->u.skip);
        break;
    case AB_EVENT_OBJECT:
        if (c->list_objects)
            print_object(c, &ev->u.object);
        break;
    case AB_EVENT_SUMMARY:
        if (!c->quiet)
            print_summary(c, &ev->u.summary);
        break;
    default:
        break;
    }
    return 0;
}

void ab_console_progress(void *ctx, const ab_summary *s)
{
    ab_console *c = ctx;
    if (!c->progress)
        return;
    fputs("\r\033[K", c->err);
    print_count(c->err, s->objects, "object", "objects");
    fputs(", ", c->err);
    print_size(c->err, (double)s->bytes);
    fputs(", ", c->err);
    print_size(c->err, s->seconds > 0 ? (double)s->bytes / s->seconds : 0);
    fputs("/s, ", c->err);
    print_count(c->err, s->findings, "finding", "findings");
    fputs(", ", c->err);
    print_count(c->err, s->errors, "error", "errors");
    fprintf(c->err, ", %.0f s", s->seconds);
    if (s->current) { /* its last 40 bytes: the line must fit a terminal */
        size_t n = strlen(s->current);
        const char *tail = s->current + (n > 40 ? n - 40 : 0);
        while (n > 40 && (*tail & 0xC0) == 0x80) /* not in the middle of a UTF-8 sequence */
            tail++;
        fputs(n > 40 ? ": ..." : ": ", c->err);
        ab_console_write_safe(c->err, tail); /* the levels are joined with "!" already */
    }
    fflush(c->err);
    c->progress_shown = 1;
}
