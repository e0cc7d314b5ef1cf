/*
 * threads.c - starting internal threads that never receive the host's signals.
 */
#include <pthread.h>
#include <signal.h>

#include "internal.h"

/*
 * The JVM routes process signals to threads it knows; our I/O threads keep every signal
 * blocked (the mask is inherited from the creator, so it is set around pthread_create).
 */
int flm_thread_start(pthread_t *out, void *(*fn)(void *), void *arg, int64_t stack_bytes)
{
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0)
        return -rc;
    if (stack_bytes > 0)
        pthread_attr_setstacksize(&attr, (size_t)stack_bytes);

    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    rc = pthread_create(out, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);

    pthread_attr_destroy(&attr);
    return -rc;
}
