/* object.c: helpers shared by all sources and matchers. */
#include "core/object.h"

void ab_object_info_fill(ab_object_info *info, const ab_object *obj)
{
    info->path = obj->path;
    info->location = obj->location;
    info->location_source = obj->location_source;
    info->location_len = obj->location_len;
    info->member_mtime = obj->member_mtime;
    info->member_mode = obj->member_mode;
    info->observable_type = obj->observable_type;
    info->observable_value = obj->observable_value;
    info->observable_where = obj->observable_where;
    info->observables_len = obj->observables_len;
    info->mail = obj->mail;
    info->flow = obj->flow;
    info->size = obj->size;
    info->md5 = obj->hashed ? obj->md5 : NULL;
    info->sha1 = obj->hashed ? obj->sha1 : NULL;
    info->sha256 = obj->hashed ? obj->sha256 : NULL;
    info->pid = obj->pid;
    info->process_name = obj->process_name;
    info->cmdline = obj->cmdline;
    info->exe = obj->exe;
    info->exe_deleted = obj->exe_deleted;
    info->ppid = obj->ppid;
    info->user = obj->user;
    info->start_time = obj->start_time;
    info->has_file = obj->st != NULL && obj->pid <= 0;
    if (!info->has_file)
        return;
    const struct stat *st = obj->st;
    info->mode = (uint32_t)st->st_mode;
    info->owner = obj->owner;
    info->group = obj->group;
    info->filetype = obj->filetype;
    info->mtime = (double)st->st_mtim.tv_sec + st->st_mtim.tv_nsec / 1e9;
    info->ctime = (double)st->st_ctim.tv_sec + st->st_ctim.tv_nsec / 1e9;
    info->atime = (double)st->st_atim.tv_sec + st->st_atim.tv_nsec / 1e9;
}

const char *ab_severity_for_score(int score)
{
    if (score >= 90)
        return "critical";
    if (score >= 75)
        return "high";
    if (score >= 50)
        return "medium";
    if (score >= 25)
        return "low";
    return "info";
}
