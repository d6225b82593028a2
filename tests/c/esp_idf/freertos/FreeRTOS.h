/* Stand-in for ESP-IDF v5.5.3 freertos/FreeRTOS.h (host test of the board glue). */
#pragma once
#include <stdint.h>
#include "sdkconfig.h"
typedef uint32_t TickType_t;
#define portMAX_DELAY ((TickType_t)0xffffffffUL)
#define pdMS_TO_TICKS(ms) ((TickType_t)(((uint64_t)(ms) * (uint64_t)CONFIG_FREERTOS_HZ) / 1000U))
