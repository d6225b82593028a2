/* Board glue for ESP32 / ESP32-S3 with ESP-IDF 5: serial on UART0 or the
 * S3's USB Serial/JTAG, an INMP441 on I2S (standard Philips mode, left slot)
 * or a PDM microphone (I2S PDM RX), an LED on a GPIO, esp_timer for time.
 * Pins come from kws_board_config.h (boards/<board>.toml). */
#include <stdbool.h>
#include <stdint.h>

#include "driver/gpio.h"
#include "esp_attr.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "kws_app.h"
#include "kws_board.h"
#include "kws_board_config.h"

#ifndef KWS_SERIAL_RX_BUFFER /* a board file without [serial] rx_buffer */
#define KWS_SERIAL_RX_BUFFER 1024u
#endif

#if defined(KWS_SERIAL_USB_JTAG)
#include "driver/usb_serial_jtag.h"
#include "sdkconfig.h"
/* usb_serial_jtag_is_connected() is only kept up to date by the connection
 * monitor, which ESP-IDF links in when the console is on USB Serial/JTAG. */
#if !defined(CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG_ENABLED) && !defined(CONFIG_USJ_NO_AUTO_LS_ON_CONNECTION)
#error "set CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG=y in sdkconfig.defaults (kws export writes it for usb_jtag boards)"
#endif
/* Output waits at most this long for room while a host reads; once a write
 * found no room (no host reads the port) later writes do not wait at all
 * until one goes through again: output is dropped, never blocks. */
#define USB_TX_BUFFER 4096u
#define USB_TX_WAIT_MS 20u
static bool usb_tx_stalled;
#else
#include "driver/uart.h"
#define KWS_UART UART_NUM_0
#endif

#if defined(KWS_MIC_I2S)
#include "driver/i2s_std.h"
#elif defined(KWS_MIC_PDM)
#include "driver/i2s_pdm.h"
#endif

#if defined(KWS_MIC_I2S) || defined(KWS_MIC_PDM)
#if defined(KWS_MIC_I2S)
#define MIC_BYTES_PER_SAMPLE 4u /* 32-bit slots */
#else
#define MIC_BYTES_PER_SAMPLE 2u
#endif
static i2s_chan_handle_t mic;
static volatile uint32_t mic_dropped;

/* The driver's receive queue was full: a DMA buffer of event->size bytes was
 * overwritten before kws_board_mic_read took it (ISR context). */
static bool IRAM_ATTR on_mic_overflow(i2s_chan_handle_t handle, i2s_event_data_t *event, void *user_ctx)
{
  (void)handle;
  (void)user_ctx;
  mic_dropped += (uint32_t)(event->size / MIC_BYTES_PER_SAMPLE);
  return false;
}

static void mic_init(void)
{
  i2s_chan_config_t channel = I2S_CHANNEL_DEFAULT_CONFIG(I2S_NUM_0, I2S_ROLE_MASTER);
  ESP_ERROR_CHECK(i2s_new_channel(&channel, NULL, &mic));
#if defined(KWS_MIC_I2S)
  /* INMP441: 24-bit samples, MSB first, in 32-bit slots; L/R tied low = left. */
  i2s_std_config_t config = {
      .clk_cfg = I2S_STD_CLK_DEFAULT_CONFIG(KWS_MIC_SAMPLE_RATE),
      .slot_cfg = I2S_STD_PHILIPS_SLOT_DEFAULT_CONFIG(I2S_DATA_BIT_WIDTH_32BIT, I2S_SLOT_MODE_MONO),
      .gpio_cfg = {.mclk = I2S_GPIO_UNUSED, .bclk = KWS_MIC_PIN_SCK, .ws = KWS_MIC_PIN_WS,
                   .dout = I2S_GPIO_UNUSED, .din = KWS_MIC_PIN_SD},
  };
  config.slot_cfg.slot_mask = I2S_STD_SLOT_LEFT;
  ESP_ERROR_CHECK(i2s_channel_init_std_mode(mic, &config));
#else
  i2s_pdm_rx_config_t config = {
      .clk_cfg = I2S_PDM_RX_CLK_DEFAULT_CONFIG(KWS_MIC_SAMPLE_RATE),
      .slot_cfg = I2S_PDM_RX_SLOT_DEFAULT_CONFIG(I2S_DATA_BIT_WIDTH_16BIT, I2S_SLOT_MODE_MONO),
      .gpio_cfg = {.clk = KWS_MIC_PIN_CLK, .din = KWS_MIC_PIN_DATA},
  };
  ESP_ERROR_CHECK(i2s_channel_init_pdm_rx_mode(mic, &config));
#endif
  const i2s_event_callbacks_t callbacks = {.on_recv_q_ovf = on_mic_overflow};
  ESP_ERROR_CHECK(i2s_channel_register_event_callback(mic, &callbacks, NULL));
  ESP_ERROR_CHECK(i2s_channel_enable(mic));
}

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  size_t got = 0;
#if defined(KWS_MIC_I2S)
  int32_t raw[128];
  if (max > 128) {
    max = 128;
  }
  if (i2s_channel_read(mic, raw, max * sizeof raw[0], &got, 0) != ESP_OK && got == 0) {
    return 0;
  }
  size_t n = got / sizeof raw[0];
  for (size_t i = 0; i < n; i++) {
    dst[i] = kws_clamp16(raw[i] >> 14); /* 24 significant bits -> 16, with 4x gain for the quiet INMP441 */
  }
  return n;
