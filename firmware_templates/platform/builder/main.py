"""SCons build script of the kws-qemu platform: bare-metal firmware for the
emulated STM32F405 built with the system arm-none-eabi toolchain (kws
installs a toolchain package whose bin/ points at it), linked with the
platform's startup code and HAL (hal/), and "uploaded" by running it in
qemu-system-arm with USART1 on the terminal (quit with Ctrl-A X)."""

import os

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
platform_dir = env.PioPlatform().get_dir()
cpu_flags = board.get("build.cpu_flags")  # the kws emulator helper reads the same board keys
hal_dir = os.path.join(platform_dir, "hal")

env.Replace(
    AR="arm-none-eabi-gcc-ar",
    AS="arm-none-eabi-as",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    GDB="arm-none-eabi-gdb",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size",
    SIZEPROGREGEXP=r"^(?:\.isr_vector|\.text|\.ARM\.exidx|\.init_array|\.data)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
)
env.Append(
    ASFLAGS=cpu_flags,
    CCFLAGS=cpu_flags + board.get("build.opt_flags"),
    CFLAGS=["-std=c99"],
    CXXFLAGS=["-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"],
    CPPPATH=[hal_dir],
    LINKFLAGS=cpu_flags
    + board.get("build.link_flags")
    + ["-Wl,-Map,${BUILD_DIR}/firmware.map"],
    LIBS=["m"],
)
env.BuildSources(os.path.join("$BUILD_DIR", "kws_hal"), hal_dir)

firmware = env.BuildProgram()
size = env.Alias("size", firmware, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"))
AlwaysBuild(size)

qemu_args = " ".join(board.get("upload.qemu_args"))
upload = env.Alias(
    "upload",
    firmware,
    env.VerboseAction(
        "qemu-system-arm %s -nographic -kernel $SOURCE" % qemu_args,
        "Running $SOURCE in QEMU (USART1 on this terminal; quit with Ctrl-A X)",
    ),
)
AlwaysBuild(upload)

Default([env.Alias("buildprog", firmware, firmware), size])
