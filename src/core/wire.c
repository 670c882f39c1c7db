/* wire.c: encoding and bounded decoding of parent/worker messages. */
#include "core/wire.h"
#include "core/jsoncheck.h"
#include "core/object.h"

#include <stddef.h>
#include <string.h>

void ab_wire_begin(ab_buf *b, uint8_t type)
{
    ab_buf_reset(b);
    ab_wire_u32(b, 0); /* patched by ab_wire_finish */
    ab_wire_u8(b, type);
}

void ab_wire_u8(ab_buf *b, uint8_t v)
{
    ab_buf_add(b, &v, 1);
}

void ab_wire_u32(ab_buf *b, uint32_t v)
{
    ab_buf_add(b, &v, 4); /* host order: both ends are the same binary on the same machine */
}

void ab_wire_u64(ab_buf *b, uint64_t v)
{
    ab_buf_add(b, &v, 8);
}

void ab_wire_str(ab_buf *b, const char *s)
{
    if (!s) {
        ab_wire_u32(b, 0);
        return;
    }
    size_t n = strlen(s) + 1;
    if (n > AB_WIRE_MAX_FRAME) {
        ab_wire_u32(b, 1); /* an absurd string becomes "" rather than a broken frame */
        ab_wire_u8(b, 0);
        return;
    }
    ab_wire_u32(b, (uint32_t)n);
    ab_buf_add(b, s, n);
}

ab_status ab_wire_finish(ab_buf *b)
{
    if (b->len < 5 || b->len - 5 > AB_WIRE_MAX_FRAME)
        return AB_ERR_LIMIT;
    uint32_t n = (uint32_t)(b->len - 5);
    memcpy(b->data, &n, 4);
    return AB_OK;
}

static const uint8_t *take(ab_wire_reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

uint8_t ab_wire_get_u8(ab_wire_reader *r)
{
    const uint8_t *p = take(r, 1);
    return p ? *p : 0;
}

uint32_t ab_wire_get_u32(ab_wire_reader *r)
{
    uint32_t v = 0;
    const uint8_t *p = take(r, 4);
    if (p)
        memcpy(&v, p, 4);
    return v;
}

uint64_t ab_wire_get_u64(ab_wire_reader *r)
{
    uint64_t v = 0;
    const uint8_t *p = take(r, 8);
    if (p)
        memcpy(&v, p, 8);
    return v;
}

const char *ab_wire_get_str(ab_wire_reader *r)
{
    uint32_t n = ab_wire_get_u32(r);
    if (n == 0)
        return NULL;
    const uint8_t *p = take(r, n);
    if (!p || p[n - 1] != '\0') {
        r->bad = 1;
        return NULL;
    }
    return (const char *)p;
}

void ab_wire_bytes(ab_buf *b, const void *p, uint32_t n)
{
    ab_wire_u32(b, n);
    ab_buf_add(b, p, n);
}

const uint8_t *ab_wire_get_bytes(ab_wire_reader *r, uint32_t *n)
{
    *n = ab_wire_get_u32(r);
    return take(r, *n);
}

/* An array count, bounded; excess elements are rejected as a bad frame. */
static uint32_t get_count(ab_wire_reader *r)
{
    uint32_t n = ab_wire_get_u32(r);
    if (n > AB_WIRE_MAX_ARRAY) {
        r->bad = 1;
        return 0;
    }
    return n;
}

void ab_wire_put_location(ab_buf *b, const char *const *loc, const char *const *src, size_t n)
{
    if (n > AB_WIRE_MAX_ARRAY)
        n = AB_WIRE_MAX_ARRAY; /* unreachable: AB_MAX_LOCATION < AB_WIRE_MAX_ARRAY */
    ab_wire_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        ab_wire_str(b, loc[i]);
        ab_wire_str(b, src ? src[i] : NULL);
    }
}

static int is_token(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
              s[i] == '_' || s[i] == '-'))
            return 0;
    return i > 0 && i <= 32;
}

void ab_wire_get_location(ab_wire_reader *r, const char **loc, const char **src, size_t *n)
{
    uint32_t nl = get_count(r);
    for (uint32_t i = 0; i < nl; i++) {
        loc[i] = ab_wire_get_str(r);
        src[i] = ab_wire_get_str(r);
        if (!loc[i] || (src[i] && !is_token(src[i])))
            r->bad = 1;
    }
    *n = r->bad ? 0 : nl;
}

