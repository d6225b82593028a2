/* Stand-in for the STM32L4 HAL of STM32duino 2.12.0
 * (system/Drivers/STM32L4xx_HAL_Driver/Inc: hal_def.h, hal_gpio.h,
 * hal_gpio_ex.h, hal_dma.h, hal_dfsdm.h, hal_cortex.h, hal_rcc.h; CMSIS
 * stm32l475xx.h): the types, fields, constants and functions kws's DFSDM
 * glue uses, with the HAL's types. Constant values are placeholders except
 * where the glue's arithmetic reads them (none does). */
#ifndef KWS_STANDIN_STM32L4XX_HAL_H
#define KWS_STANDIN_STM32L4XX_HAL_H

#include <stdint.h>

typedef enum { HAL_OK = 0, HAL_ERROR = 1, HAL_BUSY = 2, HAL_TIMEOUT = 3 } HAL_StatusTypeDef;
typedef enum { DISABLE = 0, ENABLE = !DISABLE } FunctionalState;
typedef enum { DMA1_Channel4_IRQn = 14 } IRQn_Type;

typedef struct { volatile uint32_t MODER; } GPIO_TypeDef;
typedef struct { volatile uint32_t CCR; } DMA_Channel_TypeDef;
typedef struct { volatile uint32_t CHCFGR1; } DFSDM_Channel_TypeDef;
typedef struct { volatile uint32_t FLTCR1; } DFSDM_Filter_TypeDef;

#define GPIOE ((GPIO_TypeDef *)0x48001000UL)
#define DMA1_Channel4 ((DMA_Channel_TypeDef *)0x40020044UL)
#define DFSDM1_Channel2 ((DFSDM_Channel_TypeDef *)0x40016040UL)
#define DFSDM1_Filter0 ((DFSDM_Filter_TypeDef *)0x40016100UL)

typedef struct {
  uint32_t Pin;
  uint32_t Mode;
  uint32_t Pull;
  uint32_t Speed;
  uint32_t Alternate;
} GPIO_InitTypeDef;
#define GPIO_PIN_7 ((uint16_t)0x0080)
#define GPIO_PIN_9 ((uint16_t)0x0200)
#define GPIO_MODE_AF_PP 0x00000002u
#define GPIO_NOPULL 0x00000000u
#define GPIO_SPEED_FREQ_VERY_HIGH 0x00000003u
#define GPIO_AF6_DFSDM1 ((uint8_t)0x06)

typedef struct {
  uint32_t Request;
  uint32_t Direction;
  uint32_t PeriphInc;
  uint32_t MemInc;
  uint32_t PeriphDataAlignment;
  uint32_t MemDataAlignment;
  uint32_t Mode;
  uint32_t Priority;
} DMA_InitTypeDef;
typedef struct __DMA_HandleTypeDef {
  DMA_Channel_TypeDef *Instance;
  DMA_InitTypeDef Init;
  void *Parent;
} DMA_HandleTypeDef;
#define DMA_REQUEST_0 0u
#define DMA_PERIPH_TO_MEMORY 0x00000000u
#define DMA_PINC_DISABLE 0x00000000u
#define DMA_MINC_ENABLE 0x00000080u
#define DMA_PDATAALIGN_WORD 0x00000200u
#define DMA_MDATAALIGN_WORD 0x00000800u
#define DMA_CIRCULAR 0x00000020u
#define DMA_PRIORITY_HIGH 0x00002000u

