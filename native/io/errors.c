/*
 * errors.c - flm_strerror: text for negated errno values and for FLM_E_* codes.
 */
/* No _GNU_SOURCE here: this file wants the portable XSI strerror_r, which returns int. */

#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *flm_own_text(int code)
{
    switch (code) {
    case 0:                 return "success";
    case FLM_E_BAD_ARG:     return "an argument is out of range or null";
    case FLM_E_BAD_HANDLE:  return "unknown or already closed reader handle";
    case FLM_E_PAST_EOF:    return "read extends past the end of the file";
    case FLM_E_NO_IO_URING: return "io_uring was requested but the kernel refuses it";
    case FLM_E_NO_DIRECT:   return "the filesystem does not support O_DIRECT";
    case FLM_E_NO_MEMORY:   return "an internal buffer could not be allocated";
    case FLM_E_TOO_MANY:    return "too many open readers";
    default:                return NULL;
    }
}

static void flm_errno_text(int code, char *tmp, size_t size)
{
    /* Only negated errno values are meaningful; anything else is reported as unknown. */
    if (code < 0 && code > -4096 && strerror_r(-code, tmp, size) == 0)
        return;
    snprintf(tmp, size, "unknown error %d", code);
}

FLM_EXPORT int flm_strerror(int code, char *buf, int buflen)
{
    if (buf == NULL || buflen < 1)
        return FLM_E_BAD_ARG;

    char tmp[256];
    const char *text = flm_own_text(code);
    if (text == NULL) {
        flm_errno_text(code, tmp, sizeof tmp);
        text = tmp;
    }
    /* Truncate to the caller's buffer, always NUL-terminated. */
    size_t len = strlen(text);
    if (len > (size_t)buflen - 1)
        len = (size_t)buflen - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return (int)len;
}
