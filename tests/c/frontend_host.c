/* Host harness for the C frontend: reads clips from stdin as
 * [uint32 n][n x int16] records, streams each through kws_frontend_feed in
 * chunks of CHUNK samples, writes [uint32 frames][frames x C x uint16 raw]
 * [frames x C x int8] records to stdout. */
#include <stdio.h>
#include <stdlib.h>

#include "kws_frontend.h"

#ifndef CHUNK
#define CHUNK 160
#endif

#define MAX_SAMPLES (16000 * 8)
#define MAX_FRAMES (MAX_SAMPLES / KWS_FE_STRIDE_SAMPLES + 1)

static int16_t samples[MAX_SAMPLES];
static uint16_t raw[MAX_FRAMES][KWS_FE_NUM_CHANNELS];
static int8_t feats[MAX_FRAMES][KWS_FE_NUM_CHANNELS];

int main(void) {
  uint32_t n;
  kws_frontend_t fe;
  while (fread(&n, sizeof(n), 1, stdin) == 1) {
    size_t pos = 0;
    uint32_t frames = 0;
    if (n > MAX_SAMPLES || fread(samples, sizeof(int16_t), n, stdin) != n) return 2;
    kws_frontend_init(&fe);
    while (pos < n) {
      size_t chunk = n - pos < CHUNK ? n - pos : CHUNK;
      while (chunk > 0) {
        int ready;
        size_t used = kws_frontend_feed(&fe, samples + pos, chunk, feats[frames], raw[frames], &ready);
        pos += used;
        chunk -= used;
        if (ready) ++frames;
      }
    }
    fwrite(&frames, sizeof(frames), 1, stdout);
    fwrite(raw, sizeof(raw[0]), frames, stdout);
    fwrite(feats, sizeof(feats[0]), frames, stdout);
  }
  return 0;
}
