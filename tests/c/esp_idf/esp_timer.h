/* Stand-in for ESP-IDF v5.5.3 esp_timer.h (host test of the board glue). */
#pragma once
#include <stdint.h>
int64_t esp_timer_get_time(void);
