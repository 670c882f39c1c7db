/* version.c: what this build is made of, for --version and the load record. */
#include <hs.h>
#include <string.h>
#include <yara.h>

#include "antibody/antibody.h"

void ab_versions_get(ab_versions *v)
{
    /* hs_version() is "5.4.9 2023-02-06" or "5.4.9 ": the version number is its first word. */
    static char hs[32];
    if (!v)
        return;
    if (!hs[0]) {
        size_t n = strcspn(hs_version(), " ");
        if (n >= sizeof(hs))
            n = sizeof(hs) - 1;
        memcpy(hs, hs_version(), n);
        hs[n] = '\0';
    }
    v->antibody = AB_VERSION;
    v->yara = YR_VERSION;
    v->vectorscan = hs;
}
