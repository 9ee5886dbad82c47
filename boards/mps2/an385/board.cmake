# mps2-an385: AN385 FPGA image, Cortex-M3.
# Soft-float ABI: the firmware does no floating point, so the FPU stays off
# and the startup code need not enable it.
set(AP_MPS2_CPU_FLAGS -mcpu=cortex-m3 -mthumb -mfloat-abi=soft)
set(AP_MPS2_QEMU_MACHINE mps2-an385)
