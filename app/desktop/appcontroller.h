#pragma once

// The desktop app's root controller: it owns the local engine and its job source, the job model
// every view shows, and the other controllers (launcher, server settings, desktop integration),
// and it does what QML must not do itself: open files, show folders, use the clipboard, make the
// window title. QML gets it as Main.qml's `required property AppController app` (QML module
// Clipdeck.App); the views below Main get the parts they need as typed properties.

#include "joblauncher.h"
#include "serversettings.h"

#include "client/jobmodel.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QtQml/qqmlregistration.h>

#include <memory>

class QSettings;

namespace clipdeck::engine {
class Engine;
}
namespace clipdeck::client {
class JobSource;
}

namespace clipdeck::desktop {

class DesktopIntegration;

class AppController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("AppController is provided by the application (Main.qml's app)")
    Q_PROPERTY(clipdeck::client::JobModel *jobModel READ jobModel CONSTANT)
    Q_PROPERTY(clipdeck::desktop::JobLauncher *launcher READ launcher CONSTANT)
    Q_PROPERTY(clipdeck::desktop::ServerSettings *servers READ servers CONSTANT)
    Q_PROPERTY(QString windowTitle READ windowTitle NOTIFY windowTitleChanged)
    // The last problem to tell the user about (a refused action or submission); empty when none.
    Q_PROPERTY(QString message READ message NOTIFY messageChanged)
    Q_PROPERTY(QString engineError READ engineError CONSTANT)

public:
    // dataDir empty: the user's data folder (EngineSettings::defaults(), the default QSettings).
    // Otherwise the engine's database, its outputs and the settings (clipdeck.ini) live there.
    explicit AppController(const QString &dataDir = {}, QObject *parent = nullptr);
    ~AppController() override;

    // Opens the engine and starts every source. False (with engineError()) when the engine's
    // database cannot be used; the app still runs, with servers only.
    bool start();

    client::JobModel *jobModel() const;
    JobLauncher *launcher() const;
    ServerSettings *servers() const;
    client::JobSource *localSource() const;
    engine::Engine *engine() const;
    DesktopIntegration *integration() const { return m_integration; }
    QString windowTitle() const;
    QString message() const;
    QString engineError() const;

    // The title for a summary: "42% · 3 running, 2 queued — Clipdeck"; plain "Clipdeck" when
    // nothing is active.
    static QString titleFor(double overallProgress, int running, int queued);

    // The output a person most likely wants of a job (the video, the contact sheet, ...); empty
    // when the job has none.
    Q_INVOKABLE QString primaryOutput(const QString &key) const;
    // Makes the output local (a server job's is downloaded) and opens it with the desktop's
    // default application / shows it in the file manager.
    Q_INVOKABLE void openOutput(const QString &key, const QString &outputName = {});
    Q_INVOKABLE void showInFolder(const QString &key, const QString &outputName = {});
    Q_INVOKABLE void copyText(const QString &text);
    Q_INVOKABLE void clearMessage();
    Q_INVOKABLE void showMessage(const QString &text);

signals:
    void windowTitleChanged();
    void messageChanged();

private:
    enum class Pending { Open, ShowInFolder };
    void attachSource(client::JobSource *source);
    void onOutputReady(client::JobSource *source, const QString &jobId, const QString &name, const QString &path);
    void updateTitle();

    std::unique_ptr<QSettings> m_settings;
    engine::Engine *m_engine = nullptr;
    client::JobSource *m_local = nullptr;
    client::JobModel *m_model = nullptr;
    ServerSettings *m_servers = nullptr;
    JobLauncher *m_launcher = nullptr;
    DesktopIntegration *m_integration = nullptr;
    QHash<QString, Pending> m_pending; // "<sourceId>\n<jobId>\n<output>"
    QString m_title;
    QString m_message;
    QString m_engineError;
};

} // namespace clipdeck::desktop
