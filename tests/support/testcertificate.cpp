#include "testcertificate.h"

#include <QCryptographicHash>
#include <QFile>
#include <QProcess>
#include <QSslSocket>
#include <QTemporaryDir>

namespace testsupport {

QSslConfiguration TestCertificate::serverConfiguration() const
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(certificate);
    configuration.setPrivateKey(key);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone); // no client certificates
    return configuration;
}

QSslConfiguration TestCertificate::trustingClientConfiguration() const
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setCaCertificates({certificate});
    return configuration;
}

QString TestCertificate::sha256Fingerprint() const
{
    return QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex(':').toUpper());
}

std::optional<TestCertificate> makeTestCertificate()
{
    if (!QSslSocket::supportsSsl()) {
        qWarning("makeTestCertificate: Qt has no working TLS backend (%s)", qPrintable(QSslSocket::activeBackend()));
        return std::nullopt;
    }
    QTemporaryDir dir;
    if (!dir.isValid())
        return std::nullopt;
    const QString keyPath = dir.filePath(QStringLiteral("key.pem"));
    const QString certPath = dir.filePath(QStringLiteral("cert.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                   QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                   QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"),
                   QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                   QStringLiteral("subjectAltName=IP:127.0.0.1,DNS:localhost"), QStringLiteral("-keyout"), keyPath,
                   QStringLiteral("-out"), certPath});
    if (!openssl.waitForFinished(60000) || openssl.exitStatus() != QProcess::NormalExit || openssl.exitCode() != 0) {
        qWarning("makeTestCertificate: openssl failed (%s): %s", qPrintable(openssl.errorString()),
                 openssl.readAllStandardError().constData());
        return std::nullopt;
    }
    QFile keyFile(keyPath);
    QFile certFile(certPath);
    if (!keyFile.open(QIODevice::ReadOnly) || !certFile.open(QIODevice::ReadOnly))
        return std::nullopt;
    TestCertificate result{QSslCertificate(certFile.readAll(), QSsl::Pem),
                           QSslKey(keyFile.readAll(), QSsl::Ec, QSsl::Pem)};
    if (result.certificate.isNull() || result.key.isNull()) {
        qWarning("makeTestCertificate: Qt could not read what openssl wrote");
        return std::nullopt;
    }
    return result;
}

} // namespace testsupport
