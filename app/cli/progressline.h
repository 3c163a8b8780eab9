#pragma once

#include "jobs/job.h"

#include <QElapsedTimer>
#include <QString>

#include <cstdio>

// Shows a job's progress on a terminal: a redrawn bar on a TTY, a plain line now and then
// otherwise (logs, CI, pipes), so long renders stay readable either way.
class ProgressLine
{
public:
    explicit ProgressLine(FILE *to);
    void update(const clipdeck::jobs::Job &job);
    void finish(); // ends the bar's line

    static QString formatDuration(double seconds); // "1:02:03", "2:03", "0:07"
    static QString formatSize(qint64 bytes);       // "612 KiB", "1.4 GiB"

private:
    QString describe(const clipdeck::jobs::Job &job) const;
    FILE *m_out;
    bool m_tty;
    bool m_drawn = false;
    QElapsedTimer m_sinceLine;
    QString m_lastStage;
    clipdeck::jobs::Status m_lastStatus = clipdeck::jobs::Status::Pending;
};
