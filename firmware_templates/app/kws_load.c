/* Real-time accounting (see kws_load.h). C99, no malloc. */
#include "kws_load.h"

#include <stdio.h>
#include <string.h>

#include "kws_board.h"
#include "kws_frontend_config.h"

#define PERIOD_SAMPLES ((uint32_t)KWS_LOAD_PERIOD_MS * (KWS_FE_SAMPLE_RATE / 1000u))

static struct {
  uint32_t busy_us;      /* in the current period */
  uint32_t samples;      /* through the frontend in the current period */
  uint32_t ring_dropped; /* the counters when the current period started */
  uint32_t mic_dropped;
} load;

uint32_t kws_load_begin(void)
{
  return kws_board_micros();
}

void kws_load_end(uint32_t start, int worked)
{
  if (worked) {
    load.busy_us += kws_board_micros() - start;
  }
}

void kws_load_audio(size_t n)
{
  load.samples += (uint32_t)n;
}

uint32_t kws_load_clock_mhz(void)
{
  return (kws_board_clock_hz() + 500000u) / 1000000u;
}

/* Samples a counter gained since `*seen`; a counter that restarted from 0
 * (the ring is reset for each host session) counts from there. */
static uint32_t gained(uint32_t now, uint32_t *seen)
{
  uint32_t delta = now >= *seen ? now - *seen : now;
  *seen = now;
  return delta;
}

void kws_load_report(uint32_t ring_dropped)
{
  if (load.samples < PERIOD_SAMPLES) {
    return;
  }
  uint32_t audio_us = (uint32_t)((uint64_t)load.samples * 1000000u / KWS_FE_SAMPLE_RATE);
  uint32_t percent = (uint32_t)(((uint64_t)load.busy_us * 100u + audio_us / 2u) / audio_us);
  uint32_t dropped = gained(ring_dropped, &load.ring_dropped) + gained(kws_board_mic_dropped(), &load.mic_dropped);
  char line[96];
  snprintf(line, sizeof line, "Status load=%lu%% clock=%luMHz audio_ms=%lu dropped=%lu\n", (unsigned long)percent,
           (unsigned long)kws_load_clock_mhz(), (unsigned long)(audio_us / 1000u), (unsigned long)dropped);
  kws_board_write(line, strlen(line));
  load.busy_us = 0;
  load.samples = 0;
}
