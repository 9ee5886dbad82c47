# Toolchain file for bare-metal Arm Cortex-M firmware (GNU Arm Embedded:
# arm-none-eabi-gcc with newlib-nano).
#
# It names the compiler and the C library only. The CPU (-mcpu, -mthumb, the
# float ABI) is a property of the board, not of the toolchain: each board adds
# its flags, e.g. boards/mps2/mps2_board.cmake. Try-compiles build a static
# library so CMake never needs a linker script or startup code to probe the
# compiler.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(_ap_triple arm-none-eabi)
find_program(CMAKE_C_COMPILER   ${_ap_triple}-gcc     REQUIRED)
find_program(CMAKE_ASM_COMPILER ${_ap_triple}-gcc     REQUIRED)
find_program(CMAKE_AR           ${_ap_triple}-ar      REQUIRED)
find_program(CMAKE_RANLIB       ${_ap_triple}-ranlib  REQUIRED)
find_program(CMAKE_OBJCOPY      ${_ap_triple}-objcopy REQUIRED)
find_program(CMAKE_OBJDUMP      ${_ap_triple}-objdump REQUIRED)
find_program(CMAKE_SIZE         ${_ap_triple}-size    REQUIRED)

set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# newlib-nano: the small printf/malloc variants. The specs file also selects
# newlib-nano's headers, so the compiler needs it as well as the linker; CMake
# repeats the C flags on the link line, so it appears once, here (given twice,
# GCC rejects the specs file). Section-per-function plus --gc-sections keeps
# unused library code out.
set(CMAKE_C_FLAGS_INIT   "--specs=nano.specs -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "--specs=nano.specs")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections")

# Programs (python3, qemu) come from the host; libraries and headers only
# from the target's sysroot.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
