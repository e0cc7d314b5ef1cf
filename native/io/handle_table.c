/*
 * handle_table.c - the global table of open readers.
 *
 * Java holds plain longs, so any value may come back: stale, closed, or garbage. A handle
 * is (generation << 16 | slot) and is live only while the slot holds a reader of that
 * generation; closing bumps the generation, so an old handle never reaches a new reader.
 * The per-slot mutex serializes the calls on one reader and lives in the static table,
 * never in freed memory, so a racing close cannot pull the lock away from a waiter.
 */
#include <pthread.h>
#include <stddef.h>

#include "reader.h"

#define FLM_TABLE_SLOTS 1024 /* must stay <= 1 << 16 */

struct flm_slot {
    pthread_mutex_t lock;      /* serializes calls on the reader */
    uint64_t generation;       /* under lock */
    struct flm_reader *reader; /* under lock; NULL when the slot is empty */
    int in_use;                /* under flm_table_lock: claimed by insert, freed by remove */
};

static struct flm_slot flm_table[FLM_TABLE_SLOTS];
static pthread_mutex_t flm_table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t flm_table_once = PTHREAD_ONCE_INIT;

static void flm_table_init(void)
{
    for (int i = 0; i < FLM_TABLE_SLOTS; i++) {
        pthread_mutex_init(&flm_table[i].lock, NULL);
        flm_table[i].generation = 1; /* so that no live handle is 0 */
    }
}

/* Finds the slot a handle names, or NULL for a value no insert could have produced. */
static struct flm_slot *flm_slot_of(int64_t handle)
{
    if (handle <= 0)
        return NULL;
    uint64_t index = (uint64_t)handle & 0xffff;
    if (index >= FLM_TABLE_SLOTS)
        return NULL;
    pthread_once(&flm_table_once, flm_table_init);
    return &flm_table[index];
}

static int flm_slot_matches(const struct flm_slot *s, int64_t handle)
{
    return s->reader != NULL && s->generation == ((uint64_t)handle >> 16);
}

int flm_handles_insert(struct flm_reader *r, int64_t *out_handle)
{
    pthread_once(&flm_table_once, flm_table_init);
    int index = -1;
    pthread_mutex_lock(&flm_table_lock);
    for (int i = 0; i < FLM_TABLE_SLOTS && index < 0; i++) {
        if (!flm_table[i].in_use) {
            flm_table[i].in_use = 1;
            index = i;
        }
    }
    pthread_mutex_unlock(&flm_table_lock);
    if (index < 0)
        return FLM_E_TOO_MANY;

    struct flm_slot *s = &flm_table[index];
    pthread_mutex_lock(&s->lock);
    s->reader = r;
    *out_handle = (int64_t)(s->generation << 16 | (uint64_t)index);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

struct flm_reader *flm_handles_acquire(int64_t handle)
{
    struct flm_slot *s = flm_slot_of(handle);
    if (s == NULL)
        return NULL;
    pthread_mutex_lock(&s->lock);
    if (!flm_slot_matches(s, handle)) {
        pthread_mutex_unlock(&s->lock);
        return NULL;
    }
    return s->reader; /* still locked: flm_handles_release unlocks */
}

void flm_handles_release(int64_t handle)
{
    pthread_mutex_unlock(&flm_slot_of(handle)->lock);
}

int flm_handles_count(void)
{
    int n = 0;
    pthread_mutex_lock(&flm_table_lock);
    for (int i = 0; i < FLM_TABLE_SLOTS; i++)
        n += flm_table[i].in_use;
    pthread_mutex_unlock(&flm_table_lock);
    return n;
}

struct flm_reader *flm_handles_remove(int64_t handle)
{
    struct flm_slot *s = flm_slot_of(handle);
    if (s == NULL)
        return NULL;
    pthread_mutex_lock(&s->lock);
    struct flm_reader *r = NULL;
    if (flm_slot_matches(s, handle)) {
        r = s->reader;
        s->reader = NULL;
        s->generation++;
    }
    pthread_mutex_unlock(&s->lock);
    if (r != NULL) {
        pthread_mutex_lock(&flm_table_lock);
        s->in_use = 0;
        pthread_mutex_unlock(&flm_table_lock);
    }
    return r;
}
