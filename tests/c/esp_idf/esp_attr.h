/* Stand-in for ESP-IDF v5.5.3 esp_attr.h (host test of the board glue). */
#pragma once
#define IRAM_ATTR
