/* main.c: the antibody command line, a thin client of libantibody: argument parsing, reporters,
 * exit status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "antibody/antibody.h"
#include "core/buf.h"
#include "report/console.h"
#include "report/json.h"

#define MAX_LIST     4096 /* --rules, --ioc, --pid, --pack entries */
#define DEFAULT_PACK "apt29-2020"

static const char usage_text[] =
    "Usage: antibody scan [OPTIONS] PATH...\n"
    "       antibody scan [OPTIONS] --pid PID... | --processes\n"
    "       antibody packs\n"
    "       antibody --help | --version\n"
    "\n"
    "Sweep files (or process memory) with YARA rules, hash IOCs and file-name IOCs in one pass.\n"
    "The built-in pack apt29-2020 (WellMess, WellMail, SoreFang) is on by default.\n"
    "\n"
    "Content:\n"
    "  -r, --rules PATH       YARA rules: .yar/.yara file, folder of them, or yarac output\n"
    "                         (repeatable; Loki/THOR rule sets such as signature-base load as-is)\n"
    "  -i, --ioc PATH         IOC file or folder: docs/ioc-format.md or Loki/THOR lists\n"
    "                         (repeatable)\n"
    "      --no-default-pack  do not load the built-in apt29-2020 pack\n"
    "      --pack NAME        load another built-in pack (repeatable; see: antibody packs)\n"
    "Scanning:\n"
    "  -j, --jobs N           worker processes (default: online cores)\n"
    "      --hash             MD5/SHA-1/SHA-256 of every file (on anyway with hash IOCs)\n"
    "      --max-filesize SZ  skip larger files (default 256M; suffixes K, M, G; 0: no limit)\n"
    "      --timeout SECS     YARA time limit per object (default 60); a worker still busy\n"
    "                         10 s later is killed and the object reported as an error\n"
    "      --max-depth N      directory depth limit (default 64)\n"
    "      --exclude GLOB     skip matching files/folders (repeatable; without '/': base name;\n"
    "                         '*' stays within a folder, '**' crosses folders)\n"
    "      --exclude-from FILE  --exclude for each line of FILE ('#' comments)\n"
    "      --exclude-regex RE skip full paths matching the extended regex RE (repeatable;\n"
    "                         case-insensitive, as Loki's excludes.cfg)\n"
    "      --follow-symlinks  follow symbolic links (loops are detected)\n"
    "      --one-file-system  stay on the file system of each PATH\n"
    "      --scan-pseudo-fs   do not skip /proc, /sys and /dev\n"
    "      --scan-remote-fs   do not skip network and FUSE mounts met in the walk\n"
    "      --pid PID          scan the memory of process PID (repeatable)\n"
    "      --processes        scan the memory of every process we may read\n"
    "Output:\n"
    "      --json             JSON Lines on stdout (schema: docs/findings.md)\n"
    "  -o, --output FILE      write findings to FILE instead of stdout (never inside a PATH)\n"
    "      --list             report every scanned object (with hashes when computed)\n"
    "      --list-skipped     report every skipped file with its reason\n"
    "      --no-progress      no progress line on stderr\n"
    "      --color WHEN       auto, always or never (default auto)\n"
    "  -q, --quiet            no summary or load lines on the console (JSON keeps its summary)\n"
    "      --strict           malformed IOC lines, rule files and warnings are fatal;\n"
    "                         any error makes the exit status 2 even with findings\n"
    "\n"
    "Exit status: 0 nothing found, 1 findings, 2 errors occurred (with findings and errors: 1,\n"
    "unless --strict). Errors are one line each on stderr (and error events with --json).\n"
    "Ctrl-C stops the sweep cleanly (summary marked interrupted); a second Ctrl-C kills.\n"
    "See antibody(1).\n";