/* [u8 present] then message_id, date, date_epoch, from, to, subject, part. */
static void put_mail(ab_buf *b, const ab_mail_info *m)
{
    ab_wire_u8(b, m ? 1 : 0);
    if (!m)
        return;
    ab_wire_str(b, m->message_id);
    ab_wire_str(b, m->date);
    ab_buf_add(b, &m->date_epoch, sizeof(double));
    ab_wire_str(b, m->from);
    ab_wire_str(b, m->to);
    ab_wire_str(b, m->subject);
    ab_wire_str(b, m->part);
    ab_wire_u32(b, m->depth);
}

/* A "where" token from a worker: short, printable ASCII. */
static int is_where(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return i > 0 && i <= 32;
}

static double get_time(ab_wire_reader *r);

static const ab_mail_info *get_mail(ab_wire_reader *r, ab_mail_info *m)
{
    uint8_t present = ab_wire_get_u8(r);
    if (present > 1)
        r->bad = 1;
    if (present != 1)
        return NULL;
    m->message_id = ab_wire_get_str(r);
    m->date = ab_wire_get_str(r);
    m->date_epoch = get_time(r);
    m->from = ab_wire_get_str(r);
    m->to = ab_wire_get_str(r);
    m->subject = ab_wire_get_str(r);
    m->part = ab_wire_get_str(r);
    m->depth = ab_wire_get_u32(r);
    if (m->depth >= AB_MAX_LOCATION)
        r->bad = 1; /* checked against the location's length by the caller */
    return m;
}

/* [u8 present] then id, start, time, proto, src_ip, src_port, dest_ip, dest_port, direction,
 * app_proto, vlan. */
static void put_flow(ab_buf *b, const ab_flow_info *f)
{
    ab_wire_u8(b, f ? 1 : 0);
    if (!f)
        return;
    ab_wire_u64(b, f->id);
    ab_buf_add(b, &f->start, sizeof(double));
    ab_buf_add(b, &f->time, sizeof(double));
    ab_wire_str(b, f->proto);
    ab_wire_str(b, f->src_ip);
    ab_wire_u32(b, f->src_port);
    ab_wire_str(b, f->dest_ip);
    ab_wire_u32(b, f->dest_port);
    ab_wire_str(b, f->direction);
    ab_wire_str(b, f->app_proto);
    ab_wire_u32(b, f->vlan);
}

/* An address as text: [0-9a-fA-F.:], 2..45 bytes. */
static int is_ip_text(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!strchr("0123456789abcdefABCDEF.:", s[i]))
            return 0;
    return i >= 2 && i <= 45;
}

static const ab_flow_info *get_flow(ab_wire_reader *r, ab_flow_info *f)
{
    uint8_t present = ab_wire_get_u8(r);
    if (present > 1)
        r->bad = 1;
    if (present != 1)
        return NULL;
    f->id = ab_wire_get_u64(r);
    f->start = get_time(r);
    f->time = get_time(r);
    f->proto = ab_wire_get_str(r);
    f->src_ip = ab_wire_get_str(r);
    uint32_t sp = ab_wire_get_u32(r);
    f->dest_ip = ab_wire_get_str(r);
    uint32_t dp = ab_wire_get_u32(r);
    f->direction = ab_wire_get_str(r);
    f->app_proto = ab_wire_get_str(r);
    uint32_t vlan = ab_wire_get_u32(r);
    if (sp > 65535 || dp > 65535 || vlan > 4095 || !f->proto || !is_token(f->proto) || !f->src_ip ||
        !is_ip_text(f->src_ip) || !f->dest_ip || !is_ip_text(f->dest_ip) ||
        (f->direction && strcmp(f->direction, "to_server") && strcmp(f->direction, "to_client")) ||
        (f->app_proto && !is_token(f->app_proto)))
        r->bad = 1;
    f->src_port = (uint16_t)sp;
    f->dest_port = (uint16_t)dp;
    f->vlan = (uint16_t)vlan;
    return f;
}

