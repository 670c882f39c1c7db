/* fuzz_tls.c: the TLS handshake parser (src/net/tls.c) over a conversation of both directions
 * (app_fuzz.h: segments, gaps, pieces, small limits; cut differently must give the same). Seeds
 * in corpus/tls/ are real handshakes OpenSSL made (test_tls writes them with TLS_SEED_DIR set):
 * TLS 1.2 with a client certificate, TLS 1.3, and a hand-built ClientHello with GREASE. */
#include "app_fuzz.h"
#include "net/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_app(&ab_app_tls, data, size);
}