enum {
    OPT_NO_DEFAULT_PACK = 256,
    OPT_PACK,
    OPT_HASH,
    OPT_MAX_FILESIZE,
    OPT_TIMEOUT,
    OPT_MAX_DEPTH,
    OPT_EXCLUDE,
    OPT_EXCLUDE_FROM,
    OPT_EXCLUDE_REGEX,
    OPT_FOLLOW,
    OPT_ONE_FS,
    OPT_PSEUDO,
    OPT_REMOTE,
    OPT_PID,
    OPT_PROCESSES,
    OPT_JSON,
    OPT_LIST,
    OPT_LIST_SKIPPED,
    OPT_NO_PROGRESS,
    OPT_COLOR,
    OPT_STRICT,
};

static const struct option long_opts[] = {
    {"rules", required_argument, NULL, 'r'},
    {"ioc", required_argument, NULL, 'i'},
    {"no-default-pack", no_argument, NULL, OPT_NO_DEFAULT_PACK},
    {"pack", required_argument, NULL, OPT_PACK},
    {"jobs", required_argument, NULL, 'j'},
    {"hash", no_argument, NULL, OPT_HASH},
    {"max-filesize", required_argument, NULL, OPT_MAX_FILESIZE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"exclude-from", required_argument, NULL, OPT_EXCLUDE_FROM},
    {"exclude-regex", required_argument, NULL, OPT_EXCLUDE_REGEX},
    {"follow-symlinks", no_argument, NULL, OPT_FOLLOW},
    {"one-file-system", no_argument, NULL, OPT_ONE_FS},
    {"scan-pseudo-fs", no_argument, NULL, OPT_PSEUDO},
    {"scan-remote-fs", no_argument, NULL, OPT_REMOTE},
    {"pid", required_argument, NULL, OPT_PID},
    {"processes", no_argument, NULL, OPT_PROCESSES},
    {"json", no_argument, NULL, OPT_JSON},
    {"output", required_argument, NULL, 'o'},
    {"list", no_argument, NULL, OPT_LIST},
    {"list-skipped", no_argument, NULL, OPT_LIST_SKIPPED},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"color", required_argument, NULL, OPT_COLOR},
    {"colour", required_argument, NULL, OPT_COLOR},
    {"quiet", no_argument, NULL, 'q'},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct cli {
    const char *rules[MAX_LIST], *iocs[MAX_LIST], *packs[MAX_LIST];
    size_t n_rules, n_iocs, n_packs;
    pid_t pids[MAX_LIST];
    size_t n_pids;
    int processes, default_pack, json, list, list_skipped, progress, quiet, strict, one_fs;
    int color; /* -1 auto */
    const char *output;
    /* run state */
    FILE *out;
    ab_console con;
    ab_buf line;
    unsigned long long errors, findings; /* load-time errors + sweep errors; findings */
    unsigned long long load_errors;      /* rule/IOC errors while loading */
    unsigned long long load_warnings;    /* content left out that could not work as written */
    int interrupted;                     /* the summary said the scan was cancelled */
} cli;

/* The scanner being run, for the signal handler: a first SIGINT/SIGTERM stops the sweep cleanly
 * (summary included), a second one kills (SA_RESETHAND). */
static ab_scanner *volatile running_scanner;

static void on_stop_signal(int sig)
{
    (void)sig;
    ab_scanner_cancel(running_scanner);
}

