/* version.c: what this build is made of, for --version and the load event. */
#include <hs.h>
#include <yara.h>

#include "antibody/antibody.h"

void ab_versions_get(ab_versions *v)
{
    if (!v)
        return;
    v->antibody = AB_VERSION;
    v->yara = YR_VERSION;
    v->vectorscan = hs_version();
}
