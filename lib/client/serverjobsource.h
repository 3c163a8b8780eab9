#pragma once

// The jobs of one Clipdeck server, for one user (its token), as a JobSource: one
// `GET /api/events` stream for every job, the REST API for actions, uploads and downloads
// (docs/protocol.md, "HTTP API" and "Streams").

#include "client/jobsource.h"

#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace clipdeck::client {

class ServerJobSource : public JobSource
{
    Q_OBJECT

public:
    // baseUrl: where the server answers ("http://render.example.com:8470"; a path prefix is
    // kept for servers behind a reverse proxy). A manager given here is not owned and must
    // outlive the source; nullptr makes a private one.
    ServerJobSource(const QUrl &baseUrl, const QString &token, QNetworkAccessManager *manager = nullptr,
                    QObject *parent = nullptr);
    ~ServerJobSource() override;

    QString sourceId() const override;
    QString displayName() const override;
    ConnectionState connectionState() const override;
    int reconnectInSeconds() const override;
    QString errorString() const override;

    void start() override;
    void stop() override;

    QString submit(const JobSubmission &submission) override;
    void cancel(const QString &jobId) override;
    void pause(const QString &jobId) override;
    void resume(const QString &jobId) override;
    void retry(const QString &jobId) override;
    void remove(const QString &jobId) override;

    QString clipName(const jobs::Job &job) const override;
    void fetchOutput(const QString &jobId, const QString &outputName) override;

    // Stream events whose data was not a valid snapshot (skipped), for diagnostics.
    int malformedEventCount() const;
    // Where fetchOutput() puts this server's files: CacheLocation/outputs/<host>[_<port>].
    QString outputCacheDir() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace clipdeck::client
