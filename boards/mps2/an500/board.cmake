# mps2-an500: AN500 FPGA image, Cortex-M7 (with FPU, unused).
# Unlike AN385/AN386, its Ethernet controller sits at 0xA0000000.
# Soft-float ABI: the firmware does no floating point, so the FPU stays off
# and the startup code need not enable it.
set(AP_MPS2_CPU_FLAGS -mcpu=cortex-m7 -mthumb -mfloat-abi=soft)
set(AP_MPS2_QEMU_MACHINE mps2-an500)