void ab_wire_put_object(ab_buf *b, const ab_object_info *o)
{
    ab_wire_str(b, o->path);
    ab_wire_put_location(b, o->location, o->location_source, o->location_len);
    ab_wire_u64(b, o->size);
    ab_wire_str(b, o->md5);
    ab_wire_str(b, o->sha1);
    ab_wire_str(b, o->sha256);
    ab_wire_u64(b, (uint64_t)(int64_t)o->pid);
    ab_wire_str(b, o->process_name);
    ab_wire_str(b, o->cmdline);
    if (o->pid > 0) {
        ab_wire_str(b, o->exe);
        ab_wire_u8(b, o->exe_deleted ? 1 : 0);
        ab_wire_u32(b, (uint32_t)o->ppid);
        ab_wire_str(b, o->user);
        ab_buf_add(b, &o->start_time, sizeof(double));
    }
    double mt = o->member_mtime;
    ab_buf_add(b, &mt, sizeof(double));
    ab_wire_u32(b, o->member_mode);
    size_t no =
        o->observables_len > AB_MAX_OBSERVABLES_WIRE ? AB_MAX_OBSERVABLES_WIRE : o->observables_len;
    ab_wire_u32(b, (uint32_t)no);
    for (size_t i = 0; i < no; i++) {
        ab_wire_str(b, o->observable_type[i]);
        ab_wire_str(b, o->observable_value[i]);
        ab_wire_str(b, o->observable_where ? o->observable_where[i] : NULL);
    }
    put_mail(b, o->mail);
    put_flow(b, o->flow);
    ab_wire_u8(b, o->has_file ? 1 : 0);
    if (!o->has_file)
        return;
    ab_wire_u32(b, o->mode);
    ab_wire_str(b, o->owner);
    ab_wire_str(b, o->group);
    ab_wire_str(b, o->filetype);
    double t[3] = {o->mtime, o->ctime, o->atime};
    ab_buf_add(b, t, sizeof(t));
}

/* Lower-case hex of exactly n digits (a digest from a worker, printed as is). */
static int is_hex(const char *s, size_t n)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == n;
}

/* A time from a worker: finite, after the epoch and before the year 5138, else unknown (0). */
static double get_time(ab_wire_reader *r)
{
    double t = 0;
    const uint8_t *p = take(r, sizeof(double));
    if (p)
        memcpy(&t, p, sizeof(double));
    return t == t && t > 0 && t < 1e11 ? t : 0;
}

void ab_wire_get_object(ab_wire_reader *r, ab_object_info *o, ab_wire_arrays *a)
{
    memset(o, 0, sizeof(*o));
    o->path = ab_wire_get_str(r);
    size_t nl = 0;
    ab_wire_get_location(r, a->location, a->location_source, &nl);
    o->location = a->location;
    o->location_source = a->location_source;
    o->location_len = nl;
    o->size = ab_wire_get_u64(r);
    o->md5 = ab_wire_get_str(r);
    o->sha1 = ab_wire_get_str(r);
    o->sha256 = ab_wire_get_str(r);
    if ((o->md5 || o->sha1 || o->sha256) &&
        !(o->md5 && o->sha1 && o->sha256 && is_hex(o->md5, 32) && is_hex(o->sha1, 40) &&
          is_hex(o->sha256, 64)))
        r->bad = 1; /* all three digests or none */
    o->pid = (pid_t)(int64_t)ab_wire_get_u64(r);
    o->process_name = ab_wire_get_str(r);
    o->cmdline = ab_wire_get_str(r);
    if (o->pid > 0) {
        o->exe = ab_wire_get_str(r);
        o->exe_deleted = ab_wire_get_u8(r) == 1;
        uint32_t pp = ab_wire_get_u32(r);
        o->ppid = pp < (1u << 22) ? (pid_t)pp : 0;
        o->user = ab_wire_get_str(r);
        o->start_time = get_time(r);
    }
    o->member_mtime = get_time(r);
    o->member_mode = ab_wire_get_u32(r);
    uint32_t no = ab_wire_get_u32(r);
    if (no > AB_MAX_OBSERVABLES_WIRE) {
        r->bad = 1;
        no = 0;
    }
    for (uint32_t i = 0; i < no; i++) {
        a->obs_type[i] = ab_wire_get_str(r);
        a->obs_value[i] = ab_wire_get_str(r);
        a->obs_where[i] = ab_wire_get_str(r);
        if (!a->obs_type[i] || !a->obs_value[i] || !is_token(a->obs_type[i]) ||
            (a->obs_where[i] && !is_where(a->obs_where[i])))
            r->bad = 1;
    }
    o->observable_type = a->obs_type;
    o->observable_value = a->obs_value;
    o->observable_where = a->obs_where;
    o->observables_len = no;
    o->mail = get_mail(r, &a->mail);
    if (o->mail && o->mail->depth >= nl)
        r->bad = 1;
    o->flow = get_flow(r, &a->flow);
    o->has_file = ab_wire_get_u8(r) == 1;
    if (o->has_file) {
        o->mode = ab_wire_get_u32(r);
        o->owner = ab_wire_get_str(r);
        o->group = ab_wire_get_str(r);
        o->filetype = ab_wire_get_str(r);
        o->mtime = get_time(r);
        o->ctime = get_time(r);
        o->atime = get_time(r);
    }
    if (!o->path || nl == 0)
        r->bad = 1;
}

