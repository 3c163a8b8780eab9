#pragma once

// A job event in Server-Sent Events wire format: what the server writes to a job stream and what
// `clipdeck-cli render --events` prints, byte for byte (docs/protocol.md, "SSE encoding of job
// events").

#include "jobs/job.h"

#include <QByteArray>
#include <QByteArrayView>

namespace clipdeck::jobs {

// The reconnection delay a job stream suggests to its clients.
inline constexpr int DefaultRetryMs = 2000;

// What a job stream starts with: a lone "retry:" field (no event), "retry: 2000\n\n".
QByteArray streamPreamble(int retryMs = DefaultRetryMs);

// One event: "id: <seq>\ndata: <schema v1 JSON>\n\n". The type is the default "message", so a
// browser's EventSource.onmessage receives it. A stream that multiplexes several jobs passes
// its own resume cursor as eventId instead of the job's seq.
void appendJobEvent(QByteArray &out, const Job &job);
void appendJobEvent(QByteArray &out, const Job &job, QByteArrayView eventId);
QByteArray jobEvent(const Job &job);

} // namespace clipdeck::jobs
