/* Board glue for the emulated STM32F405 (QEMU netduinoplus2) on the kws-qemu
 * platform's HAL: USART1 is the serial port, there is no microphone (audio
 * comes from the host over the serial link) and no LED QEMU would show.
 * Under -icount shift=0 one instruction takes one virtual nanosecond, so
 * kws_board_micros() counts thousands of instructions. */
#include "kws_app.h"
#include "kws_board.h"
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

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  (void)dst;
  (void)max;
  return 0;
}

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
