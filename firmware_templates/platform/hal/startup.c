/* Vector table and reset handler for the STM32F405 (82 peripheral IRQs).
 * Copies .data, zeroes .bss, enables the FPU, runs C/C++ constructors,
 * then hal_init(), main() and hal_exit(). */
#include <stdint.h>

#include "qemu_hal.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
extern void __libc_init_array(void);

void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));
void USART1_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((weak, alias("Default_Handler")));

#define KWS_IRQ_COUNT 82
#define KWS_USART1_IRQ 37

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used))
static const vector_t vectors[16 + KWS_IRQ_COUNT] = {
    [0] = (vector_t)(uintptr_t)&_estack,
    [1] = Reset_Handler,
    [2] = Default_Handler,           /* NMI */
    [3] = HardFault_Handler,
    [4] = Default_Handler,           /* MemManage */
    [5] = Default_Handler,           /* BusFault */
    [6] = Default_Handler,           /* UsageFault */
    [11] = Default_Handler,          /* SVCall */
    [12] = Default_Handler,          /* DebugMon */
    [14] = Default_Handler,          /* PendSV */
    [15] = SysTick_Handler,
    [16 + KWS_USART1_IRQ] = USART1_IRQHandler,
};

void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    /* CPACR: full access to CP10/CP11 (the single-precision FPU). */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm volatile("dsb\n isb");
    __libc_init_array();
    hal_init();
    hal_exit(main());
}

void Default_Handler(void)
{
    static const char msg[] = "\r\nFAULT: unexpected exception\r\n";
    hal_uart_write(msg, sizeof msg - 1);
    hal_exit(3);
}
