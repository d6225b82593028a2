/* Board glue for Arduino cores (Nano 33 BLE Sense: mbed core; Pico:
 * arduino-pico; B-L475E-IOT01A: STM32duino): Serial for the link,
 * millis()/micros() (32-bit counts that wrap: mbed's Timer, STM32duino's
 * getCurrentMicros(), arduino-pico's to_us_since_boot() truncated), the
 * LED pin; the microphone driver is in kws_mic_<type>.cpp, chosen by
 * KWS_MIC_<TYPE> from kws_board_config.h. */
#include <Arduino.h>

#include "kws_app.h"
#include "kws_board.h"
#include "kws_board_config.h"

/* Provided by the kws_mic_*.cpp of this board's microphone type. */
void kws_mic_init(void);

void kws_board_init(void)
{
  Serial.begin(KWS_SERIAL_BAUD);
#ifdef KWS_LED_PIN
  pinMode(KWS_LED_PIN, OUTPUT);
  kws_board_led(0);
#endif
  kws_mic_init();
}

void kws_board_write(const void *data, size_t n)
{
  Serial.write(static_cast<const uint8_t *>(data), n);
}

size_t kws_board_read(uint8_t *dst, size_t max)
{
  size_t n = 0;
  while (n < max && Serial.available() > 0) {
    dst[n++] = static_cast<uint8_t>(Serial.read());
  }
  return n;
}

uint32_t kws_board_millis(void)
{
  return millis();
}

uint32_t kws_board_micros(void)
{
  return micros();
}

uint32_t kws_board_clock_hz(void)
{
  return KWS_BOARD_CLOCK_HZ;
}

void kws_board_led(int on)
{
#ifdef KWS_LED_PIN
  digitalWrite(KWS_LED_PIN, (on != 0) != (KWS_LED_ACTIVE_LOW != 0) ? HIGH : LOW);
#else
  (void)on;
#endif
}

void kws_board_idle(void)
{
  yield();
}

void setup()
{
  kws_board_init();
  kws_app_init();
}

void loop()
{
  kws_app_poll();
}
