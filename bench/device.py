"""Device benchmarks for `make bench`: the real firmware on the emulated
board (PlatformIO build, QEMU, serial link).

- firmware flash and RAM (``arm-none-eabi-size``) with the micro_speech model
  and runtime c, against the TFLM micro_speech firmware measured here (text
  266,900 B including 128 KB of test audio; about 111 KB of it code);
- on-device evaluation over the emulated UART: clips per second, how many
  clips give the host's scores bit for bit, device instructions per clip.

Reads ../shared beside the checkout (peer model, dev clips), as benchmarks may.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import DEV_SET, PEERS, row
from kws.boards import load_board
from kws.device.build import build, elf_size
from kws.device.session import identify, open_session
from kws.export.flow import export_project
from kws.monitor import eval_clips, evaluate

PEER = PEERS / "micro_speech"
BOARD = "qemu-stm32f405"
LABELS = ("_silence_", "_unknown_", "yes", "no")
STACK_BYTES = 8192  # reserved by the platform's linker script
TFLM_FIRMWARE_TEXT = 266_900
TFLM_FIRMWARE_CODE = 111_000
EVAL_CLIPS = 24


def run() -> list[dict]:
    """Benchmark rows (see the module docstring)."""
    model = PEER / "micro_speech_quantized.tflite"
    board = load_board(BOARD)
    with tempfile.TemporaryDirectory(prefix="kws-bench-device-") as tmp:
        export, project = export_project(model, board, Path(tmp), runtime="c", labels=list(LABELS))
        size = elf_size(build(project.path, project.env).elf)
        code = size.text - export.weight_bytes
        rows = [
            row("firmware flash (text+data), emulated STM32F405, micro_speech, runtime c", size.flash, "bytes",
                 TFLM_FIRMWARE_TEXT, "TFLM micro_speech firmware text measured here (incl. 128 KB test audio)"),
            row("firmware code (text minus model weights), same firmware", code, "bytes", TFLM_FIRMWARE_CODE,
                 "TFLM micro_speech firmware: about 111 KB of code"),
            row("firmware RAM (data+bss+8 KiB stack), same firmware", size.ram + STACK_BYTES, "bytes", 128 * 1024,
                 "STM32F405 SRAM the firmware is linked for"),
        ]
        clips = eval_clips(DEV_SET, LABELS, limit=EVAL_CLIPS)
        with open_session(project, board) as link:
            identify(link)
            report = evaluate(link, clips, LABELS, model.read_bytes(), project.frontend, board=BOARD,
                              model_id=project.model_id)
    summary = report.summary()
    per_clip_insns = sum(c.device.frontend_us + c.device.model_us for c in report.clips) * 1000 / len(report.clips)
    rows += [
        row(f"on-device eval throughput over the emulated UART ({summary['clips']} dev clips of 1 s)",
             summary["clips_per_second"], "clips/s", 1.0, "real time (one 1 s clip per second)"),
        row("on-device eval: clips with the host's scores bit for bit", summary["bit_exact_clips"], "clips",
             summary["clips"], "all clips streamed (host: Python frontend twin + TFLM interpreter)"),
        row("device instructions per 1 s clip (49 frontend frames + 1 inference)", round(per_clip_insns),
             "instructions", 5_200_000 + 1_495_000,
             "TFLM micro_speech on this emulator: frontend 5.2 M + CMSIS-NN inference 1.495 M"),
    ]
    return rows
