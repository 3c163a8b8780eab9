#pragma once

// A job snapshot as JSON, schema v1 (docs/protocol.md, "Job snapshot (schema v1)").

#include "jobs/job.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <optional>

namespace clipdeck::jobs {

inline constexpr int SchemaVersion = 1;

// Compact UTF-8 JSON with the keys in the documented order. Deterministic: the same Job gives
// the same bytes (params are written with their keys sorted), so the server, the CLI and the
// local engine agree byte for byte. Never contains a CR or LF (they are escaped), so it fits in
// one SSE data line. NaN and infinite numbers are written as null.
QByteArray encodeJob(const Job &job);
void appendJob(QByteArray &out, const Job &job);

struct JobDecodeResult
{
    std::optional<Job> job; // set only when the whole snapshot is valid
    QString error;          // otherwise: which key and what was wrong with it
};

// Validates everything the schema says: JSON syntax, "v" == 1, every key present with its type
// (nullable keys may be null), known status, numbers in range, ISO 8601 times. Unknown extra
// keys are ignored, so a later minor addition does not break older readers.
JobDecodeResult decodeJob(QByteArrayView json);

// ISO 8601 in UTC with milliseconds, e.g. "2026-01-31T09:05:07.042Z" (the schema's time format).
QByteArray formatUtcTime(const QDateTime &time);

} // namespace clipdeck::jobs