/* Levels travel as an index into this table, so the parent never points into worker bytes. */
static const char *const levels[] = {"info", "notice", "warning", "alert"};

static uint8_t level_code(const char *level)
{
    for (uint8_t i = 0; level && i < 4; i++)
        if (!strcmp(level, levels[i]))
            return i;
    return 0;
}

static void put_verdict_and_strings(ab_buf *b, const ab_finding *f)
{
    size_t ns = f->strings_len > AB_MAX_STRING_MATCHES ? AB_MAX_STRING_MATCHES : f->strings_len;
    ab_wire_u32(b, (uint32_t)f->object_score);
    ab_wire_u8(b, level_code(f->level));
    ab_wire_u32(b, (uint32_t)ns);
    for (size_t i = 0; i < ns; i++) {
        const ab_string_match *m = &f->strings[i];
        uint32_t dl = m->data_len > AB_MATCH_DATA_MAX ? AB_MATCH_DATA_MAX : m->data_len;
        ab_wire_str(b, m->identifier);
        ab_wire_u64(b, m->offset);
        ab_wire_u32(b, m->length);
        ab_wire_bytes(b, m->data, dl);
        ab_wire_str(b, m->region);
    }
    ab_wire_u64(b, f->strings_omitted + (f->strings_len - ns));
}

static void get_verdict_and_strings(ab_wire_reader *r, ab_finding *f, ab_wire_arrays *a)
{
    uint32_t score = ab_wire_get_u32(r);
    uint8_t lv = ab_wire_get_u8(r);
    f->object_score = score > 100 ? 100 : (int)score;
    f->level = levels[lv < 4 ? lv : 0];
    uint32_t ns = ab_wire_get_u32(r);
    if (ns > AB_MAX_STRING_MATCHES) {
        r->bad = 1;
        return;
    }
    for (uint32_t i = 0; i < ns; i++) {
        ab_string_match *m = &a->strings[i];
        m->identifier = ab_wire_get_str(r);
        m->offset = ab_wire_get_u64(r);
        m->length = ab_wire_get_u32(r);
        m->data = ab_wire_get_bytes(r, &m->data_len);
        m->region = ab_wire_get_str(r);
        if (!m->identifier || m->data_len > AB_MATCH_DATA_MAX)
            r->bad = 1;
    }
    f->strings = ns ? a->strings : NULL;
    f->strings_len = ns;
    f->strings_omitted = ab_wire_get_u64(r);
}

