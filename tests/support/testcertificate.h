#pragma once

#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QString>

#include <optional>

// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI at test time
// (nothing secret is kept in the repository), for TLS servers in tests.
namespace testsupport {

struct TestCertificate
{
    QSslCertificate certificate;
    QSslKey key;

    // A server configuration presenting it.
    QSslConfiguration serverConfiguration() const;
    // A client configuration that trusts it (and nothing else).
    QSslConfiguration trustingClientConfiguration() const;
    // Its SHA-256 fingerprint as a client reports it: "AB:CD:...".
    QString sha256Fingerprint() const;
};

// nullopt (with a warning saying why) when openssl or Qt's TLS backend is missing.
std::optional<TestCertificate> makeTestCertificate();

} // namespace testsupport
