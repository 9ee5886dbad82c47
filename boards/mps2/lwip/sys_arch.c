/*
 * The one system function a NO_SYS=1 lwIP needs: its millisecond clock for
 * sys_check_timeouts(). The name is lwIP's contract.
 */
#include "lwip/sys.h"

#include "mps2.h"

u32_t sys_now(void)
{
    return ap_mps2_now_ms();
}
