"""The whole generated firmware of each Arduino-core board (src/: app, link,
frontend, ring, load, smoothing, the board glue and every microphone glue;
lib/kws_model/: runtime c) compiled with arm-none-eabi-gcc/g++ and that
core's own CPU and language flags, warning-free, then linked into one
relocatable object: nothing of kws stays undefined, setup()/loop() are
there, and what is left undefined is what the framework provides.

The framework headers come from PlatformIO packages that cannot be had
offline, so small stand-ins in tests/c/arduino declare what the glue uses,
as the pinned cores declare it: Arduino.h (ArduinoCore-API for the mbed core
4.5.0 and arduino-pico @ fdd7557; STM32duino 2.12.0's own), PDM.h (mbed
core), I2S.h (arduino-pico), stm32l4xx_hal.h (STM32duino's STM32L4 HAL).
``STOOD_IN`` names, per board, the stand-ins its build includes, and the test
checks the claim against the compiler's dependency lists. Runtime tflm (Nano
33 BLE) needs the TFLM library and libstdc++ for arm-none-eabi, neither
offline: its sources compile on the host in tests/test_export_tflm.py
(KWS_TFLM_DIR)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from kws.boards import load_board
from kws.export.exporter import export_model
from kws.export.project import render_project

STANDINS = Path(__file__).resolve().parent / "c" / "arduino"
LABELS = ["_silence_", "_unknown_", "yes", "no"]
WARNINGS = ["-Wall", "-Wextra", "-Werror", "-O2", "-ffunction-sections", "-fdata-sections"]
CXX_ONLY = ["-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"]
# (CPU flags and defines, C standard, C++ standard) as each core compiles
BOARD_FLAGS = {
    # ArduinoCore-mbed 4.5.0 variants/ARDUINO_NANO33BLE/{cflags,cxxflags}.txt
    "nano33ble": (["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16", "-DARDUINO_ARCH_MBED"],
                  "-std=gnu11", "-std=gnu++14"),
    # STM32duino 2.12.0 platform.txt and boards.txt (DISCO_L475VG_IOT)
    "stm32": (["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-DARDUINO_ARCH_STM32",
               "-DSTM32L475xx", "-DUSE_HAL_DRIVER"], "-std=gnu17", "-std=gnu++17"),
    # arduino-pico @ fdd7557 tools/platformio-build.py
    "rp2040": (["-march=armv6-m", "-mcpu=cortex-m0plus", "-mthumb", "-DARDUINO_ARCH_RP2040"], "-std=gnu17",
               "-std=gnu++17"),
}
STOOD_IN = {"nano33ble": {"Arduino.h", "PDM.h"}, "stm32": {"Arduino.h", "stm32l4xx_hal.h"},
            "rp2040": {"Arduino.h", "I2S.h"}}
# what a bare-metal C/C++ build takes from newlib and libgcc
C_RUNTIME = re.compile(r"^(mem(cpy|move|set|cmp)|str\w+|v?snprintf|__aeabi_\w+|__\w+[sd]i[23]|__cxa_\w+|__dso_handle|atexit|"
                       r"operator delete\(.*\))$")


@pytest.fixture(scope="module")
def firmware(peers, tmp_path_factory) -> dict[str, Path]:
    model = peers / "micro_speech" / "micro_speech_quantized.tflite"
    return {name: render_project(name, export_model(model, tmp_path_factory.mktemp(name), runtime="c", board=name,
                                                    labels=LABELS)).path
            for name in BOARD_FLAGS}


def _compile(project: Path, board: str, out: Path) -> list[Path]:
    """Every source of the project compiled for ``board``; the objects (with .d dependency lists)."""
    cpu, c_std, cxx_std = BOARD_FLAGS[board]
    includes = [f"-I{project / d}" for d in ("src", "include", "lib/kws_model")] + [f"-I{STANDINS}"]
    sources = sorted((project / "src").glob("*.c*")) + sorted((project / "lib" / "kws_model").glob("*.c"))
    objects = []
    for source in sources:
        cxx = source.suffix == ".cpp"
        command = ["arm-none-eabi-g++" if cxx else "arm-none-eabi-gcc", *cpu, cxx_std if cxx else c_std, *WARNINGS,
                   *(CXX_ONLY if cxx else []), *includes, "-MD", "-c", str(source), "-o", str(out / f"{source.name}.o")]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{board} {source.name}: {done.stderr[-3000:]}"
        objects.append(out / f"{source.name}.o")
    return objects


@pytest.mark.parametrize("board", sorted(BOARD_FLAGS))
def test_whole_firmware_compiles_and_links_but_for_the_framework(firmware, board: str, tmp_path: Path) -> None:
    project = firmware[board]
    assert load_board(board).family == "arduino"
    objects = _compile(project, board, tmp_path)
    assert {"kws_board_arduino.cpp.o", f"kws_mic_{load_board(board).section('mic')['type']}.cpp.o", "kws_app.c.o",
            "kws_model.c.o", "kws_kernels.c.o", "kws_frontend.c.o", "kws_link.c.o"} <= {o.name for o in objects}

    included = {Path(p).name for d in tmp_path.glob("*.d") for p in re.findall(r"\S+", d.read_text())
                if Path(p).parent == STANDINS}
    assert included == STOOD_IN[board]

    linked = tmp_path / "firmware.o"
    subprocess.run(["arm-none-eabi-ld", "-r", "-o", str(linked), *map(str, objects)], check=True, timeout=60)
    defined = set(subprocess.run(["arm-none-eabi-nm", "--defined-only", "-g", "-C", "--format=just-symbols",
                                  str(linked)], capture_output=True, text=True, check=True).stdout.split("\n"))
    assert {"setup()", "loop()", "kws_board_mic_read", "kws_board_mic_dropped", "kws_mic_init()"} <= defined
    undefined = subprocess.run(["arm-none-eabi-nm", "-u", "-C", "--format=just-symbols", str(linked)],
                               capture_output=True, text=True, check=True).stdout.splitlines()
    framework = [name for name in undefined if not C_RUNTIME.match(name)]
    assert not [name for name in framework if name.startswith("kws_")], framework
    declared = "\n".join((STANDINS / header).read_text() for header in STOOD_IN[board])
    for name in framework:   # e.g. "I2S::read(long*, bool)" -> "read", "vtable for I2S" -> "I2S"
        identifier = re.findall(r"\w+", name.split("(")[0])[-1]
        assert re.search(rf"\b{identifier}\b", declared), f"{board}: {name} is neither kws's nor the framework's"


def test_pico_i2s_glue_moves_audio_in_the_interrupt(tmp_path: Path) -> None:
    """The Pico's I2S glue on the host (tests/c/pico_i2s_host.cpp: an I2S
    input that queues and overwrites buffers as arduino-pico's does): with the
    main loop reading only every 200 ms, a whole second arrives in order and
    nothing is lost, because the receive callback moves each buffer into the
    kws ring; when the library does overwrite, the loss is counted."""
    from kws.resources import templates_dir

    mic = load_board("rp2040").section("mic")
    (tmp_path / "kws_board_config.h").write_text(
        f"#define KWS_MIC_I2S 1\n#define KWS_MIC_SAMPLE_RATE {mic['sample_rate']}\n"
        f"#define KWS_MIC_PIN_SCK {mic['pins']['sck']}\n#define KWS_MIC_PIN_SD {mic['pins']['sd']}\n")
    flags = ["-Wall", "-Wextra", "-Werror", f"-I{tmp_path}", f"-I{STANDINS}", f"-I{templates_dir() / 'app'}",
             f"-DKWS_TEST_SCK={mic['pins']['sck']}", f"-DKWS_TEST_SD={mic['pins']['sd']}"]
    ring = tmp_path / "kws_ring.o"
    subprocess.run(["gcc", "-std=c99", *flags, "-c", str(templates_dir() / "app" / "kws_ring.c"), "-o", str(ring)],
                   check=True, timeout=60)
    exe = tmp_path / "pico_i2s"
    subprocess.run(["g++", "-std=gnu++17", *flags, str(templates_dir() / "boards" / "arduino" / "kws_mic_i2s.cpp"),
                    str(Path(__file__).parent / "c" / "pico_i2s_host.cpp"), str(ring), "-o", str(exe)],
                   check=True, timeout=120, capture_output=True)
    log = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=10).stdout.splitlines()
    assert log == ["buffers 6 words 128 running 1",
                   "long inferences: got 16000 in order 16000 dropped 0",
                   "library overwrote: got 256 dropped 64"]