#else
  if (i2s_channel_read(mic, dst, max * sizeof dst[0], &got, 0) != ESP_OK && got == 0) {
    return 0;
  }
  return got / sizeof dst[0];
#endif
}

uint32_t kws_board_mic_dropped(void)
{
  return mic_dropped;
}
#else
static void mic_init(void) {}

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  (void)dst;
  (void)max;
  return 0;
}

uint32_t kws_board_mic_dropped(void)
{
  return 0;
}
#endif

void kws_board_init(void)
{
#if defined(KWS_SERIAL_USB_JTAG)
  usb_serial_jtag_driver_config_t usb = USB_SERIAL_JTAG_DRIVER_CONFIG_DEFAULT();
  usb.tx_buffer_size = USB_TX_BUFFER;
  usb.rx_buffer_size = KWS_SERIAL_RX_BUFFER; /* the ISR drops what does not fit (default 256 B) */
  ESP_ERROR_CHECK(usb_serial_jtag_driver_install(&usb));
#else
  uart_config_t uart = {.baud_rate = KWS_SERIAL_BAUD, .data_bits = UART_DATA_8_BITS, .parity = UART_PARITY_DISABLE,
                        .stop_bits = UART_STOP_BITS_1, .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
                        .source_clk = UART_SCLK_DEFAULT};
  ESP_ERROR_CHECK(uart_driver_install(KWS_UART, KWS_SERIAL_RX_BUFFER, 0, 0, NULL, 0));
  ESP_ERROR_CHECK(uart_param_config(KWS_UART, &uart));
#endif
#ifdef KWS_LED_PIN
  gpio_reset_pin(KWS_LED_PIN);
  gpio_set_direction(KWS_LED_PIN, GPIO_MODE_OUTPUT);
  kws_board_led(0);
#endif
  mic_init();
}

void kws_board_write(const void *data, size_t n)
{
#if defined(KWS_SERIAL_USB_JTAG)
  /* No host (a power bank: no USB SOF packets) or no reader (the port is
   * closed, the TX ring is full): drop the output instead of blocking. A
   * write of at most USB_TX_BUFFER bytes goes into the ring whole or not at all. */
  const uint8_t *bytes = data;
  if (!usb_serial_jtag_is_connected()) {
    usb_tx_stalled = true;
    return;
  }
  while (n > 0) {
    size_t chunk = n < USB_TX_BUFFER ? n : USB_TX_BUFFER;
    TickType_t wait = usb_tx_stalled ? 0 : pdMS_TO_TICKS(USB_TX_WAIT_MS);
    usb_tx_stalled = usb_serial_jtag_write_bytes(bytes, chunk, wait) <= 0;
    if (usb_tx_stalled) {
      return;
    }
    bytes += chunk;
    n -= chunk;
  }
#else
  uart_write_bytes(KWS_UART, data, n);
#endif
}

size_t kws_board_read(uint8_t *dst, size_t max)
{
#if defined(KWS_SERIAL_USB_JTAG)
  int n = usb_serial_jtag_read_bytes(dst, max, 0);
#else
  int n = uart_read_bytes(KWS_UART, dst, max, 0);
#endif
  return n > 0 ? (size_t)n : 0u;
}

uint32_t kws_board_millis(void)
{
  return (uint32_t)(esp_timer_get_time() / 1000);
}

uint32_t kws_board_micros(void)
{
  return (uint32_t)esp_timer_get_time();
}

uint32_t kws_board_clock_hz(void)
{
  return KWS_BOARD_CLOCK_HZ;
}

void kws_board_led(int on)
{
#ifdef KWS_LED_PIN
  gpio_set_level(KWS_LED_PIN, (on != 0) != (KWS_LED_ACTIVE_LOW != 0));
#else
  (void)on;
#endif
}

void kws_board_idle(void)
{
  vTaskDelay(1); /* lets the idle task feed the watchdog */
}

void app_main(void)
{
  kws_board_init();
  kws_app_init();
  for (;;) {
    kws_app_poll();
  }
}
