"""Devices: building firmware (PlatformIO), uploading it (PlatformIO, esptool,
the emulator), the emulated board (QEMU) and the serial link to the firmware."""
