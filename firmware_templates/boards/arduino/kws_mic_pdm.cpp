/* PDM microphone through the Arduino mbed core's PDM library (Nano 33 BLE
 * Sense): samples arrive in the PDM interrupt and wait in a ring buffer. */
#include "kws_board_config.h"

#if defined(KWS_MIC_PDM)
#include <Arduino.h>
#include <PDM.h>

#include "kws_board.h"
#include "kws_ring.h"

static kws_ring_t mic_ring;

static void on_pdm_data()
{
  int16_t samples[256];
  int bytes = PDM.available();
  if (bytes > (int)sizeof samples) {
    bytes = sizeof samples;
  }
  PDM.read(samples, bytes);
  kws_ring_write(&mic_ring, samples, (size_t)bytes / 2);
}

void kws_mic_init(void)
{
  kws_ring_init(&mic_ring);
  PDM.onReceive(on_pdm_data);
  PDM.begin(1, KWS_MIC_SAMPLE_RATE);
}

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  return kws_ring_read(&mic_ring, dst, max);
}

uint32_t kws_board_mic_dropped(void)
{
  return mic_ring.dropped;
}
#endif
