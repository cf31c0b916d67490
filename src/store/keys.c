#include "store/keys.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <string.h>

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void client_hash(const char *secret, const char *addr, char out[CLIENT_HASH_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)addr, strlen(addr), md,
         &len);
    hex(md, CLIENT_HASH_LEN / 2, out);
}

void key_tag(const char *secret_key, char out[17])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)secret_key, strlen(secret_key), md);
    hex(md, 8, out);
}

void sha1_hex(const char *data, size_t len, char out[41])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)data, len, md);
    hex(md, SHA_DIGEST_LENGTH, out);
}