void ab_wire_put_finding(ab_buf *b, const ab_finding *f)
{
    size_t nt = f->tags_len > AB_WIRE_MAX_ARRAY ? AB_WIRE_MAX_ARRAY : f->tags_len;
    size_t nm = f->meta_len > AB_WIRE_MAX_ARRAY ? AB_WIRE_MAX_ARRAY : f->meta_len;
    ab_wire_put_object(b, &f->obj);
    ab_wire_u8(b, (uint8_t)f->matcher);
    ab_wire_u32(b, (uint32_t)f->score);
    ab_wire_str(b, f->rule);
    ab_wire_str(b, f->rule_namespace);
    ab_wire_str(b, f->description);
    ab_wire_str(b, f->family);
    ab_wire_str(b, f->reason);
    ab_wire_u32(b, (uint32_t)nt);
    for (size_t i = 0; i < nt; i++)
        ab_wire_str(b, f->tags[i]);
    ab_wire_u32(b, (uint32_t)nm);
    for (size_t i = 0; i < nm; i++) {
        ab_wire_str(b, f->meta[i].key);
        ab_wire_str(b, f->meta[i].str);
        ab_wire_u8(b, (uint8_t)((f->meta[i].is_int ? 1 : 0) | (f->meta[i].is_bool ? 2 : 0)));
        ab_wire_u64(b, (uint64_t)f->meta[i].ival);
    }
    ab_wire_str(b, f->value);
    ab_wire_str(b, f->value_type);
    ab_wire_str(b, f->where);
    put_verdict_and_strings(b, f);
}

void ab_wire_get_finding(ab_wire_reader *r, ab_finding *f, ab_wire_arrays *a)
{
    memset(f, 0, sizeof(*f));
    ab_wire_get_object(r, &f->obj, a);
    f->matcher = (ab_matcher_kind)ab_wire_get_u8(r);
    uint32_t score = ab_wire_get_u32(r);
    f->score = score > 100 ? 100 : (int)score;
    f->rule = ab_wire_get_str(r);
    f->rule_namespace = ab_wire_get_str(r);
    f->description = ab_wire_get_str(r);
    f->family = ab_wire_get_str(r);
    f->reason = ab_wire_get_str(r);
    uint32_t nt = get_count(r);
    for (uint32_t i = 0; i < nt; i++)
        if (!(a->tags[i] = ab_wire_get_str(r)))
            r->bad = 1;
    f->tags = a->tags;
    f->tags_len = nt;
    uint32_t nm = get_count(r);
    for (uint32_t i = 0; i < nm; i++) {
        ab_meta *m = &a->meta[i];
        m->key = ab_wire_get_str(r);
        m->str = ab_wire_get_str(r);
        uint8_t fl = ab_wire_get_u8(r);
        m->is_int = fl & 1;
        m->is_bool = (fl & 2) != 0;
        m->ival = (int64_t)ab_wire_get_u64(r);
        if (!m->key)
            r->bad = 1;
    }
    f->meta = a->meta;
    f->meta_len = nm;
    f->value = ab_wire_get_str(r);
    f->value_type = ab_wire_get_str(r);
    f->where = ab_wire_get_str(r);
    if ((f->value_type && !is_token(f->value_type)) || (f->where && !is_where(f->where)))
        r->bad = 1;
    get_verdict_and_strings(r, f, a);
    f->severity = ab_severity_for_score(f->score);
    if (!f->rule)
        r->bad = 1;
}

/* ---- jobs and splits ---- */

static int part_ok(const ab_wire_part *p, uint64_t size)
{
    return p->len && p->off <= size && p->len <= size - p->off && p->first;
}

static void put_skip_flows(ab_buf *b, const ab_wire_job *j)
{
    uint8_t n = j->n_skip_flows > AB_MAX_SKIP_FLOWS ? AB_MAX_SKIP_FLOWS : j->n_skip_flows;
    ab_wire_u8(b, n);
    for (uint8_t i = 0; i < n; i++) {
        const ab_flow_key *k = &j->skip_flows[i];
        ab_buf_add(b, k->a.b, sizeof(k->a.b));
        ab_buf_add(b, k->b.b, sizeof(k->b.b));
        ab_buf_add(b, &k->pa, 2);
        ab_buf_add(b, &k->pb, 2);
        ab_wire_u8(b, k->proto);
    }
}

static void get_skip_flows(ab_wire_reader *r, ab_wire_job *j)
{
    j->n_skip_flows = ab_wire_get_u8(r);
    if (j->n_skip_flows > AB_MAX_SKIP_FLOWS) {
        r->bad = 1;
        j->n_skip_flows = 0;
        return;
    }
    for (uint8_t i = 0; i < j->n_skip_flows; i++) {
        ab_flow_key *k = &j->skip_flows[i];
        const uint8_t *p = take(r, 2 * sizeof(k->a.b) + 4);
        if (!p) {
            j->n_skip_flows = 0;
            return;
        }
        memcpy(k->a.b, p, sizeof(k->a.b));
        memcpy(k->b.b, p + 16, sizeof(k->b.b));
        memcpy(&k->pa, p + 32, 2);
        memcpy(&k->pb, p + 34, 2);
        k->proto = ab_wire_get_u8(r);
    }
}

