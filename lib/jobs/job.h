#pragma once

// The job as every part of Clipdeck sees it: the local engine produces it, the server stores and
// streams it, the client model shows it. Its JSON form (schema v1) is in jobjson.h and
// docs/protocol.md.

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringView>
#include <QVariantMap>

#include <optional>

namespace clipdeck::jobs {

enum class Status { Pending, Running, Paused, Complete, Failed, Canceled };

// complete, failed and canceled: nothing happens to the job any more (until a retry).
constexpr bool isTerminal(Status status)
{
    return status == Status::Complete || status == Status::Failed || status == Status::Canceled;
}

// "pending", "running", "paused", "complete", "failed", "canceled".
QLatin1StringView statusName(Status status);
std::optional<Status> statusFromName(QStringView name);

// Stable job error codes beyond media's (media::errors::* pass through unchanged).
namespace errors {
inline constexpr QLatin1StringView UnknownKind{"unknown_kind"};   // submit: no operation of that kind
inline constexpr QLatin1StringView Interrupted{"interrupted"};    // the process stopped while it ran
inline constexpr QLatin1StringView NotFound{"not_found"};         // no job with that id
inline constexpr QLatin1StringView InvalidState{"invalid_state"}; // e.g. pausing a finished job
} // namespace errors

struct Error
{
    QString code;    // stable, machine-readable ("file_not_found", "interrupted", ...)
    QString message; // for people

    friend bool operator==(const Error &, const Error &) = default;
};

struct Speed
{
    double fps = 0;      // frames processed per second; 0 when unknown
    double realtime = 0; // media seconds processed per wall second; 0 when unknown

    friend bool operator==(const Speed &, const Speed &) = default;
};

struct Output
{
    QString name; // file name
    QString path; // absolute path where the job ran
    QString role; // "video", "audio", "poster", "contact_sheet", "thumbnail", "scenes", ...
    qint64 size = 0;
    QString mime;

    friend bool operator==(const Output &, const Output &) = default;
};

struct Job
{
    QString id;
    qint64 seq = 0; // per job, +1 per event, never reset (not even by a retry)
    QString kind;
    QString input; // a local media path, or a server media id
    QVariantMap params;
    Status status = Status::Pending;
    double progress = 0; // 0..100
    QString stage;       // "analysing", "encoding", "finalising", ...; may be empty
    std::optional<double> etaSeconds;
    std::optional<Speed> speed;
    int attempt = 1;
    int priority = 0; // higher runs first
    std::optional<Error> error;
    QList<Output> outputs;
    QDateTime createdAt;  // UTC
    QDateTime startedAt;  // UTC; null until the current attempt starts
    QDateTime finishedAt; // UTC; null until the current attempt ends
    QDateTime updatedAt;  // UTC; the time of this snapshot

    bool isTerminal() const { return jobs::isTerminal(status); }

    friend bool operator==(const Job &, const Job &) = default;
};

} // namespace clipdeck::jobs

Q_DECLARE_METATYPE(clipdeck::jobs::Job)
