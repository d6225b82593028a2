/* Stand-in for ESP-IDF v5.5.3 freertos/task.h (host test of the board glue). */
#pragma once
#include "freertos/FreeRTOS.h"
void vTaskDelay(const TickType_t ticks);
