"""An ESP32 ROM serial loader on a loopback TCP port, for testing the ESP32
upload path without a chip. It speaks the real protocol esptool speaks:
SLIP framing; requests ``00 op len16 chk32 data`` and responses
``01 op len16 value32 data status``; SYNC, READ_REG/WRITE_REG (chip
detection, eFuses, SPI flash ID through the SPI1 user-command registers),
SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE, MEM_BEGIN/DATA/END (esptool's
flasher stub: the simulator then answers as the stub, with its "OHAI"
greeting and 2-byte status), FLASH_BEGIN/DATA/END, FLASH_DEFL_BEGIN/DATA/END
(zlib), SPI_FLASH_MD5, and GET_SECURITY_INFO answered as "unsupported" as
the ESP32 ROM does.

It checks what it receives and keeps a 4 MiB flash image: every packet's
length, every data block's XOR checksum (seed 0xEF) and sequence number,
block sizes and region bounds, and that a compressed region decompresses to
exactly its announced size. Problems are collected in ``errors`` (the
sender also gets a failure status); ``regions`` lists (offset, bytes)
written. ``silent=True`` makes a chip that never answers (not in download
mode)."""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import zlib
from dataclasses import dataclass, field

SLIP_END, SLIP_ESC, SLIP_ESC_END, SLIP_ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD
CHECKSUM_SEED = 0xEF
SYNC_PAYLOAD = b"\x07\x07\x12\x20" + 32 * b"\x55"

# ESP32 (esptool's targets/esp32.py names these registers).
MAGIC_REG, ESP32_MAGIC = 0x40001000, 0x00F01D83
SPI1_BASE = 0x3FF42000
SPI_CMD, SPI_W0, SPI_CMD_USR = SPI1_BASE + 0x00, SPI1_BASE + 0x80, 1 << 18
SPI_USR2 = SPI1_BASE + 0x24
UART_CLKDIV_REG = 0x3FF40014
EFUSE_BASE = 0x3FF5A000
FLASH_ID = 0x1640EF  # Winbond (0xEF), type 0x40, 4 MiB (0x16)

OPS = {
    0x02: "FLASH_BEGIN", 0x03: "FLASH_DATA", 0x04: "FLASH_END", 0x05: "MEM_BEGIN", 0x06: "MEM_END",
    0x07: "MEM_DATA", 0x08: "SYNC", 0x09: "WRITE_REG", 0x0A: "READ_REG", 0x0B: "SPI_SET_PARAMS",
    0x0D: "SPI_ATTACH", 0x0F: "CHANGE_BAUDRATE", 0x10: "FLASH_DEFL_BEGIN", 0x11: "FLASH_DEFL_DATA",
    0x12: "FLASH_DEFL_END", 0x13: "SPI_FLASH_MD5", 0x14: "GET_SECURITY_INFO",
}
DATA_OPS = {0x03, 0x07, 0x11}  # carry a checksum over their payload


def slip_encode(packet: bytes) -> bytes:
    body = packet.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return b"\xc0" + body + b"\xc0"


@dataclass
class _Download:
    """A FLASH_BEGIN / FLASH_DEFL_BEGIN / MEM_BEGIN in progress."""

    kind: str
    offset: int
    size: int
    blocks: int
    block_size: int
    next_seq: int = 0
    data: bytearray = field(default_factory=bytearray)
    inflater: "zlib._Decompress | None" = None


