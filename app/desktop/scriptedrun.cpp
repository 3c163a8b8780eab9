#include "scriptedrun.h"

#include "appcontroller.h"

#include "client/jobmodel.h"
#include "client/jobsource.h"

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
    // Options come after the file, so they are taken off the end: a file name may hold commas.
    for (;;) {
        const qsizetype presetAt = rest.lastIndexOf(QLatin1String(",preset="));
        const qsizetype onAt = rest.lastIndexOf(QLatin1String(",on="));
        if (presetAt < 0 && onAt < 0)
            break;
        if (presetAt > onAt) {
            s.preset = rest.mid(presetAt + 8);
            rest.truncate(presetAt);
        } else {
            s.on = rest.mid(onAt + 4);
            rest.truncate(onAt);
        }
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
    client::JobModel *model = m_app->jobModel();
    // A refusal is said at once, on stderr, where a script's log collects it.
    connect(m_app->launcher(), &JobLauncher::submitFailed, this,
            [](const QString &message) { QTextStream(stderr) << "clipdeck: " << message << '\n'; });

    for (const ScriptedSubmission &s : std::as_const(m_submissions)) {
        const QString sourceId = s.on.isEmpty() ? QStringLiteral("local") : m_app->servers()->sourceIdFor(s.on);
        if (sourceId.isEmpty()) {
            QTextStream(stderr) << "clipdeck: no server " << s.on << " is configured (add it with --server " << s.on
                                << "=TOKEN)\n";
            ++m_unresolved;
            continue;
        }
        client::JobSource *source = nullptr;
        for (client::JobSource *candidate : model->sources()) {
            if (candidate->sourceId() == sourceId)
                source = candidate;
        }
        // Which job is ours: a source reports a submission's first snapshot from within submit()
        // (the engine stores and announces the job; a server source shows its upload), so the
        // first job reported during the call is the one it made.
        QString captured;
        QMetaObject::Connection capture;
        if (source) {
            capture = connect(source, &client::JobSource::jobUpdated, this, [&captured](const jobs::Job &job) {
                if (captured.isEmpty())
                    captured = job.id;
            });
            if (!m_followed.contains(source)) {
                m_followed.insert(source);
                connect(source, &client::JobSource::jobReplaced, this,
                        [this, sourceId](const QString &oldId, const jobs::Job &job) {
                            const qsizetype i = m_keys.indexOf(sourceId + u'\n' + oldId);
                            if (i >= 0)
                                m_keys[i] = sourceId + u'\n' + job.id;
                        });
            }
        }
        m_submitted += m_app->launcher()->submitPaths({s.file}, s.kind, s.preset, sourceId);
        disconnect(capture);
        if (!captured.isEmpty())
            m_keys.append(sourceId + u'\n' + captured);
    }
    m_poll.start();
}

void ScriptedRun::poll()
{
    client::JobModel *model = m_app->jobModel();
    model->flush();
    // Every submission has shown up as a job or was refused (a refused local submission never
    // becomes a row; a refused upload does, and is counted both ways, hence >=).
    bool idle = m_keys.size() >= m_submitted - m_app->launcher()->refusedCount();
    for (const QString &key : std::as_const(m_keys)) {
        const int row = model->rowOf(key);
        if (row >= 0 && !model->data(model->index(row), client::JobModel::IsTerminalRole).toBool())
            idle = false;
    }
    // Idle for a few polls in a row: the views have had frames to show the final state.
    m_idlePolls = idle ? m_idlePolls + 1 : 0;
    if (m_idlePolls >= 5) {
        m_poll.stop();
        finish();
    }
}

void ScriptedRun::finish()
{
    client::JobModel *model = m_app->jobModel();
    int exitCode = m_app->launcher()->refusedCount() > 0 || m_unresolved > 0 ? 1 : 0;
    QTextStream out(stdout);
    QTextStream err(stderr);
    for (const QString &key : std::as_const(m_keys)) {
        const int row = model->rowOf(key);
        if (row < 0) {
            out << "clipdeck: job " << key.section(u'\n', 1) << " removed\n";
            exitCode = 1;
            continue;
        }
        const QModelIndex index = model->index(row);
        const QString status = model->data(index, client::JobModel::StatusRole).toString();
        QString line = QStringLiteral("clipdeck: job %1 %2 %3")
                           .arg(model->data(index, client::JobModel::JobIdRole).toString(),
                                model->data(index, client::JobModel::KindRole).toString(), status);
        if (const QString error = model->data(index, client::JobModel::ErrorMessageRole).toString(); !error.isEmpty())
            line += QStringLiteral(": ") + error;
        out << line << '\n';
        if (status != QLatin1String("complete")) {
            exitCode = 1;
            err << line << " (on " << model->data(index, client::JobModel::SourceNameRole).toString() << ")\n";
        }
    }
    // A server that refused the token: the reason nothing worked there, said plainly.
    for (client::JobSource *source : model->sources()) {
        if (source->connectionState() == client::JobSource::ConnectionState::AuthFailed)
            err << "clipdeck: " << source->displayName() << ": " << source->errorString() << '\n';
    }
    out.flush();
    err.flush();

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
