/* I2S microphone (INMP441) through arduino-pico's I2S library (Raspberry
 * Pi Pico): 32-bit slots, WS is the pin after SCK. The library fills
 * MIC_BUFFERS DMA buffers of MIC_BUFFER_WORDS words (2 per stereo frame)
 * and overwrites one when the program has not read it in time, so the
 * samples move into the kws ring in the library's receive callback (run
 * from the DMA interrupt after each buffer), as the PDM and DFSDM glue do:
 * the ring, not the library's few milliseconds, covers an inference. The
 * library only flags an overwrite (getOverUnderflow()); the callback counts
 * one lost buffer per flag it sees, a lower bound (with the callback
 * draining at every interrupt the library keeps no backlog to overwrite). */
#include "kws_board_config.h"

#if defined(KWS_MIC_I2S)
#include <Arduino.h>
#include <I2S.h>

#include "kws_board.h"
#include "kws_ring.h"

#define MIC_BUFFERS 6u        /* the library's default count */
#define MIC_BUFFER_WORDS 128u /* 64 stereo frames: 4 ms at 16 kHz, one interrupt each */

static I2S mic(INPUT);
static kws_ring_t mic_ring;
static volatile uint32_t mic_lost;

static void on_mic_data(void)
{
  int16_t samples[MIC_BUFFER_WORDS / 2];
  size_t n = 0;
  int32_t left = 0, right = 0;
  if (mic.getOverUnderflow()) {
    mic_lost += MIC_BUFFER_WORDS / 2;
  }
  /* non-blocking reads of whole frames (a buffer holds whole frames) */
  while (mic.read(&left, false) != 0 && mic.read(&right, false) != 0) {
    samples[n++] = kws_clamp16(left >> 14); /* 24 significant bits -> 16, with 4x gain */
    if (n == sizeof samples / sizeof samples[0]) {
      kws_ring_write(&mic_ring, samples, n);
      n = 0;
    }
  }
  kws_ring_write(&mic_ring, samples, n);
}

void kws_mic_init(void)
{
  kws_ring_init(&mic_ring);
  mic.setBCLK(KWS_MIC_PIN_SCK);
  mic.setDATA(KWS_MIC_PIN_SD);
  mic.setBitsPerSample(32);
  mic.setBuffers(MIC_BUFFERS, MIC_BUFFER_WORDS);
  mic.onReceive(on_mic_data);
  mic.begin(KWS_MIC_SAMPLE_RATE);
}

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  return kws_ring_read(&mic_ring, dst, max);
}

uint32_t kws_board_mic_dropped(void)
{
  return mic_ring.dropped + mic_lost;
}
#endif