/* ---- jobs: a header, then each kind's payload through its codec ---- */

static void put_part(ab_buf *b, const ab_wire_job *j)
{
    ab_wire_u64(b, j->file_size);
    ab_wire_u64(b, j->part.off);
    ab_wire_u64(b, j->part.len);
    ab_wire_u64(b, j->part.first);
}

static int get_part(ab_wire_reader *r, ab_wire_job *j)
{
    j->file_size = ab_wire_get_u64(r);
    j->part.off = ab_wire_get_u64(r);
    j->part.len = ab_wire_get_u64(r);
    j->part.first = ab_wire_get_u64(r);
    return part_ok(&j->part, j->file_size);
}

static void put_live(ab_buf *b, const ab_wire_job *j)
{
    ab_wire_u64(b, j->restarts);
    ab_wire_u8(b, j->stream);
    put_skip_flows(b, j);
}

/* "live:IFACE", or a capture stream's name (anything but ""). */
static int get_live(ab_wire_reader *r, ab_wire_job *j)
{
    j->restarts = ab_wire_get_u64(r);
    j->stream = ab_wire_get_u8(r);
    get_skip_flows(r, j);
    return j->path && j->stream <= 1 && j->path[0] &&
           (j->stream || (!strncmp(j->path, "live:", 5) && j->path[5]));
}

static void put_resume(ab_buf *b, const ab_wire_job *j)
{
    ab_wire_u64(b, j->file_size);
    ab_wire_u64(b, j->skip);
    ab_wire_u64(b, j->resumes);
    put_skip_flows(b, j);
}

static int get_resume(ab_wire_reader *r, ab_wire_job *j)
{
    j->file_size = ab_wire_get_u64(r);
    j->skip = ab_wire_get_u64(r);
    j->resumes = ab_wire_get_u64(r);
    get_skip_flows(r, j);
    return ab_wire_resume_ok(j);
}

/* What each kind carries after the header, and its check on decoding (0: refused). A kind with no
 * payload has neither; a kind not here is refused. A new kind is a row here and a runner in the
 * worker (pool.c w_jobs), not a case in either. */
typedef struct job_codec {
    uint8_t kind;
    void (*put)(ab_buf *b, const ab_wire_job *j);
    int (*get)(ab_wire_reader *r, ab_wire_job *j);
} job_codec;

static const job_codec job_codecs[] = {
    {AB_JOB_FILE, NULL, NULL},
    {AB_JOB_PROC, NULL, NULL},
    {AB_JOB_PART, put_part, get_part},
    {AB_JOB_LIVE, put_live, get_live},
    {AB_JOB_RESUME, put_resume, get_resume},
};

static const job_codec *job_codec_of(uint8_t kind)
{
    for (size_t i = 0; i < sizeof(job_codecs) / sizeof(job_codecs[0]); i++)
        if (job_codecs[i].kind == kind)
            return &job_codecs[i];
    return NULL;
}

void ab_wire_put_job(ab_buf *b, const ab_wire_job *j)
{
    ab_wire_u8(b, j->kind);
    ab_wire_u64(b, j->dev);
    ab_wire_u64(b, j->ino);
    ab_wire_u32(b, j->pid);
    ab_wire_str(b, j->path);
    const job_codec *c = job_codec_of(j->kind);
    if (c && c->put)
        c->put(b, j);
}

/* A resume names the file by identity (checked again when it is mapped) and a point inside it:
 * every frame takes at least its 16-byte record header, so a skip past size / 16 is no point of
 * this file. */
int ab_wire_resume_ok(const ab_wire_job *j)
{
    return j->ino && j->file_size && j->skip >= 1 && j->skip <= j->file_size / 16 &&
           j->resumes >= 1 && j->resumes <= AB_WIRE_MAX_RESUMES;
}