static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "antibody: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'antibody --help'.\n");
    return 2;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    else if (*end)
        return -1;
    if (shift && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
        return -1;
    if (errno || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int push(const char **list, size_t *n, const char *v)
{
    if (*n >= MAX_LIST)
        return -1;
    list[(*n)++] = v;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Load-time diagnostics. Errors (rule compile errors, malformed IOC lines) count in the exit
 * status and the summary and are error events in JSON; warnings are one line on stderr only.
 * `where` is "file:line" or "file". */
static void diag(cli *c, int kind, ab_diag_level level, const char *where, const char *message)
{
    ab_console_clear_progress(&c->con);
    if (level == AB_DIAG_WARNING) {
        /* Loaded content that cannot work as written: said, but not an error of the sweep. */
        fputs("antibody: warning: ", stderr);
        ab_console_write_safe(stderr, where);
        fputs(": ", stderr);
        ab_console_write_safe(stderr, message);
        fputc('\n', stderr);
        c->load_warnings++;
        return;
    }
    c->errors++;
    c->load_errors++;
    fputs("antibody: error: ", stderr);
    ab_console_write_safe(stderr, where);
    fputs(": ", stderr);
    ab_console_write_safe(stderr, message);
    fputc('\n', stderr);
    if (!c->json || !c->out)
        return;
    char file[4096], msg[8192];
    snprintf(file, sizeof(file), "%s", where);
    const char *line = NULL;
    char *colon = strrchr(file, ':');
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        *colon = '\0';
        line = colon + 1;
    }
    if (line)
        snprintf(msg, sizeof(msg), "line %s: %s", line, message);
    else
        snprintf(msg, sizeof(msg), "%s", message);
    size_t fl = strlen(file);
    int is_rules =
        kind == AB_ERR_RULES || (kind == 0 && ((fl > 4 && !strcasecmp(file + fl - 4, ".yar")) ||
                                               (fl > 5 && !strcasecmp(file + fl - 5, ".yara"))));
    const char *loc[1] = {file};
    ab_event ev = {.kind = AB_EVENT_ERROR, .time = now()};
    ev.u.error = (ab_error){file, loc, 1, is_rules ? AB_ERR_RULES : AB_ERR_PARSE, msg};
    ab_buf_reset(&c->line);
    if (ab_jsonl_event(&c->line, &ev) == AB_OK)
        fwrite(c->line.data, 1, c->line.len, c->out);
}

/* The status of an error event says which loader failed: rules (AB_ERR_RULES) or IOC files
 * (AB_ERR_PARSE). Packs and the compile step hold both: there the file name decides. */
static void on_diag_rules(void *ctx, ab_diag_level level, const char *where, const char *message)
{
    diag(ctx, AB_ERR_RULES, level, where, message);
}

static void on_diag_iocs(void *ctx, ab_diag_level level, const char *where, const char *message)
{
    diag(ctx, AB_ERR_PARSE, level, where, message);
}

static void on_diag(void *ctx, ab_diag_level level, const char *where, const char *message)
{
    diag(ctx, 0, level, where, message);
}

/* The library's summary counts the sweep; load-time errors are the CLI's to add. */
static const ab_event *with_load_errors(cli *c, const ab_event *ev, ab_event *copy)
{
    if (ev->kind == AB_EVENT_SUMMARY && ev->u.summary.interrupted)
        c->interrupted = 1;
    if (ev->kind != AB_EVENT_SUMMARY || !c->load_errors)
        return ev;
    *copy = *ev;
    copy->u.summary.errors += c->load_errors;
    return copy;
}

static int sink_json(void *ctx, const ab_event *ev)
{
    cli *c = ctx;
    ab_event copy;
    ev = with_load_errors(c, ev, &copy);
    if (ev->kind == AB_EVENT_ERROR) {
        c->errors++;
        ab_console_event(&c->con, ev); /* the one-line error on stderr as well */
    } else if (ev->kind == AB_EVENT_FINDING) {
        c->findings++;
    } else if (ev->kind == AB_EVENT_SKIP && !c->list_skipped) {
        return 0;
    }
    ab_buf_reset(&c->line);
    if (ab_jsonl_event(&c->line, ev) == AB_OK)
        fwrite(c->line.data, 1, c->line.len, c->out);
    if (ev->kind == AB_EVENT_FINDING || ev->kind == AB_EVENT_SUMMARY)
        fflush(c->out);
    return 0;
}

static int sink_console(void *ctx, const ab_event *ev)
{
    cli *c = ctx;
    ab_event copy;
    ev = with_load_errors(c, ev, &copy);
    if (ev->kind == AB_EVENT_ERROR)
        c->errors++;
    else if (ev->kind == AB_EVENT_FINDING)
        c->findings++;
    return ab_console_event(&c->con, ev);
}

/* "Never write to a scanned path": refuse an --output the sweep would walk into, i.e. inside a
 * PATH, unless --one-file-system keeps the walk off the output's file system (a mounted evidence
 * drive while sweeping /). */
static int output_inside_scan(const char *output, char **paths, int n, int one_fs)
{
    char out_dir[PATH_MAX], root[PATH_MAX], tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", output);
    char *slash = strrchr(tmp, '/');
    if (slash == tmp)
        tmp[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(tmp, sizeof(tmp), ".");
    struct stat out_st, root_st;
    if (!realpath(tmp, out_dir) || stat(out_dir, &out_st) != 0)
        return 0; /* the open will fail with a clear error */
    for (int i = 0; i < n; i++) {
        if (!realpath(paths[i], root) || stat(root, &root_st) != 0)
            continue;
        size_t rl = strlen(root);
        int under = strcmp(root, "/") == 0 || (strncmp(out_dir, root, rl) == 0 &&
                                               (out_dir[rl] == '\0' || out_dir[rl] == '/'));
        if (under && !(one_fs && out_st.st_dev != root_st.st_dev))
            return 1;
    }
    return 0;
}

static int cmd_packs(void)
{
    ab_status st = ab_init();
    if (st != AB_OK) {
        fprintf(stderr, "antibody: error: cannot initialise libyara: %s\n", ab_strerror(st));
        return 2;
    }
    int rc = 0;
    printf("%-16s %6s %6s  %s\n", "PACK", "RULES", "IOCS", "DESCRIPTION");
    for (size_t i = 0; i < ab_pack_count(); i++) {
        ab_pack_info info;
        st = ab_pack_info_get(i, &info);
        if (st != AB_OK) {
            fprintf(stderr, "antibody: error: pack %zu: %s\n", i, ab_strerror(st));
            rc = 2;
            continue;
        }
        printf("%-16s %6zu %6zu  %s\n", info.name, info.rules, info.iocs, info.description);
    }
    ab_finish();
    return rc;
}

static int pack_named(const cli *c, const char *name)
{
    for (size_t i = 0; i < c->n_packs; i++)
        if (!strcmp(c->packs[i], name))
            return 1;
    return 0;
}

static int parse_scan_args(cli *c, int argc, char **argv)
{
    int opt;
    unsigned long long v = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "r:i:j:o:qhV", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (push(c->rules, &c->n_rules, optarg))
                return usage_error("too many --rules (max %s)", "4096");
            break;
        case 'i':
            if (push(c->iocs, &c->n_iocs, optarg))
                return usage_error("too many --ioc (max %s)", "4096");
            break;
        case OPT_PACK:
            if (pack_named(c, optarg))
                break; /* loading a pack twice would only clash with itself */
            if (push(c->packs, &c->n_packs, optarg))
                return usage_error("too many --pack (max %s)", "4096");
            break;
        case OPT_NO_DEFAULT_PACK:
            c->default_pack = 0;
            break;
        case 'j':
            if (parse_uint(optarg, 256, &v) || v == 0)
                return usage_error("--jobs: expected 1..256, got '%s'", optarg);
            break; /* scanner settings are applied in apply_settings */
        case OPT_HASH:
        case OPT_MAX_FILESIZE:
        case OPT_TIMEOUT:
        case OPT_MAX_DEPTH:
        case OPT_EXCLUDE:
        case OPT_EXCLUDE_FROM:
        case OPT_EXCLUDE_REGEX:
        case OPT_FOLLOW:
        case OPT_PSEUDO:
        case OPT_REMOTE:
            break;
        case OPT_ONE_FS:
            c->one_fs = 1; /* also decides whether --output is outside the sweep */
            break;
        case OPT_PID:
            if (parse_uint(optarg, INT_MAX, &v) || v == 0)
                return usage_error("--pid: expected a process id, got '%s'", optarg);
            if (c->n_pids >= MAX_LIST)
                return usage_error("too many --pid (max %s)", "4096");
            c->pids[c->n_pids++] = (pid_t)v;
            break;
        case OPT_PROCESSES:
            c->processes = 1;
            break;
        case OPT_JSON:
            c->json = 1;
            break;
        case 'o':
            c->output = optarg;
            break;
        case OPT_LIST:
            c->list = 1;
            break;
        case OPT_LIST_SKIPPED:
            c->list_skipped = 1;
            break;
        case OPT_NO_PROGRESS:
            c->progress = 0;
            break;
        case OPT_COLOR:
            if (!strcmp(optarg, "auto"))
                c->color = -1;
            else if (!strcmp(optarg, "always"))
                c->color = 1;
            else if (!strcmp(optarg, "never"))
                c->color = 0;
            else
                return usage_error("--color: expected auto, always or never, got '%s'", optarg);
            break;
        case 'q':
            c->quiet = 1;
            break;
        case OPT_STRICT:
            c->strict = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        case 'V':
            printf("antibody %s\n", AB_VERSION);
            return -1;
        default: /* getopt said what is wrong */
            fputs("Try 'antibody --help'.\n", stderr);
            return 2;
        }
    }
    return 0;
}

/* Second pass over the options for the scanner settings (the scanner exists only now). */
static int apply_settings(ab_scanner *sc, int argc, char **argv)
{
    int opt;
    unsigned long long v = 0;
    uint64_t size;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "r:i:j:o:qhV", long_opts, NULL)) != -1) {
        ab_status st = AB_OK;
        switch (opt) {
        case 'j':
            parse_uint(optarg, 256, &v);
            st = ab_scanner_set_workers(sc, (unsigned)v);
            break;
        case OPT_HASH:
            st = ab_scanner_set_hash(sc, 1);
            break;
        case OPT_MAX_FILESIZE:
            if (parse_size(optarg, &size))
                return usage_error("--max-filesize: expected a size like 256M, got '%s'", optarg);
            st = ab_scanner_set_max_filesize(sc, size);
            break;
        case OPT_TIMEOUT:
            if (parse_uint(optarg, 86400, &v) || v == 0)
                return usage_error("--timeout: expected 1..86400 seconds, got '%s'", optarg);
            st = ab_scanner_set_timeout(sc, (unsigned)v);
            break;
        case OPT_MAX_DEPTH:
            if (parse_uint(optarg, 4096, &v))
                return usage_error("--max-depth: expected 0..4096, got '%s'", optarg);
            st = ab_scanner_set_max_depth(sc, (unsigned)v);
            break;
        case OPT_EXCLUDE:
            st = ab_scanner_add_exclude(sc, optarg);
            break;
        case OPT_EXCLUDE_FROM:
            st = ab_scanner_add_exclude_file(sc, optarg);
            break;
        case OPT_EXCLUDE_REGEX:
            st = ab_scanner_add_exclude_regex(sc, optarg);
            break;
        case OPT_FOLLOW:
            st = ab_scanner_set_follow_symlinks(sc, 1);
            break;
        case OPT_ONE_FS:
            st = ab_scanner_set_one_file_system(sc, 1);
            break;
        case OPT_PSEUDO:
            st = ab_scanner_set_scan_pseudo_fs(sc, 1);
            break;
        case OPT_REMOTE:
            st = ab_scanner_set_scan_remote_fs(sc, 1);
            break;
        case OPT_LIST:
            st = ab_scanner_set_list_objects(sc, 1);
            break;
        case OPT_STRICT:
            st = ab_scanner_set_strict(sc, 1);
            break;
        default:
            break;
        }
        if (st != AB_OK) {
            const char *why = ab_scanner_last_error(sc); /* names the pattern or file */
            if (why[0])
                fprintf(stderr, "antibody: error: %s\n", why);
            else
                fprintf(stderr, "antibody: error: %s: %s\n", argv[optind - 1], ab_strerror(st));
            return 2;
        }
    }
    return 0;
}

