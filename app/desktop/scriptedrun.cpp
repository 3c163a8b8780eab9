#include "scriptedrun.h"

#include "appcontroller.h"

#include "jobs/jobmodel.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QTextStream>

#include <cstdio>

namespace clipdeck::desktop {

ScriptedSubmission ScriptedSubmission::parse(const QString &text)
{
    ScriptedSubmission s;
    const qsizetype eq = text.indexOf(u'=');
    if (eq <= 0)
        return {};
    s.kind = text.left(eq).trimmed();
    QString rest = text.mid(eq + 1);
    const qsizetype presetAt = rest.lastIndexOf(QLatin1String(",preset="));
    if (presetAt >= 0) {
        s.preset = rest.mid(presetAt + 8);
        rest.truncate(presetAt);
    }
    s.file = rest;
    if (s.file.isEmpty())
        return {};
    return s;
}

ScriptedRun::ScriptedRun(AppController *app, QQmlApplicationEngine *qml, QList<ScriptedSubmission> submissions,
                         QString screenshotPath, bool quitWhenIdle, QObject *parent)
    : QObject(parent), m_app(app), m_qml(qml), m_submissions(std::move(submissions)),
      m_screenshotPath(std::move(screenshotPath)), m_quitWhenIdle(quitWhenIdle)
{
    m_poll.setInterval(100);
    connect(&m_poll, &QTimer::timeout, this, &ScriptedRun::poll);
}

void ScriptedRun::start()
{
    jobs::JobModel *model = m_app->jobModel();
    model->flush();
    m_firstRow = model->rowCount();
    for (const ScriptedSubmission &s : std::as_const(m_submissions))
        m_submitted += m_app->launcher()->submitPaths({s.file}, s.kind, s.preset, QStringLiteral("local"));
    m_poll.start();
}

void ScriptedRun::poll()
{
    jobs::JobModel *model = m_app->jobModel();
    model->flush();
    const bool allThere = model->rowCount() - m_firstRow >= m_submitted - (m_app->launcher()->refusedCount());
    const bool idle = allThere && model->activeCount() == 0;
    // Idle for a few polls in a row: the views have had frames to show the final state.
    m_idlePolls = idle ? m_idlePolls + 1 : 0;
    if (m_idlePolls >= 5) {
        m_poll.stop();
        finish();
    }
}

void ScriptedRun::finish()
{
    jobs::JobModel *model = m_app->jobModel();
    int exitCode = m_app->launcher()->refusedCount() > 0 ? 1 : 0;
    QTextStream out(stdout);
    for (int row = m_firstRow; row < model->rowCount(); ++row) {
        const QModelIndex index = model->index(row);
        const QString status = model->data(index, jobs::JobModel::StatusRole).toString();
        out << "clipdeck: job " << model->data(index, jobs::JobModel::JobIdRole).toString() << ' '
            << model->data(index, jobs::JobModel::KindRole).toString() << ' ' << status;
        if (const QString error = model->data(index, jobs::JobModel::ErrorMessageRole).toString(); !error.isEmpty())
            out << ": " << error;
        out << '\n';
        if (status != QLatin1String("complete"))
            exitCode = 1;
    }
    out.flush();

    if (!m_screenshotPath.isEmpty()) {
        QQuickWindow *window = nullptr;
        for (QObject *root : m_qml->rootObjects()) {
            if (auto *w = qobject_cast<QQuickWindow *>(root))
                window = w;
        }
        const QImage image = window ? window->grabWindow() : QImage();
        const QString path = QFileInfo(m_screenshotPath).absoluteFilePath();
        QDir().mkpath(QFileInfo(path).absolutePath());
        if (image.isNull() || !image.save(path)) {
            QTextStream(stderr) << "clipdeck: could not write the screenshot to " << path << '\n';
            exitCode = 2;
        } else {
            out << "clipdeck: screenshot " << path << ' ' << image.width() << 'x' << image.height() << '\n';
        }
    }
    if (m_quitWhenIdle)
        QCoreApplication::exit(exitCode);
}

} // namespace clipdeck::desktop
