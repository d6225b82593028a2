"""The emulated board's building blocks: PlatformIO offline from an empty
core dir with the local platform, the bare-metal helper (UART output, exit
status, exact instruction counts, one-line compile errors, timeouts), and
QEMU process management (start, reset, stop, no orphans even when the
Python process is killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import serial

from kws.device.build import build, elf_size
from kws.device.emulator import Emulator, build_baremetal, run_baremetal, run_elf
from kws.errors import KwsError
from kws.boards import local_platforms

COUNT_LOOP = r"""
#include <stdio.h>
#include "qemu_hal.h"
static volatile uint32_t sink;
int main(void)
{
  uint64_t start = hal_cycles();
  for (uint32_t i = 0; i < N; i++) {
    sink += i;
  }
  uint64_t insns = HAL_INSNS(hal_cycles() - start);
  printf("insns=%lu\n", (unsigned long)insns);
  return RESULT;
}
"""


def qemu_pids() -> set[int]:
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if b"qemu-system-arm" in handle.read().split(b"\0")[0]:
                        pids.add(int(entry))
            except OSError:
                pass
    return pids


def count(tmp_path, n: int, result: int = 0):
    source = tmp_path / "count.c"
    source.write_text(COUNT_LOOP)
    run = run_baremetal([source], defines={"N": n, "RESULT": result}, cflags=["-Wall", "-Werror"])
    return int(run.output.split("insns=")[1]), run


def test_instruction_counts_are_exact_and_repeatable(tmp_path):
    small, run = count(tmp_path, 1000)
    assert run.exit_code == 0 and run.output.startswith("insns=")
    again, _ = count(tmp_path, 1000)
    large, _ = count(tmp_path, 3000)
    assert small == again  # -icount shift=0: deterministic
    per_iteration = (large - small) / 2000
    assert per_iteration == int(per_iteration) and 3 <= per_iteration <= 10


def test_nonzero_main_is_a_failed_run(tmp_path):
    _, run = count(tmp_path, 10, result=3)
    assert run.exit_code == 1


def test_compile_error_is_one_line(tmp_path):
    source = tmp_path / "broken.c"
    source.write_text("int main(void) { return undefined_name; }\n")
    with pytest.raises(KwsError, match="broken.c.*undefined_name") as caught:
        build_baremetal([source], tmp_path)
    assert "\n" not in str(caught.value)


def test_program_that_never_ends_is_stopped(tmp_path):
    source = tmp_path / "spin.c"
    source.write_text('#include <stdio.h>\nint main(void) { printf("spinning\\n"); for (;;) {} }\n')
    before = qemu_pids()
    start = time.monotonic()
    with pytest.raises(KwsError, match="did not finish within 2 s.*spinning"):
        run_baremetal([source], timeout=2)
    assert time.monotonic() - start < 10
    assert qemu_pids() <= before


@pytest.fixture(scope="module")
def echo_elf(tmp_path_factory):
    folder = tmp_path_factory.mktemp("echo")
    source = folder / "echo.c"
    source.write_text(textwrap.dedent(r"""
        #include <stdio.h>
        #include "qemu_hal.h"
        int main(void)
        {
          printf("KWS fw=echo\n");
          for (;;) {
            int c = hal_uart_read();
            if (c >= 0) {
              char byte = (char)(c == 'a' ? 'A' : c);
              hal_uart_write(&byte, 1);
            }
          }
        }
    """))
    return build_baremetal([source], folder)


def test_emulator_uart_reset_and_stop(echo_elf):
    before = qemu_pids()
    with Emulator(echo_elf) as emu:
        assert emu.url.startswith("socket://127.0.0.1:")
        with serial.serial_for_url(emu.url, timeout=5) as port:
            assert port.readline() == b"KWS fw=echo\n"
            port.write(b"banana\n")
            assert port.readline() == b"bAnAnA\n"
            emu.reset()
            assert port.readline() == b"KWS fw=echo\n"  # rebooted, same connection
        assert emu.running
    assert not emu.running and qemu_pids() <= before
    with pytest.raises(KwsError, match="not running"):
        emu.reset()


def test_no_orphan_qemu_when_python_is_killed(echo_elf):
    script = f"from kws.device.emulator import Emulator; e = Emulator({str(echo_elf)!r}).start(); print(e.port, flush=True); input()"
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip().isdigit()
        ours = {pid for pid in qemu_pids() if _parent_was(pid, child.pid)}
        assert ours
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and ours & qemu_pids():
            time.sleep(0.05)
        assert not ours & qemu_pids()
    finally:
        child.kill()


def _parent_was(pid: int, parent: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1]) == parent
    except OSError:
        return False


def test_pio_builds_offline_from_an_empty_core_dir(tmp_path, monkeypatch):
    """A fresh PlatformIO home: kws installs tool-scons (PyPI scons) and the
    system toolchain itself; nothing is downloaded."""
    monkeypatch.setenv("KWS_CACHE_DIR", str(tmp_path / "cache"))
    project = tmp_path / "hello"
    (project / "src").mkdir(parents=True)
    (project / "platformio.ini").write_text(
        f"[env:qemu]\nplatform = {local_platforms()['kws-qemu']}\nboard = netduinoplus2\n"
        "build_src_flags = -Wall -Wextra -Werror\n"
    )
    (project / "src" / "main.c").write_text('#include <stdio.h>\nint main(void) { printf("hello from pio\\n"); return 0; }\n')
    result = build(project, "qemu")
    assert (tmp_path / "cache" / "platformio" / "packages" / "tool-scons" / "scons.py").is_file()
    assert "SUCCESS" in result.log
    assert elf_size(result.elf).flash < 64 * 1024
    run = run_elf(result.elf)
    assert run.output == "hello from pio\n" and run.exit_code == 0
