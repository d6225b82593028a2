/* USART1, SysTick, semihosting exit and reset for QEMU netduinoplus2. */
#include <errno.h>
#include <sys/stat.h>

#include "qemu_hal.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define USART1_SR REG(0x40011000u)
#define USART1_DR REG(0x40011004u)
#define USART1_CR1 REG(0x4001100Cu)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RE (1u << 2)

#define NVIC_ISER1 REG(0xE000E104u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_AIRCR REG(0xE000ED0Cu)

#define TICK_CYCLES (HAL_CPU_HZ / 1000u)

static volatile uint32_t millis;
static volatile uint8_t rx_ring[HAL_RX_BUFFER];
static volatile uint32_t rx_head; /* written by the interrupt */
static volatile uint32_t rx_tail; /* written by hal_uart_read */

void SysTick_Handler(void)
{
    millis++;
}

void USART1_IRQHandler(void)
{
    while (USART1_SR & USART_SR_RXNE) {
        uint8_t byte = (uint8_t)USART1_DR;
        uint32_t next = (rx_head + 1u) % HAL_RX_BUFFER;
        if (next != rx_tail) { /* a full ring drops the byte; the link's flow control prevents it */
            rx_ring[rx_head] = byte;
            rx_head = next;
        }
    }
}

void hal_init(void)
{
    SYST_RVR = TICK_CYCLES - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
    USART1_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
    NVIC_ISER1 = 1u << (37u - 32u);
}

void hal_uart_write(const void *data, size_t n)
{
    const uint8_t *bytes = data;
    for (size_t i = 0; i < n; i++) {
        while (!(USART1_SR & USART_SR_TXE)) {
        }
        USART1_DR = bytes[i];
    }
}

int hal_uart_read(void)
{
    if (rx_tail == rx_head) {
        return -1;
    }
    int byte = rx_ring[rx_tail];
    rx_tail = (rx_tail + 1u) % HAL_RX_BUFFER;
    return byte;
}

size_t hal_uart_rx_free(void)
{
    return HAL_RX_BUFFER - 1u - (rx_head + HAL_RX_BUFFER - rx_tail) % HAL_RX_BUFFER;
}

uint32_t hal_millis(void)
{
    return millis;
}

uint64_t hal_cycles(void)
{
    uint32_t ms, left;
    do { /* re-read when the tick interrupt lands in between */
        ms = millis;
        left = SYST_CVR;
    } while (ms != millis);
    return (uint64_t)ms * TICK_CYCLES + (TICK_CYCLES - 1u - left);
}

void hal_exit(int code)
{
    /* SYS_EXIT: ADP_Stopped_ApplicationExit ends QEMU with status 0,
     * ADP_Stopped_RunTimeErrorUnknown with status 1. */
    register uint32_t op __asm("r0") = 0x18u;
    register uint32_t reason __asm("r1") = code == 0 ? 0x20026u : 0x20023u;
    __asm volatile("bkpt 0xAB" : : "r"(op), "r"(reason) : "memory");
    for (;;) {
    }
}

void hal_reset(void)
{
    SCB_AIRCR = 0x05FA0004u;
    for (;;) {
    }
}

/* newlib retargeting: stdout/stderr go to USART1, nothing else exists. */
int _write(int fd, const char *buf, int len);
int _write(int fd, const char *buf, int len)
{
    (void)fd;
    hal_uart_write(buf, (size_t)len);
    return len;
}
