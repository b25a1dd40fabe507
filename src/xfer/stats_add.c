/* SPDX-License-Identifier: Apache-2.0 */
/* The counters of a job made of several engine runs (the relay's GETs and PUTs). */
#include "s3dlio/xfer.h"

void s3dlio_xfer_stats_add(struct s3dlio_xfer_stats *into, const struct s3dlio_xfer_stats *from)
{
    into->changed += from->changed;
    into->restarted += from->restarted;
    into->verified += from->verified;
    into->not_verifiable += from->not_verifiable;
    into->requests += from->requests;
    into->retries += from->retries;
    into->throttled += from->throttled;
    into->server_errors += from->server_errors;
    into->backoff_ms += from->backoff_ms;
    into->ttfb_ns_sum += from->ttfb_ns_sum;
    into->aborted_uploads += from->aborted_uploads;
    into->limit_decreases += from->limit_decreases;
    into->interrupted |= from->interrupted;
    if (from->max_inflight > into->max_inflight)
        into->max_inflight = from->max_inflight;
    if (from->limit_configured > into->limit_configured)
        into->limit_configured = from->limit_configured;
    if (from->limit_min && (!into->limit_min || from->limit_min < into->limit_min))
        into->limit_min = from->limit_min;
    if (from->t_start_ns && (!into->t_start_ns || from->t_start_ns < into->t_start_ns))
        into->t_start_ns = from->t_start_ns;
    if (from->t_end_ns > into->t_end_ns)
        into->t_end_ns = from->t_end_ns;
    for (uint32_t i = 0; i < from->nlimit_samples && into->nlimit_samples < S3DLIO_LIMIT_SAMPLES; i++)
        into->limit_samples[into->nlimit_samples++] = from->limit_samples[i];
}
