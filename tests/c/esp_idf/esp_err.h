/* Stand-in for ESP-IDF v5.5.3 esp_err.h (host test of the board glue). */
#pragma once
#include <stdlib.h>
typedef int esp_err_t;
#define ESP_OK 0
#define ESP_ERROR_CHECK(x) do { if ((x) != ESP_OK) abort(); } while (0)
