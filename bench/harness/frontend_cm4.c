/* Frontend cost on the emulated Cortex-M4: streams one 1 s clip through
 * kws_frontend_feed, counts instructions (SysTick under -icount shift=0) and
 * prints a checksum of the features so the host can check them. */
#include <stdio.h>

#include "bench_clip.h"
#include "kws_frontend.h"
#include "qemu_hal.h"

static kws_frontend_t fe;
static int8_t feats[KWS_FE_NUM_FRAMES + 1][KWS_FE_NUM_CHANNELS];

int main(void) {
  size_t pos = 0;
  unsigned frames = 0;
  uint32_t checksum = 0;
  uint64_t t0, t1;
  unsigned f, c;
  kws_frontend_init(&fe);
  t0 = hal_cycles();
  while (pos < BENCH_CLIP_SAMPLES) {
    int ready;
    pos += kws_frontend_feed(&fe, bench_clip + pos, BENCH_CLIP_SAMPLES - pos, feats[frames], NULL, &ready);
    if (ready) ++frames;
  }
  t1 = hal_cycles();
  for (f = 0; f < frames; ++f) {
    for (c = 0; c < KWS_FE_NUM_CHANNELS; ++c) checksum = checksum * 31u + (uint8_t)feats[f][c];
  }
  printf("frames=%u insns=%lu checksum=%08lx\n", frames, (unsigned long)HAL_INSNS(t1 - t0), (unsigned long)checksum);
  return 0;
}
