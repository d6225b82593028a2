/* The MP34DT01 digital microphone of the B-L475E-IOT01A on DFSDM1 (STM32
 * HAL under STM32duino): channel 2 (DATIN2 = PE7) clocked by CKOUT (PE9) at
 * 80 MHz / 40 = 2 MHz, a sinc3 filter decimating by 125 to 16 kHz, DMA in
 * circular mode; each half-buffer becomes int16 in the DMA interrupt and
 * waits in a ring buffer. */
#include "kws_board_config.h"

#if defined(KWS_MIC_DFSDM)
#include <Arduino.h>

#include "kws_board.h"
#include "kws_ring.h"

#define DFSDM_CLOCK_DIVIDER 40u /* 80 MHz system clock -> 2 MHz microphone clock */
#define DFSDM_OVERSAMPLING 125u /* 2 MHz / 125 = 16 kHz */
#define DMA_HALF 256u
/* sinc3 at 125x gives 21 significant bits, left-aligned at bit 8 of the
 * 32-bit data register; keep 16 of them. */
#define SAMPLE_SHIFT 13

static DFSDM_Channel_HandleTypeDef mic_channel;
static DFSDM_Filter_HandleTypeDef mic_filter;
static DMA_HandleTypeDef mic_dma;
static int32_t dma_buffer[2 * DMA_HALF];
static kws_ring_t mic_ring;

static void push_samples(const int32_t *raw, size_t n)
{
  int16_t samples[DMA_HALF];
  for (size_t i = 0; i < n; i++) {
    samples[i] = kws_clamp16(raw[i] >> SAMPLE_SHIFT);
  }
  kws_ring_write(&mic_ring, samples, n);
}

extern "C" void HAL_DFSDM_FilterRegConvHalfCpltCallback(DFSDM_Filter_HandleTypeDef *filter)
{
  (void)filter;
  push_samples(dma_buffer, DMA_HALF);
}

extern "C" void HAL_DFSDM_FilterRegConvCpltCallback(DFSDM_Filter_HandleTypeDef *filter)
{
  (void)filter;
  push_samples(dma_buffer + DMA_HALF, DMA_HALF);
}

extern "C" void DMA1_Channel4_IRQHandler(void)
{
  HAL_DMA_IRQHandler(&mic_dma);
}

void kws_mic_init(void)
{
  kws_ring_init(&mic_ring);
  __HAL_RCC_DFSDM1_CLK_ENABLE();
  __HAL_RCC_GPIOE_CLK_ENABLE();
  __HAL_RCC_DMA1_CLK_ENABLE();

  GPIO_InitTypeDef pins = {};
  pins.Pin = GPIO_PIN_7 | GPIO_PIN_9; /* DATIN2, CKOUT */
  pins.Mode = GPIO_MODE_AF_PP;
  pins.Pull = GPIO_NOPULL;
  pins.Speed = GPIO_SPEED_FREQ_VERY_HIGH;
  pins.Alternate = GPIO_AF6_DFSDM1;
  HAL_GPIO_Init(GPIOE, &pins);

  mic_channel.Instance = DFSDM1_Channel2;
  mic_channel.Init.OutputClock.Activation = ENABLE;
  mic_channel.Init.OutputClock.Selection = DFSDM_CHANNEL_OUTPUT_CLOCK_SYSTEM;
  mic_channel.Init.OutputClock.Divider = DFSDM_CLOCK_DIVIDER;
  mic_channel.Init.Input.Multiplexer = DFSDM_CHANNEL_EXTERNAL_INPUTS;
  mic_channel.Init.Input.DataPacking = DFSDM_CHANNEL_STANDARD_MODE;
  mic_channel.Init.Input.Pins = DFSDM_CHANNEL_SAME_CHANNEL_PINS;
  mic_channel.Init.SerialInterface.Type = DFSDM_CHANNEL_SPI_RISING;
  mic_channel.Init.SerialInterface.SpiClock = DFSDM_CHANNEL_SPI_CLOCK_INTERNAL;
  mic_channel.Init.Awd.FilterOrder = DFSDM_CHANNEL_FASTSINC_ORDER;
  mic_channel.Init.Awd.Oversampling = 1;
  mic_channel.Init.Offset = 0;
  mic_channel.Init.RightBitShift = 0;
  HAL_DFSDM_ChannelInit(&mic_channel);

  mic_dma.Instance = DMA1_Channel4;
  mic_dma.Init.Request = DMA_REQUEST_0;
  mic_dma.Init.Direction = DMA_PERIPH_TO_MEMORY;
  mic_dma.Init.PeriphInc = DMA_PINC_DISABLE;
  mic_dma.Init.MemInc = DMA_MINC_ENABLE;
  mic_dma.Init.PeriphDataAlignment = DMA_PDATAALIGN_WORD;
  mic_dma.Init.MemDataAlignment = DMA_MDATAALIGN_WORD;
  mic_dma.Init.Mode = DMA_CIRCULAR;
  mic_dma.Init.Priority = DMA_PRIORITY_HIGH;
  HAL_DMA_Init(&mic_dma);
  __HAL_LINKDMA(&mic_filter, hdmaReg, mic_dma);
  HAL_NVIC_SetPriority(DMA1_Channel4_IRQn, 5, 0);
  HAL_NVIC_EnableIRQ(DMA1_Channel4_IRQn);

  mic_filter.Instance = DFSDM1_Filter0;
  mic_filter.Init.RegularParam.Trigger = DFSDM_FILTER_SW_TRIGGER;
  mic_filter.Init.RegularParam.FastMode = ENABLE;
  mic_filter.Init.RegularParam.DmaMode = ENABLE;
  mic_filter.Init.FilterParam.SincOrder = DFSDM_FILTER_SINC3_ORDER;
  mic_filter.Init.FilterParam.Oversampling = DFSDM_OVERSAMPLING;
  mic_filter.Init.FilterParam.IntOversampling = 1;
  HAL_DFSDM_FilterInit(&mic_filter);
  HAL_DFSDM_FilterConfigRegChannel(&mic_filter, DFSDM_CHANNEL_2, DFSDM_CONTINUOUS_CONV_ON);
  HAL_DFSDM_FilterRegularStart_DMA(&mic_filter, dma_buffer, 2 * DMA_HALF);
}

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  return kws_ring_read(&mic_ring, dst, max);
}

uint32_t kws_board_mic_dropped(void)
{
  return mic_ring.dropped;
}
#endif