static int load_content(cli *c, ab_scanner *sc)
{
    ab_status st;
    if (c->default_pack && !pack_named(c, DEFAULT_PACK) &&
        (st = ab_scanner_add_pack(sc, DEFAULT_PACK, on_diag, c)) != AB_OK)
        goto fail;
    for (size_t i = 0; i < c->n_packs; i++)
        if ((st = ab_scanner_add_pack(sc, c->packs[i], on_diag, c)) != AB_OK)
            goto fail;
    for (size_t i = 0; i < c->n_rules; i++)
        if ((st = ab_scanner_add_rules(sc, c->rules[i], on_diag_rules, c)) != AB_OK)
            goto fail;
    for (size_t i = 0; i < c->n_iocs; i++)
        if ((st = ab_scanner_add_iocs(sc, c->iocs[i], on_diag_iocs, c)) != AB_OK)
            goto fail;
    unsigned long long before = c->errors;
    if ((st = ab_scanner_compile(sc, on_diag, c)) != AB_OK)
        goto fail;
    if (!ab_scanner_rule_count(sc) && !ab_scanner_ioc_count(sc) && !c->list) {
        /* A sweep with nothing to match would report every tree clean. --list without content is
         * an inventory (with --hash, of hashes) and stays allowed. */
        fprintf(stderr, "antibody: error: no rules or IOCs loaded: nothing to look for (give "
                        "--rules/--ioc, drop --no-default-pack, or add --list for an inventory)\n");
        return 2;
    }
    if (c->strict && (c->errors > before || c->load_warnings)) {
        fprintf(stderr, "antibody: error: rule or IOC errors or warnings with --strict: not "
                        "scanning\n");
        return 2;
    }
    return 0;
fail:
    fprintf(stderr, "antibody: error: %s\n",
            ab_scanner_last_error(sc)[0] ? ab_scanner_last_error(sc) : ab_strerror(st));
    return 2;
}

