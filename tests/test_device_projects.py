"""Every real board's project renders, is a valid PlatformIO project
(`pio project config --lint`, offline), pins its platform and libraries, and
the shared Cortex-M core (frontend, runtime c, smoothing, link, ring, app)
compiles warning-free with arm-none-eabi-gcc for Cortex-M4 and Cortex-M33 and
with the host compiler."""

from __future__ import annotations

import configparser
import subprocess
import sys

import pytest

from kws.boards import list_boards, load_board
from kws.device.build import pio_environment, ensure_offline_packages
from kws.export.exporter import export_model
from kws.export.project import load_project, render_project

LABELS = ["_silence_", "_unknown_", "yes", "no"]
REAL_BOARDS = [b.name for b in list_boards() if not b.emulated and b.family in ("esp32", "arduino")]
CASES = [(name, runtime) for name in REAL_BOARDS for runtime in load_board(name).runtimes]
CORTEX_M = {
    "cortex-m4": ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
    "cortex-m33": ["-mcpu=cortex-m33", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"],
}
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]


@pytest.fixture(scope="module")
def model(peers):
    return peers / "micro_speech" / "micro_speech_quantized.tflite"


@pytest.fixture(scope="module")
def projects(model, tmp_path_factory):
    rendered = {}
    for name, runtime in CASES:
        out = tmp_path_factory.mktemp(f"{name}-{runtime}")
        rendered[name, runtime] = render_project(name, export_model(model, out, runtime=runtime, board=name, labels=LABELS))
    return rendered


def test_the_issue_boards_are_all_there():
    assert {"esp32", "esp32s3", "nano33ble", "stm32", "rp2040"} <= set(REAL_BOARDS)
    assert load_board("qemu-stm32f405").emulated


