/* I2S microphone (INMP441) through arduino-pico's I2S library (Raspberry
 * Pi Pico): 32-bit slots from the library's DMA buffers; WS is the pin
 * after SCK. The library only flags an overflow (getOverflow()), it does not
 * count lost samples, so kws_board_mic_dropped() cannot tell. */
#include "kws_board_config.h"

#if defined(KWS_MIC_I2S)
#include <Arduino.h>
#include <I2S.h>

#include "kws_board.h"

static I2S mic(INPUT);

void kws_mic_init(void)
{
  mic.setBCLK(KWS_MIC_PIN_SCK);
  mic.setDATA(KWS_MIC_PIN_SD);
  mic.setBitsPerSample(32);
  mic.begin(KWS_MIC_SAMPLE_RATE);
}

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  size_t n = 0;
  while (n < max && mic.available() > 0) {
    int32_t left = 0, right = 0;
    mic.read32(&left, &right);
    dst[n++] = kws_clamp16(left >> 14); /* 24 significant bits -> 16, with 4x gain */
  }
  return n;
}

uint32_t kws_board_mic_dropped(void)
{
  return 0;
}
#endif
