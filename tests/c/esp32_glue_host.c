/* Host driver for firmware_templates/boards/esp32/kws_board_esp32.c built
 * against the stand-in ESP-IDF headers in tests/c/esp_idf: defines the
 * driver functions the glue calls, records each call, and prints one line
 * per event for tests/test_board_esp32_glue.py. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "driver/gpio.h"
#include "driver/usb_serial_jtag.h"
#include "esp_timer.h"
#include "freertos/task.h"
#include "kws_board.h"

static bool connected;
static size_t room; /* bytes the TX ring accepts before it is full */

esp_err_t usb_serial_jtag_driver_install(usb_serial_jtag_driver_config_t *config)
{
  printf("install tx=%u rx=%u\n", (unsigned)config->tx_buffer_size, (unsigned)config->rx_buffer_size);
  return ESP_OK;
}

int usb_serial_jtag_read_bytes(void *buf, uint32_t length, TickType_t ticks_to_wait)
{
  (void)buf;
  (void)length;
  (void)ticks_to_wait;
  return 0;
}

int usb_serial_jtag_write_bytes(const void *src, size_t size, TickType_t ticks_to_wait)
{
  (void)src;
  /* The driver's byte ring buffer takes a write whole or not at all. */
  int taken = size <= room ? (int)size : 0;
  room -= (size_t)taken;
  printf("write %u wait %u -> %d\n", (unsigned)size, (unsigned)ticks_to_wait, taken);
  return taken;
}

bool usb_serial_jtag_is_connected(void)
{
  return connected;
}

esp_err_t gpio_reset_pin(gpio_num_t gpio_num)
{
  (void)gpio_num;
  return ESP_OK;
}

esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode)
{
  (void)gpio_num;
  (void)mode;
  return ESP_OK;
}

esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level)
{
  (void)gpio_num;
  (void)level;
  return ESP_OK;
}

int64_t esp_timer_get_time(void)
{
  return 0;
}

void vTaskDelay(const TickType_t ticks)
{
  (void)ticks;
}

void kws_app_init(void) {}
void kws_app_poll(void) {}

static void line(const char *what, size_t n)
{
  static char text[5000];
  memset(text, 'x', n);
  printf("-- %s\n", what);
  kws_board_write(text, n);
}

int main(void)
{
  kws_board_init();
  connected = false;
  room = 4096;
  line("no host (power bank)", 40);
  connected = true;
  line("host connected, port open", 40);
  room = 30;
  line("ring full: nobody reads", 40);
  line("still full", 40);
  room = 4096;
  line("host reads again", 40);
  line("and keeps reading", 40);
  room = 8192;
  line("a write larger than the ring", 5000);
  return 0;
}
