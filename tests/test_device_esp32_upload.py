"""The ESP32 upload path (esptool, as `kws flash` runs it) against a ROM
loader simulator speaking esptool's real serial protocol over loopback:
every image lands at the board profile's offset, byte for byte, through the
flasher stub with compression; a chip that does not answer gets the board's
"hold BOOT" hint."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest
from esptool.bin_image import ELFSection, ESP32FirmwareImage

from esp_rom_sim import EspRomSimulator
from kws.boards import load_board
from kws.device.upload import esptool_images, esptool_upload
from kws.errors import KwsError


def esp_image(path, entry: int, payload: bytes) -> bytes:
    image = ESP32FirmwareImage()
    image.entrypoint = entry
    image.segments = [ELFSection(b".dram0.data", 0x3FFB0000, payload, 0),
                      ELFSection(b".iram0.text", 0x40080000, b"\x00" * 1024, 0)]
    image.save(str(path))
    return path.read_bytes()


def partition_table() -> bytes:
    rows = [(0x01, 0x02, 0x9000, 0x6000, b"nvs"), (0x00, 0x00, 0x10000, 0x100000, b"factory")]
    table = b"".join(struct.pack("<2sBBII16sI", b"\xaa\x50", kind, sub, offset, size, label, 0)
                     for kind, sub, offset, size, label in rows)
    return table + b"\xff" * (0xC00 - len(table))


@pytest.fixture
def build_dir(tmp_path):
    rng = np.random.default_rng(0)
    esp_image(tmp_path / "bootloader.bin", 0x40080400, b"boot" * 4000)
    (tmp_path / "partitions.bin").write_bytes(partition_table())
    # ~200 KB, half of it incompressible: several 16 KiB stub blocks
    app = bytes(rng.integers(0, 256, 100_000, dtype=np.uint8)) + b"kws firmware " * 8000
    esp_image(tmp_path / "firmware.bin", 0x40081000, app)
    return tmp_path


def test_images_land_at_the_profile_offsets(build_dir):
    board = load_board("esp32")
    with EspRomSimulator() as sim:
        esptool_upload(build_dir, board, sim.url, connect_attempts=1)
    assert sim.errors == []
    assert sim.stub_running and sim.stub_segments  # esptool uploaded and started its flasher stub
    assert "FLASH_DEFL_DATA" in sim.commands and "SPI_FLASH_MD5" in sim.commands
    images = esptool_images(build_dir, board)
    assert [offset for offset, _ in images] == [0x1000, 0x8000, 0x10000]
    assert sorted(offset for offset, _ in sim.regions) == [offset for offset, _ in images]
    for offset, path in images:
        data = path.read_bytes()
        assert bytes(sim.flash[offset : offset + len(data)]) == data, path.name
    assert sim.flash[0x1000] == 0xE9 and sim.flash[0x10000] == 0xE9  # ESP image magic where the ROM boots
    assert bytes(sim.flash[0x8000:0x8002]) == b"\xaa\x50"  # partition table where ESP-IDF reads it


def test_esp32s3_bootloader_goes_to_zero(build_dir):
    assert [offset for offset, _ in esptool_images(build_dir, load_board("esp32s3"))] == [0x0, 0x8000, 0x10000]


def test_silent_chip_gets_the_boot_button_hint(build_dir):
    start = time.monotonic()
    with EspRomSimulator(silent=True) as sim, pytest.raises(KwsError) as caught:
        esptool_upload(build_dir, load_board("esp32"), sim.url, connect_attempts=1)
    message = str(caught.value)
    assert "does not answer" in message and "hold the BOOT button" in message and "\n" not in message
    assert time.monotonic() - start < 15


def test_missing_image_is_named(build_dir):
    (build_dir / "partitions.bin").unlink()
    with pytest.raises(KwsError, match="partitions.bin not built"):
        esptool_upload(build_dir, load_board("esp32"), "socket://127.0.0.1:9", connect_attempts=1)
