#include "jobs/jobstream.h"

#include "jobs/jobjson.h"
#include "sse/encoder.h"

namespace clipdeck::jobs {

QByteArray streamPreamble(int retryMs)
{
    QByteArray out;
    sse::appendRetry(out, retryMs);
    return out;
}

void appendJobEvent(QByteArray &out, const Job &job, QByteArrayView eventId)
{
    // The JSON never holds a CR or LF (encodeJob escapes them), so it is exactly one data line.
    const QByteArray json = encodeJob(job);
    sse::OutgoingEvent event;
    event.data = json;
    event.id = eventId;
    // appendEvent refuses an id with CR, LF or NUL; the caller's cursor is ours, never user text,
    // and the seq form below cannot hold one.
    sse::appendEvent(out, event);
}

void appendJobEvent(QByteArray &out, const Job &job)
{
    appendJobEvent(out, job, QByteArray::number(job.seq));
}

QByteArray jobEvent(const Job &job)
{
    QByteArray out;
    appendJobEvent(out, job);
    return out;
}

} // namespace clipdeck::jobs