void ab_wire_get_job(ab_wire_reader *r, ab_wire_job *j)
{
    memset(j, 0, sizeof(*j));
    j->kind = ab_wire_get_u8(r);
    j->dev = ab_wire_get_u64(r);
    j->ino = ab_wire_get_u64(r);
    j->pid = ab_wire_get_u32(r);
    j->path = ab_wire_get_str(r);
    const job_codec *c = job_codec_of(j->kind);
    if (!c || !j->path || (c->get && !c->get(r, j)))
        r->bad = 1;
}

void ab_wire_put_split(ab_buf *b, uint64_t file_size, const ab_wire_part *parts, size_t n)
{
    ab_wire_u64(b, file_size);
    ab_wire_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        ab_wire_u64(b, parts[i].off);
        ab_wire_u64(b, parts[i].len);
        ab_wire_u64(b, parts[i].first);
    }
}

void ab_wire_get_split(ab_wire_reader *r, uint64_t *file_size, ab_wire_part *parts, size_t *n)
{
    *n = 0;
    *file_size = ab_wire_get_u64(r);
    uint32_t k = ab_wire_get_u32(r);
    if (r->bad || k == 0 || k > AB_WIRE_MAX_PARTS) {
        r->bad = 1;
        return;
    }
    for (uint32_t i = 0; i < k && !r->bad; i++) {
        ab_wire_part *p = &parts[i];
        p->off = ab_wire_get_u64(r);
        p->len = ab_wire_get_u64(r);
        p->first = ab_wire_get_u64(r);
        if (!part_ok(p, *file_size) ||
            (i && (p->off < parts[i - 1].off + parts[i - 1].len || p->first <= parts[i - 1].first)))
            r->bad = 1;
    }
    if (!r->bad)
        *n = k;
}

/* ---- flow records ---- */

void ab_wire_put_record(ab_buf *b, const ab_flow_record *rec)
{
    ab_wire_str(b, rec->path);
    ab_wire_put_location(b, rec->location, rec->location_source, rec->location_len);
    put_flow(b, rec->flow);
    ab_wire_str(b, rec->type);
    ab_wire_bytes(b, rec->json, (uint32_t)rec->json_len);
}

void ab_wire_get_record(ab_wire_reader *r, ab_flow_record *rec, ab_wire_arrays *a)
{
    memset(rec, 0, sizeof(*rec));
    rec->path = ab_wire_get_str(r);
    size_t nl = 0;
    ab_wire_get_location(r, a->location, a->location_source, &nl);
    rec->location = a->location;
    rec->location_source = a->location_source;
    rec->location_len = nl;
    rec->flow = get_flow(r, &a->flow);
    rec->type = ab_wire_get_str(r);
    uint32_t n = 0;
    rec->json = (const char *)ab_wire_get_bytes(r, &n);
    rec->json_len = n;
    if (!rec->path || !nl || !rec->flow || !rec->type || !is_token(rec->type) || !rec->json ||
        !ab_json_check_object(rec->json, rec->json_len))
        r->bad = 1;
}

/* ---- frames of a live capture ---- */

#define FRAME_HDR 20 /* ts_us, linktype, caplen, wirelen */

void ab_wire_frames_begin(ab_buf *b)
{
    ab_wire_begin(b, AB_MSG_FRAMES);
    ab_wire_u32(b, 0); /* the count, patched by each add */
}

uint32_t ab_wire_frames_count(const ab_buf *b)
{
    uint32_t n = 0;
    if (b->len >= 9)
        memcpy(&n, b->data + 5, 4);
    return n;
}

static int pkt_ok(const ab_wire_pkt *p)
{
    return p->caplen <= AB_WIRE_MAX_CAPLEN && p->wirelen >= p->caplen && p->linktype < 65536;
}

int ab_wire_frames_add(ab_buf *b, const ab_wire_pkt *p)
{
    uint32_t n = ab_wire_frames_count(b);
    if (b->len < 9 || n >= AB_WIRE_MAX_FRAMES || !pkt_ok(p) ||
        b->len - 5 + FRAME_HDR + (size_t)p->caplen > AB_WIRE_MAX_FRAME ||
        ab_buf_reserve(b, FRAME_HDR + (size_t)p->caplen) != AB_OK)
        return -1; /* reserved: the appends below cannot fail half-way */
    ab_wire_u64(b, p->ts_us);
    ab_wire_u32(b, p->linktype);
    ab_wire_u32(b, p->caplen);
    ab_wire_u32(b, p->wirelen);
    ab_buf_add(b, p->data, p->caplen);
    n++;
    memcpy(b->data + 5, &n, 4);
    return 0;
}

