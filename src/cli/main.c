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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "antibody/antibody.h"
#include "core/buf.h"
#include "report/console.h"
#include "report/json.h"
#include "report/mailindex.h"
#include "report/output.h"

#define MAX_LIST     4096 /* --rules, --ioc, --pid, --pack entries */
#define DEFAULT_PACK "apt29-2020"

static const char usage_text[] =
    "Usage: antibody scan [OPTIONS] [--processes] [--connections] PATH...\n"
    "       antibody scan [OPTIONS] --pid PID... | --processes | --connections\n"
    "       antibody pcap [OPTIONS] [--flows] CAPTURE...   ('-': one from standard input)\n"
    "       antibody sniff -i IFACE [--bpf FILTER] [SNIFF OPTIONS] [OPTIONS]\n"
    "       antibody packs [--json] [NAME...]\n"
    "       antibody --help | --version\n"
    "\n"
    "Sweep files (or process memory) with YARA rules, hash IOCs and file-name IOCs in one pass.\n"
    "The built-in pack apt29-2020 (WellMess, WellMail, SoreFang) is on by default.\n"
    "\n"
    "Content:\n"
    "  -r, --rules PATH       YARA rules: .yar/.yara file, yarac output, or a folder of them\n"
    "                         with its subfolders (repeatable; other files in a folder are\n"
    "                         skipped with a warning; Loki/THOR rule sets such as\n"
    "                         signature-base load as-is)\n"
    "      --rules-no-recurse a --rules folder's subfolders are not searched\n"
    "  -i, --ioc PATH         IOC file or folder: docs/ioc-format.md or Loki/THOR lists\n"
    "                         (repeatable)\n"
    "      --no-default-pack  do not load the built-in apt29-2020 pack\n"
    "      --pack NAME        load another built-in pack (repeatable; see: antibody packs)\n"
    "      --no-lookalike     do not report names imitating system binaries (svch0st.exe,\n"
    "                         lsas.exe, kworkerd; built-in list plus protected-name IOCs)\n"
    "Scanning:\n"
    "  -j, --jobs N           worker processes (default: online cores)\n"
    "      --hash             MD5/SHA-1/SHA-256 of every file (on anyway with hash IOCs)\n"
    "      --max-filesize SZ  skip larger files (default 256M; suffixes K, M, G; 0: no limit)\n"
    "      --timeout SECS     YARA time limit per object (default 60); a worker still busy\n"
    "                         10 s later is killed and the object reported as an error\n"
    "      --max-depth N      directory depth limit (default 64)\n"
    "Looking inside (archives, compressed streams, documents; in memory, never extracted):\n"
    "      --no-unpack        scan files as they are, without looking inside\n"
    "      --max-unpack-depth N  containers in containers (1..15, default 8)\n"
    "      --max-member-size SZ  larger members are skipped (default 100M)\n"
    "      --max-unpacked SZ  bytes unpacked from one file in all (default 400M)\n"
    "      --max-ratio N      unpacked/packed ratio of a member past 1 MiB (default 250;\n"
    "                         0: none)\n"
    "      --max-members N    members of one file at every level (default 10000)\n"
    "                         A limit hit is a finding of matcher 'limit' (a bomb is\n"
    "                         suspicious); what it leaves out is skipped and counted\n"
    "      --password PW      try PW on encrypted members (repeatable)\n"
    "      --passwords FILE   one password per line\n"
    "Mail (messages, mbox, Maildir, PST/OST, TNEF; HTML; docs/mail-signals.md):\n"
    "      --protect-domain D report sender and link domains imitating D (homoglyphs, IDN,\n"
    "                         edits, added words; repeatable), e.g. our-university.ac.uk\n"
    "      --protect-domains FILE  --protect-domain for each line of FILE ('#' comments)\n"
    "      --mail-index       one JSON line per message (event \"message\": ids, addresses,\n"
    "                         subject, date, parts with names and SHA-256, URLs), findings\n"
    "                         or not; implies --json (docs/findings.md)\n"
    "Network (pcap and pcapng captures, read by content; also met in a scan):\n"
    "      --flows            one JSON line per flow and per transaction (event \"flow\":\n"
    "                         conn, HTTP, DNS, TLS, SMTP; docs/findings.md); implies --json\n"
    "      --stream-depth SZ  bytes of each flow direction parsed and kept for stream rules,\n"
    "                         also the largest HTTP body or mail kept (default 1M; 1..1G)\n"
    "      --max-flows N      flows open at once; past it the least recently active one is\n"
    "                         ended early (default 65536; 1..16777216)\n"
    "      --stream-memcap SZ memory held over all open flows: stream bytes kept and\n"
    "                         payloads being assembled (HTTP bodies, mails, TLS handshake\n"
    "                         messages); past it the least recently active flows are\n"
    "                         ended early (default 256M; 1M..64G;\n"
    "                         out-of-order segments are held up to a quarter of it besides)\n"
    "                         What a bound leaves out is counted in the summary (network)\n"
    "Live capture (antibody sniff; there -i is the interface, --ioc the IOCs):\n"
    "  -i, --interface IFACE  capture on IFACE (lo, eth0, any) through libpcap; names,\n"
    "                         URLs, fingerprints and addresses are matched as their packet\n"
    "                         comes, a flow's streams as it ends (idle ones by the clock)\n"
    "      --bpf FILTER       only packets FILTER passes (pcap-filter(7), as tcpdump)\n"
    "      --user USER        as root, become USER once the capture is open (default nobody)\n"
    "      --no-promisc       do not put the interface in promiscuous mode\n"
    "      --snaplen N        bytes kept per packet (64..262144, default 262144)\n"
    "      --duration SECS    stop after SECS seconds; --count N: after N packets\n"
    "                         SIGINT/SIGTERM is the normal end: the open flows are scanned and\n"
    "                         the summary (kernel and antibody drops) is complete\n"
    "The host (antibody scan; --nice, --max-cpu and --max-io apply to every command):\n"
    "      --exclude GLOB     skip matching files/folders (repeatable; without '/': base name;\n"
    "                         '*' stays within a folder, '**' crosses folders)\n"
    "      --exclude-from FILE  --exclude for each line of FILE ('#' comments)\n"
    "      --exclude-regex RE skip full paths matching the extended regex RE (repeatable;\n"
    "                         case-insensitive, as Loki's excludes.cfg)\n"
    "      --follow-symlinks  follow symbolic links (loops are detected)\n"
    "      --one-file-system  stay on the file system of each PATH\n"
    "      --scan-pseudo-fs   do not skip /proc, /sys and /dev\n"
    "      --scan-remote-fs   do not skip network and FUSE mounts met in the walk\n"
    "      --nice             lowest CPU and idle I/O priority (for production servers)\n"
    "      --max-cpu PERCENT  each worker uses at most PERCENT of one core (1..100)\n"
    "      --max-io SIZE      read at most SIZE bytes per second in all (suffixes K, M, G)\n"
    "      --pid PID          scan the memory of process PID (repeatable)\n"
    "      --processes        scan the memory of every process we may read, and the\n"
    "                         connections (as --connections); with PATHs, the files too,\n"
    "                         in one run\n"
    "      --connections      match the host's TCP/UDP sockets against ip/cidr IOCs and\n"
    "                         report the process holding each match (Loki's C2 check)\n"
    "Output:\n"
    "      --json             JSON Lines (schema: docs/findings.md) on stdout, or to -o FILE\n"
    "                         with the console report on stdout as well\n"
    "  -o, --output FILE      write the report (JSON with --json) to FILE instead of stdout;\n"
    "                         never inside a PATH, never through a symlink, and an existing\n"
    "                         file only with --force (overwrite) or --append\n"
    "      --force            let -o overwrite an existing file\n"
    "      --append           let -o append to an existing file\n"
    "      --no-console       with --json -o FILE: nothing on stdout\n"
    "      --continue-on-output-error\n"
    "                         a report that cannot be written (disk full, I/O error) does not\n"
    "                         stop the sweep; the exit status is 2 all the same\n"
    "      --allow-empty      a sweep that scanned nothing exits 0, not 2\n"
    "      --strings          show the matched strings of YARA findings (as yara -s; at most\n"
    "                         16 matches of 64 bytes each per finding)\n"
    "      --min-score N      report only objects whose combined score is at least N (0..100)\n"
    "      --levels A,W,N     score thresholds of the alert, warning and notice levels\n"
    "                         (default 80,60,40, as THOR)\n"
    "      --list             report every scanned object, members of containers too (with\n"
    "                         hashes when computed)\n"
    "      --list-skipped     report every skipped file or member with its reason\n"
    "      --no-progress      no progress line on stderr\n"
    "      --color WHEN       auto, always or never (default auto)\n"
    "  -q, --quiet            no summary or load lines on the console (JSON keeps its summary)\n"
    "  -v, --verbose          show YARA compiler warnings (slow strings...), once per rule,\n"
    "                         and the rules and IOCs of each content source\n"
    "      --strict           malformed IOC lines, rule files and warnings are fatal;\n"
    "                         any error makes the exit status 2 even with findings\n"
    "\n"
    "Exit status: 0 nothing found, 1 findings, 2 errors occurred (with findings and errors: 1,\n"
    "unless --strict). Errors are one line each on stderr (and error events with --json).\n"
    "A report that could not be written, or a sweep that scanned nothing, is exit status 2.\n"
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
    OPT_CONNECTIONS,
    OPT_JSON,
    OPT_LIST,
    OPT_LIST_SKIPPED,
    OPT_NO_PROGRESS,
    OPT_COLOR,
    OPT_STRICT,
    OPT_FORCE,
    OPT_APPEND,
    OPT_NO_CONSOLE,
    OPT_KEEP_GOING,
    OPT_ALLOW_EMPTY,
    OPT_STRINGS,
    OPT_NICE,
    OPT_MAX_CPU,
    OPT_MAX_IO,
    OPT_MIN_SCORE,
    OPT_LEVELS,
    OPT_RULES_NO_RECURSE,
    OPT_NO_LOOKALIKE,
    OPT_NO_UNPACK,
    OPT_MAX_UNPACK_DEPTH,
    OPT_MAX_MEMBER_SIZE,
    OPT_MAX_UNPACKED,
    OPT_MAX_RATIO,
    OPT_MAX_MEMBERS,
    OPT_PASSWORD,
    OPT_PASSWORDS,
    OPT_PROTECT_DOMAIN,
    OPT_PROTECT_DOMAINS,
    OPT_MAIL_INDEX,
    OPT_FLOWS,
    OPT_IOC,
    OPT_INTERFACE,
    OPT_BPF,
    OPT_USER,
    OPT_NO_PROMISC,
    OPT_SNAPLEN,
    OPT_DURATION,
    OPT_COUNT,
    OPT_STREAM_DEPTH,
    OPT_MAX_FLOWS,
    OPT_STREAM_MEMCAP,
};

