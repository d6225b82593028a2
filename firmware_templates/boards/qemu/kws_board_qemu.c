/* Board glue for the emulated STM32F405 (QEMU netduinoplus2) on the kws-qemu
 * platform's HAL: USART1 is the serial port and there is no LED QEMU would
 * show. Audio comes from the host over the serial link; a board file with
 * [mic] type = "tone" adds a test microphone instead of none. Under
 * -icount shift=0 one instruction takes one virtual nanosecond, so
 * kws_board_micros() counts thousands of instructions. */
#include "kws_app.h"
#include "kws_board.h"
#include "kws_board_config.h"
#include "qemu_hal.h"

void kws_board_init(void)
{
  /* hal_init() already ran from the reset handler. */
}

void kws_board_write(const void *data, size_t n)
{
  hal_uart_write(data, n);
}

size_t kws_board_read(uint8_t *dst, size_t max)
{
  size_t n = 0;
  int byte;
  while (n < max && (byte = hal_uart_read()) >= 0) {
    dst[n++] = (uint8_t)byte;
  }
  return n;
}

uint32_t kws_board_millis(void)
{
  return hal_millis();
}

uint32_t kws_board_micros(void)
{
  return (uint32_t)(hal_cycles() / (HAL_CPU_HZ / 1000000u));
}

void kws_board_led(int on)
{
  (void)on;
}

#if defined(KWS_MIC_TONE)
/* Test microphone: a sawtooth of 64 samples per period (250 Hz at 16 kHz),
 * paced by the millisecond clock. Like a DMA buffer, it holds at most
 * TONE_BUFFER samples: a reader that falls behind loses the oldest. */
#define TONE_BUFFER 512u
static uint32_t tone_produced;

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  uint32_t due = hal_millis() * (KWS_MIC_SAMPLE_RATE / 1000u);
  if (due - tone_produced > TONE_BUFFER) {
    tone_produced = due - TONE_BUFFER;
  }
  size_t n = due - tone_produced;
  if (n > max) {
    n = max;
  }
  for (size_t i = 0; i < n; i++) {
    dst[i] = (int16_t)((int32_t)((tone_produced + i) % 64u) * 512 - 16384);
  }
  tone_produced += (uint32_t)n;
  return n;
}
#else
size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  (void)dst;
  (void)max;
  return 0;
}
#endif

void kws_board_idle(void)
{
  __asm volatile("wfi");
}

int main(void)
{
  kws_board_init();
  kws_app_init();
  for (;;) {
    kws_app_poll();
  }
}
