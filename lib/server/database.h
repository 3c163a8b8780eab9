#pragma once

// The server's own SQLite file (server.sqlite in the data directory): who owns which media and
// which job. The engine keeps the jobs themselves in its own file; the two are joined by job id.
// Used from the server's main thread only.

#include <QSqlDatabase>
#include <QString>

namespace clipdeck::server {

class Database
{
public:
    static constexpr int SchemaVersion = 1;

    Database();
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    bool open(const QString &path);
    void close();
    QString errorString() const { return m_error; }
    QSqlDatabase handle() const;

private:
    bool migrate();
    QString m_connectionName;
    QString m_error;
};

} // namespace clipdeck::server