static const struct option long_opts[] = {
    {"rules", required_argument, NULL, 'r'},
    {"rules-no-recurse", no_argument, NULL, OPT_RULES_NO_RECURSE},
    {"ioc", required_argument, NULL, OPT_IOC},
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
    {"connections", no_argument, NULL, OPT_CONNECTIONS},
    {"json", no_argument, NULL, OPT_JSON},
    {"output", required_argument, NULL, 'o'},
    {"list", no_argument, NULL, OPT_LIST},
    {"list-skipped", no_argument, NULL, OPT_LIST_SKIPPED},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"color", required_argument, NULL, OPT_COLOR},
    {"colour", required_argument, NULL, OPT_COLOR},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"force", no_argument, NULL, OPT_FORCE},
    {"append", no_argument, NULL, OPT_APPEND},
    {"no-console", no_argument, NULL, OPT_NO_CONSOLE},
    {"continue-on-output-error", no_argument, NULL, OPT_KEEP_GOING},
    {"allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY},
    {"strings", no_argument, NULL, OPT_STRINGS},
    {"nice", no_argument, NULL, OPT_NICE},
    {"max-cpu", required_argument, NULL, OPT_MAX_CPU},
    {"max-io", required_argument, NULL, OPT_MAX_IO},
    {"min-score", required_argument, NULL, OPT_MIN_SCORE},
    {"levels", required_argument, NULL, OPT_LEVELS},
    {"no-lookalike", no_argument, NULL, OPT_NO_LOOKALIKE},
    {"no-unpack", no_argument, NULL, OPT_NO_UNPACK},
    {"max-unpack-depth", required_argument, NULL, OPT_MAX_UNPACK_DEPTH},
    {"max-member-size", required_argument, NULL, OPT_MAX_MEMBER_SIZE},
    {"max-unpacked", required_argument, NULL, OPT_MAX_UNPACKED},
    {"max-ratio", required_argument, NULL, OPT_MAX_RATIO},
    {"max-members", required_argument, NULL, OPT_MAX_MEMBERS},
    {"password", required_argument, NULL, OPT_PASSWORD},
    {"passwords", required_argument, NULL, OPT_PASSWORDS},
    {"protect-domain", required_argument, NULL, OPT_PROTECT_DOMAIN},
    {"protect-domains", required_argument, NULL, OPT_PROTECT_DOMAINS},
    {"mail-index", no_argument, NULL, OPT_MAIL_INDEX},
    {"flows", no_argument, NULL, OPT_FLOWS},
    {"interface", required_argument, NULL, OPT_INTERFACE},
    {"bpf", required_argument, NULL, OPT_BPF},
    {"user", required_argument, NULL, OPT_USER},
    {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
    {"snaplen", required_argument, NULL, OPT_SNAPLEN},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"count", required_argument, NULL, OPT_COUNT},
    {"stream-depth", required_argument, NULL, OPT_STREAM_DEPTH},
    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
    {"stream-memcap", required_argument, NULL, OPT_STREAM_MEMCAP},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* A report destination: JSON Lines or the console report. */
typedef struct dest {
    ab_output o;
    int on;
    int said; /* its write failure was reported */
} dest;

typedef struct cli {
    const char *rules[MAX_LIST], *iocs[MAX_LIST], *packs[MAX_LIST];
    size_t n_rules, n_iocs, n_packs;
    pid_t pids[MAX_LIST];
    size_t n_pids;
    int processes, connections, default_pack, json, list, list_skipped, progress, quiet, strict,
        one_fs, verbose;
    int color; /* -1 auto */
    const char *output;
    int force, append, no_console, keep_going, allow_empty, nice;
    int closing; /* the sweep is over: close_outputs runs */
    /* run state */
    dest jdest, cdest; /* cdest.on: findings etc. go to console.o; else errors only */
    ab_console con;
    ab_buf line;
    ab_jsonl_ctx jctx;
    char host[256], sweep_id[40];
    unsigned long long unencodable;      /* events the JSON writer refused (over its size cap) */
    unsigned long long errors, findings; /* load-time errors + sweep errors; findings */
    unsigned long long load_errors;      /* rule/IOC errors while loading */
    unsigned long long load_warnings;    /* content left out that could not work as written */
    int interrupted;                     /* the summary said the scan was cancelled */
    int mail_index;                      /* --mail-index: "message" records in the JSON report */
    int flows;                           /* --flows: "flow" records (triage without rules) */
    ab_mailindex *mindex;                /* owned, while the sweep runs */
    int sniff;                           /* antibody sniff: -i is the interface */
    int from_stdin;                      /* antibody pcap -: the capture is standard input */
    ab_live_opts live;                   /* antibody sniff: its options (strings in argv) */
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

/* --stream-depth, --max-flows, --stream-memcap: the capture limits of every command that reads
 * captures (scan, pcap), into l. Returns 0 when opt is not one of them or its value is valid
 * (then set in l), 2 after saying what is wrong. */
static int net_limit_option(int opt, const char *arg, ab_capture_limits *l)
{
    uint64_t sz = 0;
    unsigned long long v = 0;
    switch (opt) {
    case OPT_STREAM_DEPTH:
        if (parse_size(arg, &sz) || sz < 1 || sz > AB_CAPTURE_MAX_DEPTH)
            return usage_error("--stream-depth: expected a size from 1 to 1G (bytes per flow "
                               "direction), got '%s'",
                               arg);
        l->stream_depth = sz;
        return 0;
    case OPT_MAX_FLOWS:
        if (parse_uint(arg, AB_CAPTURE_MAX_FLOWS, &v) || v < 1)
            return usage_error("--max-flows: expected 1..16777216, got '%s'", arg);
        l->max_flows = v;
        return 0;
    case OPT_STREAM_MEMCAP:
        if (parse_size(arg, &sz) || sz < AB_CAPTURE_MIN_MEMCAP || sz > AB_CAPTURE_MAX_MEMCAP)
            return usage_error("--stream-memcap: expected a size from 1M to 64G, got '%s'", arg);
        l->stream_memcap = sz;
        return 0;
    default:
        return 0;
    }
}

/* "80,60,40": alert, warning, notice, each 0..100 and not increasing. 0 when valid. */
static int parse_levels(const char *s, unsigned out[3])
{
    unsigned lv[3];
    char buf[64];
    if (strlen(s) >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%s", s);
    char *tok = buf;
    for (int i = 0; i < 3; i++) { /* exactly three fields: no empty ones, no signs or spaces */
        char *comma = strchr(tok, ',');
        if ((comma != NULL) != (i < 2))
            return -1;
        if (comma)
            *comma = '\0';
        unsigned long long v;
        if (!*tok || strspn(tok, "0123456789") != strlen(tok) || parse_uint(tok, 100, &v))
            return -1;
        lv[i] = (unsigned)v;
        tok = comma ? comma + 1 : tok;
    }
    if (lv[1] > lv[0] || lv[2] > lv[1])
        return -1;
    if (out)
        memcpy(out, lv, sizeof(lv));
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

/* ---- Reporting: every event goes to each report destination, and every write is checked --- */

/* Says once that a destination failed. Returns 1 when the sweep must stop for it. */
static int dest_failed(cli *c, dest *d)
{
    if (!d->on || !d->o.err)
        return 0;
    if (!d->said) {
        d->said = 1;
        c->errors++;
        ab_console_clear_progress(&c->con);
        fprintf(stderr, "antibody: error: cannot write the report to %s: %s: %s\n", d->o.name,
                strerror(d->o.err),
                c->closing      ? "the report is incomplete"
                : c->keep_going ? "going on without it (--continue-on-output-error)"
                                : "stopping the sweep (the report is incomplete)");
    }
    return !c->keep_going;
}

/* 1: the sweep must stop because a report cannot be written. */
static int outputs_failed(cli *c)
{
    int stop = dest_failed(c, &c->jdest);
    return dest_failed(c, &c->cdest) || stop;
}

static void report_json(cli *c, const ab_event *ev)
{
    if (!c->jdest.on)
        return;
    ab_console_clear_progress(&c->con); /* stdout and stderr may be one terminal */
    ab_buf_reset(&c->line);
    if (ab_jsonl_event_ctx(&c->line, ev, &c->jctx) != AB_OK) {
        /* Only an event over the writer's size cap gets here: it is lost, and said so. */
        if (!c->unencodable++)
            fprintf(stderr, "antibody: error: an event too large to encode was left out of the "
                            "JSON report\n");
        c->errors++;
        return;
    }
    ab_output_write(&c->jdest.o, c->line.data, c->line.len);
    ab_output_end_event(&c->jdest.o);
}

/* A --mail-index record: one JSON line, written and checked as any event. */
static void on_mail_record(void *ctx, const ab_mail_record *r)
{
    cli *c = ctx;
    if (!c->jdest.on)
        return;
    ab_console_clear_progress(&c->con);
    ab_buf_reset(&c->line);
    if (ab_jsonl_message(&c->line, now(), &c->jctx, r) != AB_OK) {
        if (!c->unencodable++)
            fprintf(stderr, "antibody: error: an event too large to encode was left out of the "
                            "JSON report\n");
        c->errors++;
        return;
    }
    ab_output_write(&c->jdest.o, c->line.data, c->line.len);
    ab_output_end_event(&c->jdest.o);
}

/* The records still open when the sweep ends (a worker died in a message) go out incomplete;
 * records that could not be kept are an error, not a silent gap. */
static void finish_mail_index(cli *c)
{
    if (!c->mindex)
        return;
    uint64_t dropped = ab_mailindex_dropped(c->mindex);
    ab_mailindex_free(c->mindex);
    c->mindex = NULL;
    if (dropped) {
        fprintf(stderr,
                "antibody: error: --mail-index: %llu messages left out of the index "
                "(too many open at once, or out of memory)\n",
                (unsigned long long)dropped);
        c->errors++;
    }
}

static void report_console(cli *c, const ab_event *ev)
{
    ab_console_event(&c->con, ev);
    if (c->cdest.on)
        ab_output_end_event(&c->cdest.o);
}

/* Load-time diagnostics. Errors (rule compile errors, malformed IOC lines) count in the exit
 * status and the summary; warnings do not. Both are one line on stderr, and an error or warning
 * event in JSON with the loader's status. `where` is "file:line" or "file". */
static void diag(cli *c, ab_status status, ab_diag_level level, const char *where,
                 const char *message)
{
    ab_console_clear_progress(&c->con);
    fputs(level == AB_DIAG_WARNING ? "antibody: warning: " : "antibody: error: ", stderr);
    ab_console_write_safe(stderr, where);
    fputs(": ", stderr);
    ab_console_write_safe(stderr, message);
    fputc('\n', stderr);
    if (level == AB_DIAG_WARNING) {
        c->load_warnings++; /* loaded content that cannot work as written: not a sweep error */
    } else {
        c->errors++;
        c->load_errors++;
    }
    if (!c->jdest.on)
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
    const char *loc[1] = {file};
    ab_event ev = {.kind = level == AB_DIAG_WARNING ? AB_EVENT_WARNING : AB_EVENT_ERROR,
                   .time = now()};
    ev.u.error = (ab_error){file, loc, 1, status, msg, NULL};
    report_json(c, &ev);
}

/* Every load-time diagnostic, with the library's status for the error event. Notes (YARA compiler
 * warnings, once per rule) are shown under --verbose only; load_content counts them. */
static void on_diag(void *ctx, const ab_diag *d)
{
    cli *c = ctx;
    char where[4096];
    if (d->line)
        snprintf(where, sizeof(where), "%s:%u", d->file, d->line);
    else
        snprintf(where, sizeof(where), "%s", d->file);
    if (d->level != AB_DIAG_NOTE) {
        diag(c, d->status, d->level, where, d->message);
        return;
    }
    if (!c->verbose)
        return;
    ab_console_clear_progress(&c->con);
    fputs("antibody: note: ", stderr);
    ab_console_write_safe(stderr, where);
    fputs(": rule ", stderr);
    ab_console_write_safe(stderr, d->rule ? d->rule : "?");
    fputs(": ", stderr);
    ab_console_write_safe(stderr, d->message);
    fputc('\n', stderr);
}

/* "excluded 2, special 1" for a message. */
static void skip_counts(const ab_summary *s, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (int r = 0; r < AB_SKIP_REASON_COUNT && o < len; r++)
        if (s->skipped[r])
            o += (size_t)snprintf(out + o, len - o, "%s%s %llu", o ? ", " : "",
                                  ab_skip_reason_name((ab_skip_reason)r),
                                  (unsigned long long)s->skipped[r]);
}

static void deliver(cli *c, const ab_event *ev)
{
    if (ev->kind == AB_EVENT_OBJECT && c->mindex) {
        ab_mailindex_object(c->mindex, &ev->u.object);
        if (!c->list) /* asked for by --mail-index only */
            return;
    }
    if (ev->kind == AB_EVENT_SUMMARY)
        finish_mail_index(c);
    if (ev->kind == AB_EVENT_ERROR)
        c->errors++;
    else if (ev->kind == AB_EVENT_FINDING)
        c->findings++;
    if (ev->kind != AB_EVENT_SKIP || c->list_skipped)
        report_json(c, ev);
    report_console(c, ev); /* errors go to stderr even when the console report is off */
}

/* A sweep that scanned nothing must not read as "clean" to a script: it is an error (an event
 * before the summary, which counts it) unless --allow-empty. */
static void check_empty(cli *c, ab_summary *sum)
{
    if (sum->objects || sum->interrupted || sum->errors || c->allow_empty)
        return; /* errors already make the exit status 2, and say why */
    char counts[512], msg[1024];
    skip_counts(sum, counts, sizeof(counts));
    if (sum->skipped_total)
        snprintf(msg, sizeof(msg),
                 "nothing was scanned: %llu skipped (%s)%s; --allow-empty accepts an empty sweep",
                 (unsigned long long)sum->skipped_total, counts,
                 c->list_skipped ? "" : "; --list-skipped lists them");
    else
        snprintf(msg, sizeof(msg),
                 "nothing was scanned: no %s found; --allow-empty accepts an "
                 "empty sweep",
                 c->n_pids || c->processes ? "process"
                 : c->connections          ? "socket"
                                           : "file");
    ab_event ev = {.kind = AB_EVENT_ERROR, .time = now()};
    ev.u.error = (ab_error){NULL, NULL, 0, AB_ERR_NOTFOUND, msg, NULL};
    deliver(c, &ev);
    sum->errors++;
}

static int sink(void *ctx, const ab_event *ev)
{
    cli *c = ctx;
    if (ev->kind == AB_EVENT_SUMMARY) {
        /* The library's summary counts the sweep; load-time errors are the CLI's to add. */
        ab_event copy = *ev;
        c->interrupted = ev->u.summary.interrupted;
        copy.u.summary.errors += c->load_errors;
        check_empty(c, &copy.u.summary);
        deliver(c, &copy);
    } else {
        deliver(c, ev);
    }
    return outputs_failed(c);
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

static void print_version(void)
{
    ab_versions v;
    ab_versions_get(&v);
    printf("antibody %s (libyara %s, vectorscan %s)\n", v.antibody, v.yara, v.vectorscan);
}

static int pack_listed(char **names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return 1;
    return 0;
}

static void print_pack(const ab_pack_info *info, int json, ab_buf *line)
{
    if (!json) {
        printf("%-16s %6zu %6zu  %s\n", info->name, info->rules, info->iocs, info->description);
        return;
    }
    ab_json j;
    ab_buf_reset(line);
    ab_json_init(&j, line);
    ab_json_obj_begin(&j);
    ab_json_key(&j, "pack");
    ab_json_cstr(&j, info->name);
    ab_json_key(&j, "rules");
    ab_json_uint(&j, info->rules);
    ab_json_key(&j, "iocs");
    ab_json_uint(&j, info->iocs);
    ab_json_key(&j, "description");
    ab_json_cstr(&j, info->description);
    ab_json_obj_end(&j);
    if (j.st == AB_OK)
        printf("%s\n", line->data);
}

/* antibody packs [--json] [NAME...]: every built-in pack, or the ones named (an unknown name is
 * an error). */
static int cmd_packs(int argc, char **argv)
{
    int json = 0, n = 0, rc = 0;
    char **names = calloc((size_t)argc + 1, sizeof(*names));
    if (!names) {
        fprintf(stderr, "antibody: error: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] == '-') {
            free(names);
            return usage_error("packs: unknown option '%s'", argv[i]);
        } else
            names[n++] = argv[i];
    }
    ab_status st = ab_init();
    if (st != AB_OK) {
        fprintf(stderr, "antibody: error: cannot initialise libyara: %s\n", ab_strerror(st));
        free(names);
        return 2;
    }
    ab_buf line;
    ab_buf_init(&line, 0);
    if (!json)
        printf("%-16s %6s %6s  %s\n", "PACK", "RULES", "IOCS", "DESCRIPTION");
    for (size_t i = 0; i < ab_pack_count(); i++) {
        ab_pack_info info;
        st = ab_pack_info_get(i, &info);
        if (st != AB_OK) {
            fprintf(stderr, "antibody: error: pack %zu: %s\n", i, ab_strerror(st));
            rc = 2;
            continue;
        }
        if (n && !pack_listed(names, n, info.name))
            continue;
        print_pack(&info, json, &line);
    }
    for (int i = 0; i < n; i++) { /* names that matched no pack */
        int known = 0;
        for (size_t k = 0; k < ab_pack_count() && !known; k++) {
            ab_pack_info info;
            known = ab_pack_info_get(k, &info) == AB_OK && !strcmp(info.name, names[i]);
        }
        if (!known) {
            fprintf(stderr, "antibody: error: no built-in pack named '%s'\n", names[i]);
            rc = 2;
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "antibody: error: cannot write to standard output: %s\n", strerror(errno));
        rc = 2;
    }
    ab_buf_release(&line);
    ab_finish();
    free(names);
    return rc;
}

static int pack_named(const cli *c, const char *name)
{
    for (size_t i = 0; i < c->n_packs; i++)
        if (!strcmp(c->packs[i], name))
            return 1;
    return 0;
}

/* The options of antibody sniff (refused elsewhere). 0 when valid. */
static int parse_sniff_opt(cli *c, int opt, const char *arg)
{
    unsigned long long v = 0;
    if (!c->sniff)
        return usage_error("%s", "--bpf, --user, --no-promisc, --snaplen, --duration and --count "
                                 "are for antibody sniff");
    switch (opt) {
    case OPT_BPF:
        c->live.bpf = arg;
        return 0;
    case OPT_USER:
        if (!*arg)
            return usage_error("%s", "--user: give a user name");
        c->live.user = arg;
        return 0;
    case OPT_NO_PROMISC:
        c->live.no_promisc = 1;
        return 0;
    case OPT_SNAPLEN:
        if (parse_uint(arg, 262144, &v) || v < 64)
            return usage_error("--snaplen: expected 64..262144 bytes, got '%s'", arg);
        c->live.snaplen = (unsigned)v;
        return 0;
    case OPT_DURATION:
        if (parse_uint(arg, 100000000, &v) || v == 0)
            return usage_error("--duration: expected seconds (1..100000000), got '%s'", arg);
        c->live.duration = (double)v;
        return 0;
    default: /* OPT_COUNT */
        if (parse_uint(arg, UINT64_MAX, &v) || v == 0)
            return usage_error("--count: expected a number of packets, got '%s'", arg);
        c->live.count = v;
        return 0;
    }
}

static int parse_scan_args(cli *c, int argc, char **argv)
{
    int opt;
    unsigned long long v = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "r:i:j:o:qvhV", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (push(c->rules, &c->n_rules, optarg))
                return usage_error("too many --rules (max %s)", "4096");
            break;
        case 'i':
            if (c->sniff) { /* antibody sniff -i IFACE, as tcpdump */
                c->live.interface = optarg;
                break;
            }
            __attribute__((fallthrough)); /* -i is --ioc in scan and pcap */
        case OPT_IOC:
            if (push(c->iocs, &c->n_iocs, optarg))
                return usage_error("too many --ioc (max %s)", "4096");
            break;
        case OPT_INTERFACE:
            if (!c->sniff)
                return usage_error("%s", "--interface is for antibody sniff");
            c->live.interface = optarg;
            break;
        case OPT_BPF:
        case OPT_USER:
        case OPT_NO_PROMISC:
        case OPT_SNAPLEN:
        case OPT_DURATION:
        case OPT_COUNT:
            if (parse_sniff_opt(c, opt, optarg) != 0)
                return 2;
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
        case OPT_NO_LOOKALIKE:
        case OPT_NO_UNPACK:
        case OPT_PASSWORD:
        case OPT_PASSWORDS:
        case OPT_PROTECT_DOMAIN:
        case OPT_PROTECT_DOMAINS:
            break;
        case OPT_MAX_UNPACK_DEPTH:
            if (parse_uint(optarg, 15, &v) || v == 0)
                return usage_error("--max-unpack-depth: expected 1..15, got '%s'", optarg);
            break;
        case OPT_MAX_MEMBER_SIZE:
        case OPT_MAX_UNPACKED: {
            uint64_t sz;
            if (parse_size(optarg, &sz) || sz == 0)
                return usage_error(opt == OPT_MAX_UNPACKED
                                       ? "--max-unpacked: expected a size like 400M, got '%s'"
                                       : "--max-member-size: expected a size like 100M, got '%s'",
                                   optarg);
            break;
        }
        case OPT_MAX_RATIO:
            if (parse_uint(optarg, 1000000, &v))
                return usage_error("--max-ratio: expected 0..1000000, got '%s'", optarg);
            break;
        case OPT_MAX_MEMBERS:
            if (parse_uint(optarg, 100000000, &v) || v == 0)
                return usage_error("--max-members: expected 1..100000000, got '%s'", optarg);
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
        case OPT_CONNECTIONS:
            c->connections = 1;
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
        case OPT_MAIL_INDEX:
            c->mail_index = 1;
            c->json = 1;
            break;
        case OPT_FLOWS:
            c->flows = 1;
            c->json = 1;
            break;
        case OPT_STREAM_DEPTH:
        case OPT_MAX_FLOWS:
        case OPT_STREAM_MEMCAP: {
            ab_capture_limits nl;
            ab_capture_limits_default(&nl);
            if (net_limit_option(opt, optarg, &nl))
                return 2;
            break;
        }
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
        case 'v':
            c->verbose = 1;
            break;
        case OPT_RULES_NO_RECURSE:
            break;
        case OPT_STRICT:
            c->strict = 1;
            break;
        case OPT_FORCE:
            c->force = 1;
            break;
        case OPT_APPEND:
            c->append = 1;
            break;
        case OPT_NO_CONSOLE:
            c->no_console = 1;
            break;
        case OPT_KEEP_GOING:
            c->keep_going = 1;
            break;
        case OPT_ALLOW_EMPTY:
            c->allow_empty = 1;
            break;
        case OPT_STRINGS:
            break;
        case OPT_NICE:
            c->nice = 1;
            break;
        case OPT_MAX_CPU:
            if (parse_uint(optarg, 100, &v) || v == 0)
                return usage_error("--max-cpu: expected 1..100 (percent of one core), got '%s'",
                                   optarg);
            break;
        case OPT_MAX_IO: {
            uint64_t sz;
            if (parse_size(optarg, &sz) || sz == 0)
                return usage_error("--max-io: expected a rate like 20M (bytes per second), got "
                                   "'%s'",
                                   optarg);
            break;
        }
        case OPT_MIN_SCORE:
            if (parse_uint(optarg, 100, &v))
                return usage_error("--min-score: expected 0..100, got '%s'", optarg);
            break;
        case OPT_LEVELS:
            if (parse_levels(optarg, NULL))
                return usage_error("--levels: expected ALERT,WARNING,NOTICE with 100 >= ALERT >= "
                                   "WARNING >= NOTICE >= 0, got '%s'",
                                   optarg);
            break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        case 'V':
            print_version();
            return -1;
        default: /* getopt said what is wrong */
            fputs("Try 'antibody --help'.\n", stderr);
            return 2;
        }
    }
    return 0;
}

/* Second pass over the options for the scanner settings (the scanner exists only now). */
#define PASSWORDS_FILE_MAX ((off_t)1 << 20)

/* FILE for --passwords or --protect-domains: one entry per line (the line end is not part of
 * it; empty lines and, with comments, '#' lines are skipped), each given to add. */
static ab_status add_lines_file(ab_scanner *sc, const char *opt, const char *path, int comments,
                                ab_status (*add)(ab_scanner *, const char *))
{
    FILE *f = fopen(path, "re");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) ||
        sb.st_size > PASSWORDS_FILE_MAX) {
        fprintf(stderr, "antibody: error: %s %s: %s\n", opt, path,
                !f ? strerror(errno) : "not a regular file of at most 1 MiB");
        if (f)
            fclose(f);
        return AB_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    ab_status st = AB_OK;
    for (unsigned no = 1; st == AB_OK && (n = getline(&line, &cap, f)) > 0; no++) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!n || (comments && line[0] == '#'))
            continue;
        if ((st = add(sc, line)) != AB_OK) {
            const char *why = ab_scanner_last_error(sc);
            fprintf(stderr, "antibody: error: %s %s:%u: %s\n", opt, path, no,
                    why[0]             ? why
                    : st == AB_ERR_ARG ? "not a valid entry"
                                       : ab_strerror(st));
        }
    }
    free(line);
    fclose(f);
    return st == AB_OK ? AB_OK : AB_ERR_ARG;
}

