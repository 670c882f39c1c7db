/* net.c: what the network stages share (net.h). */
#include "net/net.h"

void ab_net_limits_default(ab_net_limits *l)
{
    l->max_body = (size_t)1 << 20;
    l->max_line = (size_t)16 << 10;
    l->max_headers = 256;
    l->max_tx = 10000;
    l->max_cert_size = (size_t)64 << 10;
}
