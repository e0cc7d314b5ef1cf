/*
 * uring_setup.h - creating rings and registering resources, shared by reader and probe.
 */
#ifndef FLM_URING_SETUP_H
#define FLM_URING_SETUP_H

#include <liburing.h>
#include <stdint.h>

int flm_uring_init(struct io_uring *ring, unsigned entries);
int flm_uring_register_file(struct io_uring *ring, int fd);
int flm_uring_register_slots(struct io_uring *ring, char *base, int64_t slot_bytes, int slots);

#endif /* FLM_URING_SETUP_H */