static int apply_settings(ab_scanner *sc, int argc, char **argv)
{
    int opt;
    unsigned long long v = 0;
    uint64_t size;
    ab_unpack_limits lim;
    ab_capture_limits nl;
    ab_unpack_limits_default(&lim);
    ab_capture_limits_default(&nl);
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "r:i:j:o:qvhV", long_opts, NULL)) != -1) {
        ab_status st = AB_OK;
        switch (opt) {
        case 'j':
            parse_uint(optarg, 256, &v);
            st = ab_scanner_set_workers(sc, (unsigned)v);
            break;
        case OPT_HASH:
            st = ab_scanner_set_hash(sc, 1);
            break;
        case OPT_FLOWS:
            st = ab_scanner_set_flow_records(sc, 1);
            break;
        case OPT_STREAM_DEPTH:
        case OPT_MAX_FLOWS:
        case OPT_STREAM_MEMCAP:
            if (net_limit_option(opt, optarg, &nl))
                return 2;
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
        case OPT_MAIL_INDEX: /* built from every object's event, with the parts' SHA-256 */
            st = ab_scanner_set_list_objects(sc, 1);
            if (st == AB_OK)
                st = ab_scanner_set_hash(sc, 1);
            break;
        case OPT_STRICT:
            st = ab_scanner_set_strict(sc, 1);
            break;
        case OPT_STRINGS:
            st = ab_scanner_set_strings(sc, 1);
            break;
        case OPT_MAX_CPU:
            parse_uint(optarg, 100, &v);
            st = ab_scanner_set_max_cpu(sc, (unsigned)v);
            break;
        case OPT_MAX_IO:
            parse_size(optarg, &size);
            st = ab_scanner_set_max_io(sc, size);
            break;
        case OPT_MIN_SCORE:
            parse_uint(optarg, 100, &v);
            st = ab_scanner_set_min_score(sc, (unsigned)v);
            break;
        case OPT_LEVELS: {
            unsigned lv[3];
            parse_levels(optarg, lv);
            st = ab_scanner_set_levels(sc, lv[0], lv[1], lv[2]);
            break;
        }
        case OPT_RULES_NO_RECURSE:
            st = ab_scanner_set_rules_recurse(sc, 0);
            break;
        case OPT_NO_LOOKALIKE:
            st = ab_scanner_set_lookalike(sc, 0);
            break;
        case OPT_NO_UNPACK:
            st = ab_scanner_set_unpack(sc, 0);
            break;
        case OPT_MAX_UNPACK_DEPTH:
            parse_uint(optarg, 15, &v);
            lim.max_depth = (unsigned)v;
            break;
        case OPT_MAX_MEMBER_SIZE:
            parse_size(optarg, &lim.max_member_size);
            break;
        case OPT_MAX_UNPACKED:
            parse_size(optarg, &lim.max_unpacked);
            break;
        case OPT_MAX_RATIO:
            parse_uint(optarg, 1000000, &v);
            lim.max_ratio = (unsigned)v;
            break;
        case OPT_MAX_MEMBERS:
            parse_uint(optarg, 100000000, &v);
            lim.max_members = v;
            break;
        case OPT_PASSWORD:
            st = ab_scanner_add_password(sc, optarg);
            break;
        case OPT_PASSWORDS:
            if (add_lines_file(sc, "--passwords", optarg, 0, ab_scanner_add_password) != AB_OK)
                return 2;
            break;
        case OPT_PROTECT_DOMAIN:
            st = ab_scanner_add_protected_domain(sc, optarg);
            if (st == AB_ERR_ARG)
                return usage_error("--protect-domain: not a domain name: '%s'", optarg);
            break;
        case OPT_PROTECT_DOMAINS:
            if (add_lines_file(sc, "--protect-domains", optarg, 1,
                               ab_scanner_add_protected_domain) != AB_OK)
                return 2;
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
    if (ab_scanner_set_unpack_limits(sc, &lim) != AB_OK) {
        fprintf(stderr, "antibody: error: unpack limits out of range\n");
        return 2;
    }
    if (ab_scanner_set_capture_limits(sc, &nl) != AB_OK) {
        fprintf(stderr, "antibody: error: %s\n", ab_scanner_last_error(sc));
        return 2;
    }
    return 0;
}

static int load_content(cli *c, ab_scanner *sc)
{
    ab_status st;
    unsigned long long said = ~0ULL; /* load errors before a failing add: said once, not twice */
    ab_scanner_set_diag(sc, on_diag, c);
    if (c->default_pack && !pack_named(c, DEFAULT_PACK) &&
        (st = ab_scanner_add_pack(sc, DEFAULT_PACK, NULL, NULL)) != AB_OK)
        goto fail;
    for (size_t i = 0; i < c->n_packs; i++)
        if ((st = ab_scanner_add_pack(sc, c->packs[i], NULL, NULL)) != AB_OK)
            goto fail;
    for (size_t i = 0; i < c->n_rules; i++) {
        said = c->load_errors;
        if ((st = ab_scanner_add_rules(sc, c->rules[i], NULL, NULL)) != AB_OK)
            goto fail;
    }
    for (size_t i = 0; i < c->n_iocs; i++) {
        said = c->load_errors;
        if ((st = ab_scanner_add_iocs(sc, c->iocs[i], NULL, NULL)) != AB_OK)
            goto fail;
    }
    said = ~0ULL;
    unsigned long long before = c->errors;
    if ((st = ab_scanner_compile(sc, NULL, NULL)) != AB_OK)
        goto fail;
    size_t warned = ab_scanner_rule_warning_count(sc);
    if (warned && !c->verbose && !c->quiet)
        fprintf(stderr,
                "antibody: %zu YARA rule%s with compiler warnings (slow strings...); "
                "--verbose shows them\n",
                warned, warned == 1 ? "" : "s");
    if (!ab_scanner_rule_count(sc) && !ab_scanner_ioc_count(sc) && !c->list && !c->flows) {
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
    if (c->load_errors == said || said == ~0ULL) /* else the diagnostic said why */
        fprintf(stderr, "antibody: error: %s\n",
                ab_scanner_last_error(sc)[0] ? ab_scanner_last_error(sc) : ab_strerror(st));
    return 2;
}

/* Where the reports go: JSON to -o FILE or stdout; the console report to stdout, or to -o FILE
 * without --json; with --json -o FILE both (console on stdout, unless --no-console). */
static int open_outputs(cli *c, char **paths, int n)
{
    dest *file_dest = c->json ? &c->jdest : &c->cdest;
    c->jdest.on = c->json;
    c->cdest.on = !c->json || (c->output && !c->no_console);
    if (c->jdest.on && !c->output)
        ab_output_init_fd(&c->jdest.o, STDOUT_FILENO, "standard output", 0);
    if (c->cdest.on && (c->json || !c->output))
        ab_output_init_fd(&c->cdest.o, STDOUT_FILENO, "standard output", 0);
    if (c->output) {
        char why[512];
        if (output_inside_scan(c->output, paths, n, c->one_fs)) {
            fprintf(stderr,
                    "antibody: error: refusing to write --output inside a scanned path: %s (write "
                    "it elsewhere, or to another file system with --one-file-system)\n",
                    c->output);
            return 2;
        }
        ab_output_mode mode = c->append  ? AB_OUTPUT_APPEND
                              : c->force ? AB_OUTPUT_FORCE
                                         : AB_OUTPUT_NEW;
        if (ab_output_open(&file_dest->o, c->output, mode, why, sizeof(why)) != AB_OK) {
            fprintf(stderr, "antibody: error: --output ");
            ab_console_write_safe(stderr, c->output);
            fprintf(stderr, ": %s\n", why);
            return 2;
        }
    }
    if (c->cdest.on && !(c->con.out = ab_output_stream(&c->cdest.o))) {
        fprintf(stderr, "antibody: error: out of memory\n");
        return 2;
    }
    return 0;
}

/* Ends both destinations and says what could not be written. */
static void close_outputs(cli *c)
{
    dest *all[2] = {&c->jdest, &c->cdest};
    for (int i = 0; i < 2; i++) {
        dest *d = all[i];
        if (!d->on)
            continue;
        ab_output_close(&d->o);
        c->closing = 1; /* a failure said only now happened at the end (flush, close) */
        dest_failed(c, d);
        if (d->o.lost)
            fprintf(stderr, "antibody: error: %llu event%s not written to %s\n",
                    (unsigned long long)d->o.lost, d->o.lost == 1 ? " was" : "s were", d->o.name);
    }
    c->con.out = NULL;
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
    if (c->jdest.o.err || c->cdest.o.err || c->unencodable)
        return 2; /* a report with holes must not pass for a complete one */
    if (c->errors && (c->strict || !c->findings))
        return 2;
    return c->findings ? 1 : 0;
}

/* --nice: the lowest CPU priority and the idle I/O class, as nice -n 19 ionice -c 3 would. A
 * failure only weakens the politeness: said, not fatal. */
static void be_nice(void)
{
    if (setpriority(PRIO_PROCESS, 0, 19) != 0)
        fprintf(stderr, "antibody: warning: --nice: %s\n", strerror(errno));
    /* ioprio_set(IOPRIO_WHO_PROCESS, self, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) */
    if (syscall(SYS_ioprio_set, 1, 0, 3 << 13) != 0)
        fprintf(stderr, "antibody: warning: --nice (I/O priority): %s\n", strerror(errno));
}

/* host.name and a sweep id in every JSON line (events of many hosts and runs get merged). */
static void set_json_context(cli *c)
{
    unsigned char r[16] = {0};
    if (gethostname(c->host, sizeof(c->host) - 1) != 0)
        snprintf(c->host, sizeof(c->host), "unknown");
    if (getentropy(r, sizeof(r)) != 0) { /* not secret: time and pid make it unique enough */
        double t = now();
        memcpy(r, &t, sizeof(t));
        pid_t pid = getpid();
        memcpy(r + 8, &pid, sizeof(pid));
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* UUID version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(c->sweep_id, sizeof(c->sweep_id),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
    c->jctx.host_name = c->host;
    c->jctx.sweep_id = c->sweep_id;
}

static int want_color(const cli *c)
{
    if (c->color >= 0)
        return c->color;
    const char *no = getenv("NO_COLOR"); /* no-color.org: set and not empty */
    if (no && *no)
        return 0;
    return c->cdest.on && c->cdest.o.fd == STDOUT_FILENO && isatty(STDOUT_FILENO);
}

/* What the scan call looks at (ab_scan_scope bits): --processes includes the connections. */
static unsigned scan_scope(const cli *c, int n_paths)
{
    unsigned scope = n_paths ? AB_SCOPE_FILES : 0;
    if (c->n_pids)
        scope |= AB_SCOPE_PROCESSES;
    if (c->processes)
        scope |= AB_SCOPE_PROCESSES | AB_SCOPE_CONNECTIONS;
    return c->connections ? scope | AB_SCOPE_CONNECTIONS : scope;
}

/* The load record: a "load" event first in JSON, one line on the console. */
static void report_loaded(cli *c, ab_scanner *sc, unsigned scope)
{
    ab_event ev = {.kind = AB_EVENT_LOAD, .time = now()};
    ab_status st = ab_scanner_load_info(sc, scope, &ev.u.load);
    if (st != AB_OK) {
        fprintf(stderr, "antibody: error: cannot describe the loaded content: %s\n",
                ab_strerror(st));
        c->errors++;
        return;
    }
    report_json(c, &ev);
    if (c->quiet || !c->cdest.on)
        return;
    const ab_load_info *l = &ev.u.load;
    fprintf(stderr, "antibody: %zu YARA rules and %zu IOCs loaded", l->rules, l->iocs);
    if (l->iocs_unmatched) /* say it, or a loaded C2 list looks like a checked one */
        fprintf(stderr, " (not matched by this scan: %zu network/mail IOC%s)", l->iocs_unmatched,
                l->iocs_unmatched == 1 ? "" : "s");
    fprintf(stderr, ", content %.16s\n", l->digest);
    for (size_t i = 0; c->verbose && i < l->n_sources; i++) {
        fprintf(stderr, "antibody:   %s ", l->sources[i].kind);
        ab_console_write_safe(stderr, l->sources[i].name);
        fprintf(stderr, ": %zu rules, %zu IOCs\n", l->sources[i].rules, l->sources[i].iocs);
    }
}

/* antibody pcap: every PATH must be a capture (by its first bytes) that is a regular file. Says
 * each that is not (an error, in the summary and the exit status); returns the number that are,
 * moved to the front of paths. */
static int check_captures(cli *c, char **paths, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        unsigned char head[24];
        struct stat st;
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        ssize_t got = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
                          ? read(fd, head, sizeof(head))
                          : -1;
        int err = errno;
        if (fd >= 0)
            close(fd);
        if (got > 0 && ab_is_capture(head, (size_t)got)) {
            paths[ok++] = paths[i];
            continue;
        }
        diag(c, fd < 0 ? AB_ERR_IO : AB_ERR_PARSE, AB_DIAG_ERROR, paths[i],
             fd < 0    ? strerror(err)
             : got < 0 ? "not a regular file"
                       : "not a pcap or pcapng capture");
    }
    return ok;
}

/* antibody sniff: the capture is open and privileges are dropped. */
static void on_listening(void *ctx, const char *iface, const char *user)
{
    cli *c = ctx;
    if (c->quiet)
        return;
    ab_console_clear_progress(&c->con);
    fputs("antibody: sniff: listening on ", stderr);
    ab_console_write_safe(stderr, iface);
    fputs(" as ", stderr);
    ab_console_write_safe(stderr, user);
    fputs(" (Ctrl-C or SIGTERM stops, with the summary)\n", stderr);
}

/* mode: 0 scan, 1 pcap, 2 sniff. */
static int cmd_scan(int argc, char **argv, int mode)
{
    int pcap = mode == 1;
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
    c->con.err = stderr;
    c->sniff = mode == 2;
    argv[0] = (char *)(pcap        ? "antibody pcap"
                       : mode == 2 ? "antibody sniff"
                                   : "antibody scan"); /* getopt names it */
    rc = parse_scan_args(c, argc, argv);
    if (rc != 0) {
        rc = rc < 0 ? 0 : rc;
        goto out;
    }
    char **paths = argv + optind;
    int n_paths = argc - optind;
    if (pcap) {
        if (c->n_pids || c->processes || c->connections) {
            rc = usage_error("%s", "antibody pcap reads captures: --pid, --processes and "
                                   "--connections are for antibody scan");
            goto out;
        }
        if (!n_paths) {
            rc = usage_error("%s", "nothing to read: give a CAPTURE (pcap or pcapng)");
            goto out;
        }
        for (int i = 0; i < n_paths; i++)
            if (!strcmp(paths[i], "-"))
                c->from_stdin = 1;
        if (c->from_stdin && n_paths > 1) {
            rc = usage_error("%s", "'-' (a capture on standard input) is read alone: give no "
                                   "other CAPTURE");
            goto out;
        }
        if (c->from_stdin && isatty(STDIN_FILENO)) {
            rc = usage_error("%s", "'-' reads a capture from standard input, which is a terminal: "
                                   "pipe one in (tcpdump -w - ... | antibody pcap -)");
            goto out;
        }
    }
    if (c->sniff) {
        if (n_paths || c->n_pids || c->processes || c->connections) {
            rc = usage_error("%s", "antibody sniff reads an interface (-i IFACE): no PATH, --pid, "
                                   "--processes or --connections");
            goto out;
        }
        if (!c->live.interface) {
            rc = usage_error("%s", "antibody sniff: give the interface to capture on (-i IFACE)");
            goto out;
        }
    } else if (!n_paths && !c->n_pids && !c->processes && !c->connections) {
        rc = usage_error("%s", "nothing to scan: give a PATH, --pid, --processes or --connections");
        goto out;
    }
    if (n_paths && c->n_pids) {
        rc = usage_error("%s", "give either PATHs or --pid, not both (--processes PATH... "
                               "sweeps every process and the PATHs in one run)");
        goto out;
    }
    if (c->n_pids && (c->processes || c->connections)) {
        rc = usage_error("%s", "--pid scans the processes named: not with --processes or "
                               "--connections (which check every process or socket)");
        goto out;
    }
    if ((c->force || c->append) && !c->output) {
        rc = usage_error("%s", "--force and --append apply to --output FILE");
        goto out;
    }
    if (c->force && c->append) {
        rc = usage_error("%s", "give --force or --append, not both");
        goto out;
    }
    rc = 2;
    set_json_context(c);
    if (ab_init() != AB_OK) {
        fprintf(stderr, "antibody: error: cannot initialise libyara\n");
        goto out;
    }
    inited = 1;
    if (ab_scanner_new(&sc) != AB_OK || open_outputs(c, paths, n_paths) != 0)
        goto out;
    /* A capture is read as a stream, in bounded memory: its size is no reason to skip it (an
     * explicit --max-filesize still applies). */
    if (pcap)
        ab_scanner_set_max_filesize(sc, 0);
    if (apply_settings(sc, argc, argv) != 0 || load_content(c, sc) != 0)
        goto out;
    if (pcap) /* a capture's own bytes would only repeat its flows' matches */
        ab_scanner_set_match_top_level(sc, 0);
    if (pcap && !c->from_stdin && !(n_paths = check_captures(c, paths, n_paths))) {
        rc = 2; /* no capture at all: said above */
        goto out;
    }
    if (outputs_failed(c)) /* the load-time events could not be written */
        goto out;
    c->con.color = want_color(c);
    c->con.progress = c->progress && isatty(STDERR_FILENO);
    c->con.list_objects = c->list;
    if (c->mail_index && ab_mailindex_new(on_mail_record, c, &c->mindex) != AB_OK) {
        fprintf(stderr, "antibody: error: out of memory\n");
        goto out;
    }
    c->con.list_skipped = c->list_skipped;
    c->con.quiet = c->quiet;
    if (c->con.progress)
        ab_scanner_set_progress(sc, ab_console_progress, &c->con);
    unsigned scope = c->sniff ? AB_SCOPE_FILES : scan_scope(c, n_paths);
    /* ip/cidr IOCs are the ones connections match and processes do not */
    if (scope == AB_SCOPE_CONNECTIONS &&
        ab_scanner_ioc_count_unmatched(sc, AB_SCOPE_PROCESSES) ==
            ab_scanner_ioc_count_unmatched(sc, AB_SCOPE_PROCESSES | AB_SCOPE_CONNECTIONS)) {
        fprintf(stderr, "antibody: error: no ip or cidr IOCs loaded: --connections has nothing "
                        "to look for (give --ioc)\n");
        goto out;
    }
    report_loaded(c, sc, scope);
    if (c->nice)
        be_nice(); /* before the workers are forked: they inherit it */
    ab_sink snk = {sink, c};
    running_scanner = sc;
    install_stop_handlers();
    c->live.ready = on_listening;
    c->live.ready_ctx = c;
    ab_status st = c->sniff        ? ab_scan_live(sc, &c->live, &snk)
                   : c->from_stdin ? ab_scan_capture_stream(sc, STDIN_FILENO, "stdin", &snk)
                   : scope == AB_SCOPE_FILES
                       ? ab_scan_paths(sc, (const char *const *)paths, (size_t)n_paths, &snk)
                   : c->n_pids
                       ? ab_scan_pids(sc, c->pids, c->n_pids, 0, &snk)
                       : ab_scan_host(sc, scope, (const char *const *)paths, (size_t)n_paths, &snk);
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
    rc = 0;
out:
    finish_mail_index(c); /* a sweep that ended without a summary */
    close_outputs(c);
    if (rc == 0)
        rc = exit_status(c);
    else if (c->jdest.o.err || c->cdest.o.err)
        rc = 2;
    ab_scanner_free(sc);
    if (inited)
        ab_finish();
    ab_buf_release(&c->line);
    free(c);
    return rc;
}

int main(int argc, char **argv)
{
    /* Line-buffered: an error line is one write, not one per byte (the console escapes names
     * byte by byte); a sweep of a thousand broken attachments wrote 100,000 times. Partial lines
     * (the progress line) are flushed where they are written. */
    static char errbuf[8192];
    setvbuf(stderr, errbuf, _IOLBF, sizeof(errbuf));
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
        print_version();
        return 0;
    }
    if (!strcmp(cmd, "packs"))
        return cmd_packs(argc - 1, argv + 1);
    if (!strcmp(cmd, "scan"))
        return cmd_scan(argc - 1, argv + 1, 0);
    if (!strcmp(cmd, "pcap"))
        return cmd_scan(argc - 1, argv + 1, 1);
    if (!strcmp(cmd, "sniff"))
        return cmd_scan(argc - 1, argv + 1, 2);
    return usage_error("unknown command '%s'", cmd);
}
