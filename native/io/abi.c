/* abi.c - the version handshake with the Java side. */
#include "internal.h"

FLM_EXPORT int flm_abi_version(void)
{
    return FLM_ABI_VERSION;
}
