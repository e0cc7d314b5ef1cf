/*
 * export.h - the one mark that puts a function into libflashlm.so's dynamic symbol table.
 *
 * Everything is compiled with -fvisibility=hidden, so only functions that carry FLM_EXPORT are
 * exported (and the version script, flashlm.map, further limits those to flm_*). Only the ABI of
 * include/flashlm.h carries it; one definition keeps io/, kernels/ and pack/ from drifting apart.
 */
#ifndef FLASHLM_EXPORT_H
#define FLASHLM_EXPORT_H

#define FLM_EXPORT __attribute__((visibility("default")))

#endif /* FLASHLM_EXPORT_H */
