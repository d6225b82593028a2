/* int16 sample ring (see kws_ring.h). Indices run freely and are masked on
 * access, so head - tail is always the fill level. */
#include "kws_ring.h"

#define MASK (KWS_RING_SAMPLES - 1u)

void kws_ring_init(kws_ring_t *ring)
{
  ring->head = 0;
  ring->tail = 0;
  ring->dropped = 0;
}

size_t kws_ring_count(const kws_ring_t *ring)
{
  return (size_t)(ring->head - ring->tail);
}

size_t kws_ring_write(kws_ring_t *ring, const int16_t *samples, size_t n)
{
  size_t room = (KWS_RING_SAMPLES - 1u) - kws_ring_count(ring);
  size_t take = n < room ? n : room;
  uint32_t head = ring->head;
  for (size_t i = 0; i < take; i++) {
    ring->data[(head + i) & MASK] = samples[i];
  }
  ring->head = head + (uint32_t)take;
  ring->dropped += (uint32_t)(n - take);
  return take;
}

size_t kws_ring_peek(const kws_ring_t *ring, const int16_t **samples)
{
  uint32_t tail = ring->tail;
  size_t count = kws_ring_count(ring);
  size_t to_end = KWS_RING_SAMPLES - (tail & MASK);
  *samples = &ring->data[tail & MASK];
  return count < to_end ? count : to_end;
}

void kws_ring_consume(kws_ring_t *ring, size_t n)
{
  ring->tail += (uint32_t)n;
}

size_t kws_ring_read(kws_ring_t *ring, int16_t *dst, size_t max)
{
  size_t n = 0;
  const int16_t *samples;
  size_t run;
  while (n < max && (run = kws_ring_peek(ring, &samples)) > 0) {
    size_t take = run < max - n ? run : max - n;
    for (size_t i = 0; i < take; i++) {
      dst[n + i] = samples[i];
    }
    kws_ring_consume(ring, take);
    n += take;
  }
  return n;
}
