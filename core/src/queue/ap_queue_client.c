/*
 * The queue's post function over an alertpost client, and its send and
 * receive functions over a pipeline (ap_pipeline.h). Kept apart from the
 * queue so that the queue stays free of the client and of TLS: its tests and
 * fuzzers link without Mbed TLS, and a board with another client could post
 * through its own adapter.
 */
#include "alertpost/ap_pipeline.h"
#include "alertpost/ap_queue.h"

ap_status_t ap_queue_post_client(void *ctx, const ap_request_t *req, ap_response_t *resp)
{
    if (ctx == NULL) {
        return AP_ERR_BAD_ARG;
    }
    return ap_post((ap_client_t *)ctx, req, resp);
}

ap_status_t ap_queue_send_pipeline(void *ctx, const ap_request_t *req)
{
    if (ctx == NULL) {
        return AP_ERR_BAD_ARG;
    }
    return ap_pipeline_send((ap_pipeline_t *)ctx, req);
}

ap_status_t ap_queue_receive_pipeline(void *ctx, ap_response_t *resp)
{
    if (ctx == NULL) {
        return AP_ERR_BAD_ARG;
    }
    return ap_pipeline_receive((ap_pipeline_t *)ctx, resp);
}
