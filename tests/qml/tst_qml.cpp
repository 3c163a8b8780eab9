// Qt Quick Test entry point: the QML tests in this folder (tst_*.qml). They import the test
// module Clipdeck.Testing for JobFixture (jobfixture.h): a real JobModel fed with job snapshots,
// and what the model routed to the job's source.

#include <QQmlEngine>
#include <QtQml/qqmlextensionplugin.h>
#include <QtQuickTest>

Q_IMPORT_QML_PLUGIN(ClipdeckPlugin)
Q_IMPORT_QML_PLUGIN(Clipdeck_ClientPlugin)

class Setup : public QObject
{
    Q_OBJECT

public slots:
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        // Where qt_add_qml_module puts the modules (RESOURCE_PREFIX /qt/qml); default from Qt 6.5 on.
        engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
    }
};

QUICK_TEST_MAIN_WITH_SETUP(clipdeck_qml, Setup)

#include "tst_qml.moc"
