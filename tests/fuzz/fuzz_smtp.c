/* fuzz_smtp.c: the SMTP parser (src/net/smtp.c) over a conversation of both directions
 * (app_fuzz.h: segments, gaps, pieces, small limits; cut differently must give the same),
 * STARTTLS into the embedded TLS parser included. Seeds in corpus/smtp/ are the sessions of
 * test_smtp (written with TLS_SEED_DIR set), one with STARTTLS and a real TLS handshake. */
#include "app_fuzz.h"
#include "net/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_app(&ab_app_smtp, data, size);
}
