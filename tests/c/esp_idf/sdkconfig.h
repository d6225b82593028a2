/* Stand-in for the generated sdkconfig.h: what kws's sdkconfig.defaults sets for a usb_jtag board. */
#pragma once
#define CONFIG_FREERTOS_HZ 1000
#define CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG 1
#define CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG_ENABLED 1
