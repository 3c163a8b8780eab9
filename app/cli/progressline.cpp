#include "progressline.h"

#include <QTextStream>

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>

using clipdeck::jobs::Job;
using clipdeck::jobs::Status;

ProgressLine::ProgressLine(FILE *to) : m_out(to), m_tty(isatty(fileno(to)) == 1) { }

QString ProgressLine::formatDuration(double seconds)
{
    const auto total = qint64(std::llround(std::max(0.0, seconds)));
    const qint64 h = total / 3600, m = (total / 60) % 60, s = total % 60;
    if (h > 0)
        return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QLatin1Char('0')).arg(s, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(m).arg(s, 2, 10, QLatin1Char('0'));
}

QString ProgressLine::formatSize(qint64 bytes)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int unit = 0;
    while (v >= 1024 && unit < 4) {
        v /= 1024;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(v, 0, 'f', unit == 0 ? 0 : 1).arg(QLatin1String(units[unit]));
}

QString ProgressLine::describe(const Job &job) const
{
    QString text = QStringLiteral("%1%").arg(job.progress, 5, 'f', 1);
    text += QStringLiteral("  ") + (job.stage.isEmpty() ? QString(clipdeck::jobs::statusName(job.status)) : job.stage);
    if (job.status == Status::Paused)
        text += QStringLiteral(" (paused)");
    if (job.etaSeconds)
        text += QStringLiteral("  ETA %1").arg(formatDuration(*job.etaSeconds));
    if (job.speed) {
        if (job.speed->fps > 0)
            text += QStringLiteral("  %1 fps").arg(job.speed->fps, 0, 'f', job.speed->fps < 10 ? 1 : 0);
        if (job.speed->realtime > 0)
            text += QStringLiteral("  %1×").arg(job.speed->realtime, 0, 'f', 1);
    }
    return text;
}

void ProgressLine::update(const Job &job)
{
    QTextStream out(m_out);
    if (!m_tty) {
        // A line on every change of state or stage, otherwise one every few seconds.
        const bool changed = job.status != m_lastStatus || job.stage != m_lastStage;
        if (!changed && m_sinceLine.isValid() && m_sinceLine.elapsed() < 5000)
            return;
        m_lastStatus = job.status;
        m_lastStage = job.stage;
        m_sinceLine.start();
        out << describe(job) << '\n';
        out.flush();
        fflush(m_out);
        return;
    }
    winsize ws{};
    const int columns = ioctl(fileno(m_out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 80;
    const QString tail = describe(job);
    const int barWidth = std::clamp(columns - int(tail.size()) - 4, 10, 50);
    const int filled = int(std::lround(barWidth * std::clamp(job.progress, 0.0, 100.0) / 100.0));
    const QString bar = QString(filled, QChar(0x2588)) + QString(barWidth - filled, QChar(0x2591));
    // \r and erase-to-end redraw the line in place.
    out << '\r' << bar << "  " << tail << "\x1b[K";
    out.flush();
    fflush(m_out);
    m_drawn = true;
}

void ProgressLine::finish()
{
    if (m_tty && m_drawn) {
        fputc('\n', m_out);
        fflush(m_out);
    }
    m_drawn = false;
}