static int open_output(cli *c, char **paths, int n)
{
    if (!c->output) {
        c->out = stdout;
        return 0;
    }
    if (output_inside_scan(c->output, paths, n, c->one_fs)) {
        fprintf(stderr,
                "antibody: error: refusing to write --output inside a scanned path: %s (write it "
                "elsewhere, or to another file system with --one-file-system)\n",
                c->output);
        return 2;
    }
    int fd = open(c->output, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0 || !(c->out = fdopen(fd, "w"))) {
        fprintf(stderr, "antibody: error: %s: %s\n", c->output, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 2;
    }
    return 0;
}

/* An exclude that matched nothing is most often a typo, and a typo means scanning what was meant
 * to be left out: say so (a warning, after the sweep). */
static void warn_unmatched_excludes(const ab_scanner *sc)
{
    ab_exclude_info x;
    for (size_t i = 0; i < ab_scanner_exclude_count(sc); i++)
        if (ab_scanner_exclude_info(sc, i, &x) == AB_OK && !x.matched) {
            fprintf(stderr, "antibody: warning: %s ", x.is_regex ? "--exclude-regex" : "--exclude");
            ab_console_write_safe(stderr, x.pattern);
            fputs(" matched nothing\n", stderr);
        }
}

static int exit_status(const cli *c)
{
    if (c->errors && (c->strict || !c->findings))
        return 2;
    return c->findings ? 1 : 0;
}

static int cmd_scan(int argc, char **argv)
{
    cli *c = calloc(1, sizeof(*c));
    ab_scanner *sc = NULL;
    int rc = 2, inited = 0;
    if (!c) {
        fprintf(stderr, "antibody: error: out of memory\n");
        return 2;
    }
    c->default_pack = 1;
    c->progress = 1;
    c->color = -1;
    ab_buf_init(&c->line, 0);
    argv[0] = (char *)"antibody scan"; /* getopt names it in its messages */
    rc = parse_scan_args(c, argc, argv);
    if (rc != 0) {
        rc = rc < 0 ? 0 : rc;
        goto out;
    }
    char **paths = argv + optind;
    int n_paths = argc - optind;
    if (!n_paths && !c->n_pids && !c->processes) {
        rc = usage_error("%s", "nothing to scan: give a PATH, --pid or --processes");
        goto out;
    }
    if (n_paths && (c->n_pids || c->processes)) {
        rc = usage_error("%s", "give either PATHs or --pid/--processes, not both");
        goto out;
    }
    rc = 2;
    if (ab_init() != AB_OK) {
        fprintf(stderr, "antibody: error: cannot initialise libyara\n");
        goto out;
    }
    inited = 1;
    if (ab_scanner_new(&sc) != AB_OK || open_output(c, paths, n_paths) != 0)
        goto out;
    if (apply_settings(sc, argc, argv) != 0 || load_content(c, sc) != 0)
        goto out;
    c->con.out = c->out;
    c->con.err = stderr;
    c->con.color = c->color < 0 ? (!c->output && isatty(STDOUT_FILENO)) : c->color;
    c->con.progress = c->progress && isatty(STDERR_FILENO);
    c->con.list_objects = c->list;
    c->con.list_skipped = c->list_skipped;
    c->con.quiet = c->quiet;
    if (c->con.progress)
        ab_scanner_set_progress(sc, ab_console_progress, &c->con);
    if (!c->quiet && !c->json) {
        size_t unmatched = ab_scanner_ioc_count_unmatched(sc);
        fprintf(stderr, "antibody: %zu YARA rules and %zu IOCs loaded", ab_scanner_rule_count(sc),
                ab_scanner_ioc_count(sc));
        if (unmatched) /* say it, or a loaded C2 list looks like a checked one */
            fprintf(stderr, " (not matched by this scan: %zu network/mail IOC%s)", unmatched,
                    unmatched == 1 ? "" : "s");
        fputc('\n', stderr);
    }
    ab_sink sink = {c->json ? sink_json : sink_console, c};
    running_scanner = sc;
    install_stop_handlers();
    ab_status st = n_paths ? ab_scan_paths(sc, (const char *const *)paths, (size_t)n_paths, &sink)
                           : ab_scan_pids(sc, c->pids, c->n_pids, c->processes, &sink);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    running_scanner = NULL;
    ab_console_clear_progress(&c->con);
    if (c->interrupted) { /* the library's summary counted it too; this is the exit status */
        fprintf(stderr, "antibody: error: interrupted: the sweep is incomplete\n");
        c->errors++;
    } else if (n_paths && st == AB_OK) {
        warn_unmatched_excludes(sc);
    }
    if (st != AB_OK) {
        fprintf(stderr, "antibody: error: %s\n",
                ab_scanner_last_error(sc)[0] ? ab_scanner_last_error(sc) : ab_strerror(st));
        c->errors++;
    }
    rc = exit_status(c);
out:
    if (c->out && c->out != stdout && fclose(c->out) != 0) {
        fprintf(stderr, "antibody: error: %s: %s\n", c->output, strerror(errno));
        rc = 2;
    }
    ab_scanner_free(sc);
    if (inited)
        ab_finish();
    ab_buf_release(&c->line);
    free(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("antibody %s\n", AB_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "packs"))
        return cmd_packs();
    if (!strcmp(cmd, "scan"))
        return cmd_scan(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", cmd);
}