@pytest.mark.parametrize("name,runtime", CASES)
def test_project_passes_pio_config_lint(projects, name, runtime):
    project = projects[name, runtime]
    ensure_offline_packages()
    done = subprocess.run([sys.executable, "-m", "platformio", "project", "config", "--lint"], cwd=project.path,
                          env=pio_environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr and "Error" not in done.stdout + done.stderr
    assert load_project(project.path).firmware_id == project.firmware_id


@pytest.mark.parametrize("name,runtime", CASES)
def test_platform_and_libraries_are_pinned(projects, name, runtime):
    ini = configparser.ConfigParser()
    ini.read(projects[name, runtime].path / "platformio.ini")
    env = ini[f"env:{name}"]
    assert "@" in env["platform"] or "#" in env["platform"], env["platform"]
    for dep in filter(None, env.get("lib_deps", "").split("\n")):
        assert "#" in dep or "@" in dep, dep
    component = projects[name, runtime].path / "src" / "idf_component.yml"
    if load_board(name).family == "esp32":
        text = component.read_text()
        assert ('espressif/esp-tflite-micro: "==1.3.5"' in text) == (runtime == "tflm")
        assert env["framework"] == "espidf" and (projects[name, runtime].path / "CMakeLists.txt").is_file()
    else:
        assert not component.exists() and env["framework"] == "arduino"


def test_board_pins_reach_the_glue(projects):
    config = (projects["esp32", "c"].path / "include" / "kws_board_config.h").read_text()
    assert "#define KWS_MIC_I2S 1" in config and "#define KWS_MIC_PIN_SCK 26" in config
    assert "#define KWS_LED_PIN 2" in config
    s3 = (projects["esp32s3", "c"].path / "include" / "kws_board_config.h").read_text()
    assert "#define KWS_MIC_PDM 1" in s3 and "#define KWS_SERIAL_USB_JTAG 1" in s3 and "KWS_LED_ACTIVE_LOW 1" in s3


def _core_sources(project):
    glue = {"kws_board_esp32.c"}
    return [p for p in sorted((project.path / "src").glob("*.c")) if p.name not in glue] + \
        sorted((project.path / "lib" / "kws_model").glob("*.c"))


@pytest.mark.parametrize("target", [*CORTEX_M, "host"])
def test_shared_core_compiles_without_warnings(projects, target, tmp_path):
    project = projects["nano33ble", "c"]
    compiler = ["gcc"] if target == "host" else ["arm-none-eabi-gcc", *CORTEX_M[target]]
    includes = [f"-I{project.path / d}" for d in ("src", "include", "lib/kws_model")]
    sources = _core_sources(project)
    assert {"kws_app.c", "kws_frontend.c", "kws_link.c", "kws_smoothing.c", "kws_ring.c", "kws_model.c",
            "kws_kernels.c"} <= {p.name for p in sources}
    for source in sources:
        done = subprocess.run([*compiler, *WARNINGS, "-O2", *includes, "-c", str(source),
                               "-o", str(tmp_path / (source.stem + ".o"))], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{target} {source.name}: {done.stderr}"


def test_stm32_and_rp2040_build_without_the_nano_only_tflm_library(projects, model, tmp_path):
    """The pinned TFLM Arduino library cannot build for them: runtime c only,
    and asking for tflm is one line saying why."""
    from kws.errors import KwsError

    for name in ("stm32", "rp2040"):
        assert load_board(name).runtimes == ("c",)
        ini = (projects[name, "c"].path / "platformio.ini").read_text()
        assert "tflite-micro-arduino-examples" not in ini and "lib_compat_mode" not in ini
        with pytest.raises(KwsError, match=rf"^--board {name} does not support runtime tflm: the TFLM Arduino "
                                           r"library kws pins builds only for the Nano 33 BLE.*; use --runtime c"):
            export_model(model, tmp_path / name, runtime="tflm", board=name, labels=LABELS)
    assert "tflite-micro-arduino-examples" in (projects["nano33ble", "tflm"].path / "platformio.ini").read_text()


def test_stm32_serial_receive_buffer_holds_the_link_window(projects):
    """STM32duino's SERIAL_RX_BUFFER_SIZE (64 by default) is raised so that the
    frames the link keeps in flight fit, as the board file declares."""
    import re

    from kws.device.serial_link import frames_that_fit
    from kws.resources import templates_dir

    window = int(re.search(r"#define KWS_LINK_WINDOW (\d+)", (templates_dir() / "link" / "kws_link.h").read_text())[1])
    ini = configparser.ConfigParser()
    ini.read(projects["stm32", "c"].path / "platformio.ini")
    size = int(re.search(r"-DSERIAL_RX_BUFFER_SIZE=(\d+)", ini["env:stm32"]["build_flags"])[1])
    assert load_board("stm32").section("serial")["rx_buffer"] == size - 1     # a ring keeps one slot free
    for board in list_boards():
        rx_buffer = board.section("serial").get("rx_buffer")
        if board.section("serial").get("transport", "uart") != "usb_cdc" and board.section("upload").get("method"):
            assert rx_buffer, f"{board.name}: a link that drops overflowing bytes must declare its receive buffer"
        if rx_buffer:
            assert frames_that_fit(rx_buffer) >= window, board.name


def test_esp32s3_project_has_what_the_usb_glue_needs(projects):
    """The glue's behaviour runs in tests/test_board_esp32_glue.py; here the
    rendered project: the connection monitor is linked (console on USB
    Serial/JTAG), the receive buffer is declared, esp-nn is pinned."""
    project = projects["esp32s3", "tflm"].path
    assert "portMAX_DELAY" not in (project / "src" / "kws_board_esp32.c").read_text()
    assert "CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG=y" in (project / "sdkconfig.defaults").read_text()
    assert "#define KWS_SERIAL_RX_BUFFER 1024u" in (project / "include" / "kws_board_config.h").read_text()
    component = (project / "src" / "idf_component.yml").read_text()
    assert 'espressif/esp-nn: "==1.2.0"' in component


def test_readme_lists_each_boards_runtimes():
    """README's board table names each board's runtimes in the order export prefers them."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("## Supported boards", 1)[1].split("\n\n", 2)[1]
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `([\w-]+)` \|.*\| ([^|]+) \|$", table, re.M)}
    assert rows.keys() >= {*REAL_BOARDS, "qemu-stm32f405"}
    for name, text in rows.items():
        listed = [r.strip() for r in re.sub(r"\([^)]*\)", "", text).split(",")]
        assert tuple(listed) == load_board(name).runtimes, name