class EspRomSimulator:
    """ESP32 in download mode on ``socket://127.0.0.1:<port>``."""

    def __init__(self, *, flash_size: int = 4 << 20, silent: bool = False) -> None:
        self.flash = bytearray(b"\xff" * flash_size)
        self.silent = silent
        self.errors: list[str] = []
        self.regions: list[tuple[int, bytes]] = []
        self.commands: list[str] = []
        self.stub_running = False
        self.stub_segments: list[tuple[int, int]] = []
        self.regs: dict[int, int] = {
            MAGIC_REG: ESP32_MAGIC,
            UART_CLKDIV_REG: 347,  # 40 MHz crystal / 115200 baud
            EFUSE_BASE + 4 * 1: 0x12345678,   # MAC words
            EFUSE_BASE + 4 * 2: 0x0000ABCD,
            EFUSE_BASE + 4 * 3: 1 << 15,      # chip revision bits; package D0WD-Q6
            EFUSE_BASE + 4 * 5: 1 << 20,      # revision 1
        }
        self._download: _Download | None = None
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(1)
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self._server.getsockname()[1]}"

    def __enter__(self) -> "EspRomSimulator":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._server.close()

    # -- transport -------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.2)
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        frame, in_frame, escape = bytearray(), False, False
        while not self._stop.is_set():
            try:
                chunk = conn.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            if self.silent:
                continue
            for byte in chunk:
                if byte == SLIP_END:
                    if in_frame and frame:
                        self._handle(conn, bytes(frame))
                    frame, in_frame = bytearray(), True
                elif not in_frame:
                    continue  # noise between frames
                elif escape:
                    frame.append({SLIP_ESC_END: SLIP_END, SLIP_ESC_ESC: SLIP_ESC}.get(byte, -1) & 0xFF)
                    if byte not in (SLIP_ESC_END, SLIP_ESC_ESC):
                        self.errors.append(f"bad SLIP escape 0xdb 0x{byte:02x}")
                    escape = False
                elif byte == SLIP_ESC:
                    escape = True
                else:
                    frame.append(byte)

    def _reply(self, conn: socket.socket, op: int, value: int = 0, data: bytes = b"", error: int = 0) -> None:
        status = bytes([1 if error else 0, error]) + (b"" if self.stub_running else b"\0\0")
        body = data + status
        conn.sendall(slip_encode(struct.pack("<BBHI", 1, op, len(body), value) + body))

    # -- protocol --------------------------------------------------------

    def _fail(self, conn: socket.socket, op: int, message: str, error: int = 0x05) -> None:
        self.errors.append(f"{OPS.get(op, hex(op))}: {message}")
        self._reply(conn, op, error=error)

    def _handle(self, conn: socket.socket, packet: bytes) -> None:
        if len(packet) < 8 or packet[0] != 0:
            self.errors.append(f"malformed request {packet[:8].hex()}")
            return
        _, op, size, chk = struct.unpack("<BBHI", packet[:8])
        data = packet[8:]
        name = OPS.get(op, f"0x{op:02x}")
        self.commands.append(name)
        if size != len(data):
            return self._fail(conn, op, f"length field {size} but {len(data)} data bytes")
        if op in DATA_OPS:
            if len(data) < 16:
                return self._fail(conn, op, "data block without its 16-byte header")
            block = data[16:]
            expected = CHECKSUM_SEED
            for byte in block:
                expected ^= byte
            if chk != expected:
                return self._fail(conn, op, f"checksum 0x{chk:02x}, data says 0x{expected:02x}", error=0x07)
        handler = getattr(self, f"_op_{name.lower()}", None)
        if handler is None:
            return self._reply(conn, op, error=0x05)  # what the ROM says to unknown commands
        handler(conn, op, data)

    def _op_sync(self, conn, op, data):
        if data != SYNC_PAYLOAD:
            return self._fail(conn, op, "wrong SYNC payload")
        value = 0 if self.stub_running else 0x20120707
        for _ in range(1 if self.stub_running else 8):
            self._reply(conn, op, value)

    def _op_get_security_info(self, conn, op, data):
        self._reply(conn, op, error=0x05)  # the ESP32 ROM does not know it

    def _op_read_reg(self, conn, op, data):
        (address,) = struct.unpack("<I", data[:4])
        self._reply(conn, op, self.regs.get(address, 0))

    def _op_write_reg(self, conn, op, data):
        if len(data) % 16:
            return self._fail(conn, op, f"{len(data)} bytes is not a list of 16-byte writes")
        for i in range(0, len(data), 16):
            address, value, mask, _delay = struct.unpack("<IIII", data[i : i + 16])
            self.regs[address] = (self.regs.get(address, 0) & ~mask) | (value & mask)
            if address == SPI_CMD and value & SPI_CMD_USR:
                command = self.regs.get(SPI_USR2, 0) & 0xFF
                self.regs[SPI_W0] = FLASH_ID if command == 0x9F else 0  # RDID; status reads are 0
                self.regs[SPI_CMD] = 0  # the user command completes at once
        self._reply(conn, op)

    def _op_spi_attach(self, conn, op, data):
        self._reply(conn, op)

    def _op_spi_set_params(self, conn, op, data):
        _id, total, block, sector, page, _mask = struct.unpack("<IIIIII", data)
        if total > len(self.flash) or (block, sector, page) != (0x10000, 0x1000, 0x100):
            return self._fail(conn, op, f"unexpected flash geometry {total}/{block}/{sector}/{page}")
        self._reply(conn, op)

    def _op_change_baudrate(self, conn, op, data):
        self._reply(conn, op)

    def _begin(self, conn, op, data, kind: str) -> None:
        size, blocks, block_size, offset = struct.unpack("<IIII", data[:16])
        self._finish_download()  # the ROM starts a new region without an END in between
        if kind != "mem" and offset + size > len(self.flash):
            return self._fail(conn, op, f"0x{offset:x}+{size} is beyond the {len(self.flash)}-byte flash")
        if kind != "mem" and offset % 0x1000:
            return self._fail(conn, op, f"offset 0x{offset:x} is not sector aligned")
        self._download = _Download(kind, offset, size, blocks, block_size,
                                   inflater=zlib.decompressobj() if kind == "deflate" else None)
        self._reply(conn, op)

    def _op_flash_begin(self, conn, op, data):
        self._begin(conn, op, data, "flash")

    def _op_flash_defl_begin(self, conn, op, data):
        self._begin(conn, op, data, "deflate")

    def _op_mem_begin(self, conn, op, data):
        self._begin(conn, op, data, "mem")

    def _block(self, conn, op, data, kinds: tuple[str, ...]) -> None:
        length, seq, _, _ = struct.unpack("<IIII", data[:16])
        block = data[16:]
        download = self._download
        if download is None or download.kind not in kinds:
            return self._fail(conn, op, "data without a matching BEGIN")
        if length != len(block):
            return self._fail(conn, op, f"block says {length} bytes, carries {len(block)}")
        if seq != download.next_seq:
            return self._fail(conn, op, f"block {seq} arrived, expected {download.next_seq}")
        if download.kind != "deflate" and len(block) > download.block_size:
            return self._fail(conn, op, f"block of {len(block)} bytes exceeds {download.block_size}")
        download.next_seq += 1
        download.data += download.inflater.decompress(block) if download.inflater else block
        if download.kind != "mem" and len(download.data) > download.size + (download.block_size if download.kind == "flash" else 0):
            return self._fail(conn, op, f"more data than the {download.size} bytes announced")
        self._reply(conn, op)

    def _op_flash_data(self, conn, op, data):
        self._block(conn, op, data, ("flash",))

    def _op_flash_defl_data(self, conn, op, data):
        self._block(conn, op, data, ("deflate",))

    def _op_mem_data(self, conn, op, data):
        self._block(conn, op, data, ("mem",))

    def _finish_download(self) -> None:
        download, self._download = self._download, None
        if download is None:
            return
        if download.kind == "mem":
            if len(download.data) != download.size:
                self.errors.append(f"RAM segment 0x{download.offset:x}: {len(download.data)} of {download.size} bytes")
            self.stub_segments.append((download.offset, len(download.data)))
            return
        if download.size == 0:
            return
        payload = bytes(download.data[: download.size])
        if len(payload) != download.size:
            self.errors.append(f"region 0x{download.offset:x}: {len(payload)} of {download.size} bytes arrived")
        self.flash[download.offset : download.offset + len(payload)] = payload
        self.regions.append((download.offset, payload))

    def _op_flash_end(self, conn, op, data):
        self._finish_download()
        self._reply(conn, op)

    def _op_flash_defl_end(self, conn, op, data):
        self._finish_download()
        self._reply(conn, op)

    def _op_spi_flash_md5(self, conn, op, data):
        self._finish_download()  # esptool verifies right after the last block
        address, size, _, _ = struct.unpack("<IIII", data[:16])
        digest = hashlib.md5(bytes(self.flash[address : address + size]))
        self._reply(conn, op, data=digest.digest() if self.stub_running else digest.hexdigest().encode())

    def _op_mem_end(self, conn, op, data):
        flag, entry = struct.unpack("<II", data[:8])
        self._finish_download()
        self._reply(conn, op)
        if flag == 0 and entry:  # run the uploaded code: esptool's flasher stub
            self.stub_running = True
            conn.sendall(slip_encode(b"OHAI"))