typedef struct {
  FunctionalState Activation;
  uint32_t Selection;
  uint32_t Divider;
} DFSDM_Channel_OutputClockTypeDef;
typedef struct {
  uint32_t Multiplexer;
  uint32_t DataPacking;
  uint32_t Pins;
} DFSDM_Channel_InputTypeDef;
typedef struct {
  uint32_t Type;
  uint32_t SpiClock;
} DFSDM_Channel_SerialInterfaceTypeDef;
typedef struct {
  uint32_t FilterOrder;
  uint32_t Oversampling;
} DFSDM_Channel_AwdTypeDef;
typedef struct {
  DFSDM_Channel_OutputClockTypeDef OutputClock;
  DFSDM_Channel_InputTypeDef Input;
  DFSDM_Channel_SerialInterfaceTypeDef SerialInterface;
  DFSDM_Channel_AwdTypeDef Awd;
  int32_t Offset;
  uint32_t RightBitShift;
} DFSDM_Channel_InitTypeDef;
typedef struct {
  DFSDM_Channel_TypeDef *Instance;
  DFSDM_Channel_InitTypeDef Init;
} DFSDM_Channel_HandleTypeDef;
typedef struct {
  uint32_t Trigger;
  FunctionalState FastMode;
  FunctionalState DmaMode;
} DFSDM_Filter_RegularParamTypeDef;
typedef struct {
  uint32_t SincOrder;
  uint32_t Oversampling;
  uint32_t IntOversampling;
} DFSDM_Filter_FilterParamTypeDef;
typedef struct {
  DFSDM_Filter_RegularParamTypeDef RegularParam;
  DFSDM_Filter_FilterParamTypeDef FilterParam;
} DFSDM_Filter_InitTypeDef;
typedef struct {
  DFSDM_Filter_TypeDef *Instance;
  DFSDM_Filter_InitTypeDef Init;
  DMA_HandleTypeDef *hdmaReg;
} DFSDM_Filter_HandleTypeDef;
#define DFSDM_CHANNEL_OUTPUT_CLOCK_SYSTEM 0x00000000u
#define DFSDM_CHANNEL_EXTERNAL_INPUTS 0x00000000u
#define DFSDM_CHANNEL_STANDARD_MODE 0x00000000u
#define DFSDM_CHANNEL_SAME_CHANNEL_PINS 0x00000000u
#define DFSDM_CHANNEL_SPI_RISING 0x00000000u
#define DFSDM_CHANNEL_SPI_CLOCK_INTERNAL 0x00000004u
#define DFSDM_CHANNEL_FASTSINC_ORDER 0x00000000u
#define DFSDM_FILTER_SW_TRIGGER 0x00000000u
#define DFSDM_FILTER_SINC3_ORDER 0x60000000u
#define DFSDM_CHANNEL_2 0x00020004u
#define DFSDM_CONTINUOUS_CONV_ON 0x00000001u

#define __HAL_RCC_DFSDM1_CLK_ENABLE() do { } while (0)
#define __HAL_RCC_GPIOE_CLK_ENABLE() do { } while (0)
#define __HAL_RCC_DMA1_CLK_ENABLE() do { } while (0)
#define __HAL_LINKDMA(__HANDLE__, __PPP_DMA_FIELD__, __DMA_HANDLE__) \
  do {                                                              \
    (__HANDLE__)->__PPP_DMA_FIELD__ = &(__DMA_HANDLE__);            \
    (__DMA_HANDLE__).Parent = (__HANDLE__);                         \
  } while (0)

#ifdef __cplusplus
extern "C" {
#endif
void HAL_GPIO_Init(GPIO_TypeDef *GPIOx, GPIO_InitTypeDef *GPIO_Init);
HAL_StatusTypeDef HAL_DMA_Init(DMA_HandleTypeDef *hdma);
void HAL_DMA_IRQHandler(DMA_HandleTypeDef *hdma);
void HAL_NVIC_SetPriority(IRQn_Type IRQn, uint32_t PreemptPriority, uint32_t SubPriority);
void HAL_NVIC_EnableIRQ(IRQn_Type IRQn);
HAL_StatusTypeDef HAL_DFSDM_ChannelInit(DFSDM_Channel_HandleTypeDef *hdfsdm_channel);
HAL_StatusTypeDef HAL_DFSDM_FilterInit(DFSDM_Filter_HandleTypeDef *hdfsdm_filter);
HAL_StatusTypeDef HAL_DFSDM_FilterConfigRegChannel(DFSDM_Filter_HandleTypeDef *hdfsdm_filter, uint32_t Channel,
                                                   uint32_t ContinuousMode);
HAL_StatusTypeDef HAL_DFSDM_FilterRegularStart_DMA(DFSDM_Filter_HandleTypeDef *hdfsdm_filter, int32_t *pData,
                                                   uint32_t Length);
#ifdef __cplusplus
}
#endif

#endif
