/* Boards without a microphone: audio only comes from the host. */
#include "kws_board_config.h"

#if defined(KWS_MIC_NONE)
#include "kws_board.h"

void kws_mic_init(void) {}

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
