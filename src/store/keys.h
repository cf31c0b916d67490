/* Redis key names. Everything about one visitor carries "{<client hash>}",
 * a keyed hash (HMAC-SHA256 with CLEANPNG_LOG_SECRET) of their address: key
 * names reveal no address, a visitor's keys are found without scanning, and
 * the braces make them one Redis Cluster hash slot.
 *
 *   cp:rl:{h}:<class>                 rate-limit counter      PX window
 *   cp:log:{h}:<kind>:<ms>-<seq>      one log entry (JSON)    PXAT time + retention
 *   cp:idx:{h}:<kind>                 zset of entry keys      PXAT newest expiry
 *                                     (score = expiry in ms)
 *   cp:erased:{h}                     time of the last erase  EX 1 day
 *   cp:budget:<upstream>:<key hash>   global upstream budget  PX window
 *   cp:search:v1:<provider>:<sha256>  search cache            EX cache TTL
 */
#ifndef CLEANPNG_STORE_KEYS_H
#define CLEANPNG_STORE_KEYS_H

#include <stddef.h>

#define CLIENT_HASH_LEN 32 /* hex characters kept of the HMAC */

/* hex HMAC-SHA256(secret, addr), first CLIENT_HASH_LEN chars, NUL-terminated */
void client_hash(const char *secret, const char *addr, char out[CLIENT_HASH_LEN + 1]);

/* A short non-reversible tag of an upstream key, for budget key names. */
void key_tag(const char *secret_key, char out[17]);

/* hex SHA-1 of data: the name Redis gives a script for EVALSHA */
void sha1_hex(const char *data, size_t len, char out[41]);

#endif
