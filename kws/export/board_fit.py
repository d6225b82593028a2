"""Will the exported model fit the board? An estimate of flash and RAM from
the model and the firmware's fixed parts, checked against the board profile.

The fixed parts are measured figures (arm-none-eabi-gcc -Os, Cortex-M4):
the kws frontend is 6.6 KB of code and 2 KB of state; TFLM with reference
kernels and its interpreter is about 100 KB of code (DESIGN.md: TFLM firmware
~111 KB of code including frontend and app); the runtime-c kernels are under
4 KB. The rest are stated allowances. ``fit`` refuses a board that cannot hold
the model and warns above ``WARN_FRACTION`` of its flash or RAM.
"""

from __future__ import annotations

from dataclasses import dataclass

from kws.audio.frontend_params import FrontendParams
from kws.boards import Board
from kws.errors import KwsError

WARN_FRACTION = 0.80
RUNTIME_FLASH = {"tflm": 100 * 1024, "c": 5 * 1024}
FRONTEND_FLASH = 7 * 1024
APP_FLASH = 16 * 1024       # startup, HAL, serial protocol, smoothing, printing
FRONTEND_RAM = 2 * 1024
APP_RAM = 1024
STACK_RAM = 4 * 1024


@dataclass(frozen=True)
class BoardFit:
    """Estimated use of one board; ``parts`` itemizes each total."""

    board: str
    flash_bytes: int
    ram_bytes: int
    flash_parts: dict[str, int]
    ram_parts: dict[str, int]
    board_flash: int
    board_ram: int
    warnings: tuple[str, ...]

    @property
    def flash_fraction(self) -> float:
        return self.flash_bytes / self.board_flash

    @property
    def ram_fraction(self) -> float:
        return self.ram_bytes / self.board_ram

    def summary(self) -> str:
        return (f"{self.board}: flash ~{self.flash_bytes:,} of {self.board_flash:,} B ({self.flash_fraction:.0%}), "
                f"RAM ~{self.ram_bytes:,} of {self.board_ram:,} B ({self.ram_fraction:.0%})")


def _items(parts: dict[str, int]) -> str:
    return " + ".join(f"{name} {size:,}" for name, size in parts.items())


def estimate(board: Board, runtime: str, model_flash: int, arena_bytes: int, frontend: FrontendParams,
             input_bytes: int) -> BoardFit:
    """Flash and RAM estimates for ``runtime`` on ``board`` (no check)."""
    flash = {"model": model_flash, f"runtime {runtime}": RUNTIME_FLASH[runtime], "frontend": FRONTEND_FLASH,
             "app": APP_FLASH}
    ram = {"arena": arena_bytes, "features": input_bytes, "audio": 2 * 2 * frontend.window_samples,
           "frontend state": FRONTEND_RAM, "stack": STACK_RAM, "app": APP_RAM}
    warnings = []
    for what, used, total in (("flash", sum(flash.values()), board.flash_bytes), ("RAM", sum(ram.values()), board.ram_bytes)):
        if total and used > WARN_FRACTION * total:
            warnings.append(f"board {board.name}: the firmware would use ~{used / total:.0%} of its {what} "
                            f"(~{used:,} of {total:,} B); little room is left for application code")
    return BoardFit(board.name, sum(flash.values()), sum(ram.values()), flash, ram, board.flash_bytes,
                    board.ram_bytes, tuple(warnings))


def check_runtime(board: Board, runtime: str) -> None:
    """Refuse, in one line, a runtime the board does not list (with the board
    file's reason from ``[runtime_notes]`` when it gives one)."""
    if runtime in board.runtimes:
        return
    why = board.section("runtime_notes").get(runtime)
    raise KwsError(f"--board {board.name} does not support runtime {runtime}"
                   + (f": {why}" if why else f" (its runtimes: {', '.join(board.runtimes)})")
                   + f"; use --runtime {board.runtimes[0]} or another board")


def check_fit(board: Board, runtime: str, fit: BoardFit) -> None:
    """Refuse, in one line, a board that lacks the RAM, the flash or the runtime."""
    for what, used, total, parts in (("RAM", fit.ram_bytes, fit.board_ram, fit.ram_parts),
                                     ("flash", fit.flash_bytes, fit.board_flash, fit.flash_parts)):
        if used > total:
            raise KwsError(f"the model cannot fit --board {board.name}: it needs ~{used:,} B of {what} "
                           f"({_items(parts)}) but the board has {total:,} B; pick a larger board (see `kws boards`) "
                           "or a smaller model")
    check_runtime(board, runtime)
