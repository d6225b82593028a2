/* Single-producer single-consumer ring of int16 audio samples: the
 * microphone interrupt (or the serial link) writes, the main loop reads.
 * Capacity is KWS_RING_SAMPLES - 1 (a power of two). */
#ifndef KWS_RING_H
#define KWS_RING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KWS_RING_SAMPLES
#define KWS_RING_SAMPLES 4096u
#endif
#if (KWS_RING_SAMPLES & (KWS_RING_SAMPLES - 1u)) != 0
#error "KWS_RING_SAMPLES must be a power of two"
#endif

typedef struct {
  int16_t data[KWS_RING_SAMPLES];
  volatile uint32_t head; /* next write, producer only */
  volatile uint32_t tail; /* next read, consumer only */
  volatile uint32_t dropped; /* samples lost because the ring was full */
} kws_ring_t;

void kws_ring_init(kws_ring_t *ring);
/* Append up to n samples; returns how many fit (the rest count as dropped). */
size_t kws_ring_write(kws_ring_t *ring, const int16_t *samples, size_t n);
/* The longest run of readable samples that is contiguous in memory. */
size_t kws_ring_peek(const kws_ring_t *ring, const int16_t **samples);
/* Mark n samples (at most what kws_ring_peek returned) as read. */
void kws_ring_consume(kws_ring_t *ring, size_t n);
size_t kws_ring_count(const kws_ring_t *ring);
/* Copy up to max samples out (peek + consume); returns how many. */
size_t kws_ring_read(kws_ring_t *ring, int16_t *dst, size_t max);

#ifdef __cplusplus
}
#endif

#endif /* KWS_RING_H */