uint32_t ab_wire_get_frames_count(ab_wire_reader *r)
{
    uint32_t n = ab_wire_get_u32(r);
    if (n == 0 || n > AB_WIRE_MAX_FRAMES) {
        r->bad = 1;
        return 0;
    }
    return r->bad ? 0 : n;
}

void ab_wire_get_pkt(ab_wire_reader *r, ab_wire_pkt *p)
{
    memset(p, 0, sizeof(*p));
    p->ts_us = ab_wire_get_u64(r);
    p->linktype = ab_wire_get_u32(r);
    p->caplen = ab_wire_get_u32(r);
    p->wirelen = ab_wire_get_u32(r);
    if (r->bad || !pkt_ok(p)) {
        r->bad = 1;
        return;
    }
    p->data = take(r, p->caplen);
}

void ab_wire_frames_end(ab_wire_reader *r)
{
    if (r->p != r->end)
        r->bad = 1;
}

/* ---- capture counters ---- */

static const size_t net_fields[] = {
    offsetof(ab_net_summary, captures),      offsetof(ab_net_summary, frames),
    offsetof(ab_net_summary, bytes),         offsetof(ab_net_summary, packets),
    offsetof(ab_net_summary, malformed),     offsetof(ab_net_summary, truncated),
    offsetof(ab_net_summary, flows),         offsetof(ab_net_summary, peak_flows),
    offsetof(ab_net_summary, flows_evicted), offsetof(ab_net_summary, flows_memcap),
    offsetof(ab_net_summary, flows_timeout), offsetof(ab_net_summary, gaps),
    offsetof(ab_net_summary, gap_bytes),     offsetof(ab_net_summary, ooo_dropped),
    offsetof(ab_net_summary, fragments),     offsetof(ab_net_summary, frag_dropped),
    offsetof(ab_net_summary, depth_cut),     offsetof(ab_net_summary, memcap_cut),
    offsetof(ab_net_summary, parser_errors),
};
_Static_assert(sizeof(net_fields) / sizeof(net_fields[0]) == AB_WIRE_NET_FIELDS,
               "every ab_net_summary field on the wire");
_Static_assert(sizeof(ab_net_summary) == AB_WIRE_NET_FIELDS * sizeof(uint64_t),
               "a new ab_net_summary field needs its place on the wire");

void ab_wire_put_net(ab_buf *b, const ab_net_summary *s)
{
    ab_wire_u32(b, AB_WIRE_NET_FIELDS);
    for (size_t i = 0; i < AB_WIRE_NET_FIELDS; i++) {
        uint64_t v;
        memcpy(&v, (const char *)s + net_fields[i], sizeof(v));
        ab_wire_u64(b, v);
    }
}

/* a + b + c <= max without wrapping */
static int sum_le(uint64_t a, uint64_t b, uint64_t c, uint64_t max)
{
    return a <= max && b <= max - a && c <= max - a - b;
}

void ab_wire_get_net(ab_wire_reader *r, ab_net_summary *s)
{
    memset(s, 0, sizeof(*s));
    if (ab_wire_get_u32(r) != AB_WIRE_NET_FIELDS) {
        r->bad = 1;
        return;
    }
    for (size_t i = 0; i < AB_WIRE_NET_FIELDS && !r->bad; i++) {
        uint64_t v = ab_wire_get_u64(r);
        memcpy((char *)s + net_fields[i], &v, sizeof(v));
    }
    uint64_t two_per_flow = s->flows > UINT64_MAX / 2 ? UINT64_MAX : 2 * s->flows;
    if (r->bad || !s->captures || s->packets > s->frames || s->malformed > s->frames ||
        s->truncated > s->frames || s->fragments > s->frames || s->peak_flows > s->flows ||
        !sum_le(s->flows_evicted, s->flows_memcap, s->flows_timeout, s->flows) ||
        s->depth_cut > two_per_flow || s->memcap_cut > two_per_flow ||
        s->parser_errors > s->flows) {
        r->bad = 1;
        memset(s, 0, sizeof(*s));
    }
}
