#pragma once

// Who is on the other end of a request when clipdeck-server runs behind reverse proxies. The
// TCP peer is the client unless it is a trusted proxy (--trusted-proxy); then X-Forwarded-For is
// read from the right, one hop at a time, while the hop that added an entry is trusted: the
// first address added by an untrusted hop is the client (nginx's real_ip_recursive). So a client
// cannot choose its own address by sending the header, and an untrusted peer's header is ignored
// whole. X-Forwarded-Proto is taken from a trusted peer only. The address is what the access log
// shows.

#include <QHostAddress>
#include <QList>
#include <QString>

#include <optional>
#include <utility>

namespace clipdeck::server {

class TrustedProxies
{
public:
    // "127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8": nullopt when not an address or subnet.
    static std::optional<std::pair<QHostAddress, int>> parseEntry(const QString &text);

    TrustedProxies() = default;
    explicit TrustedProxies(QList<std::pair<QHostAddress, int>> subnets) : m_subnets(std::move(subnets)) { }
    bool isEmpty() const { return m_subnets.isEmpty(); }
    bool contains(const QHostAddress &address) const;

private:
    QList<std::pair<QHostAddress, int>> m_subnets;
};

struct ClientAddress
{
    QHostAddress address;
    QString scheme; // "http", or what a trusted proxy said ("https")
};

// peer: the TCP peer; forwardedFor/forwardedProto: the raw header values (empty when absent).
ClientAddress resolveClient(const QHostAddress &peer, QByteArrayView forwardedFor, QByteArrayView forwardedProto,
                            const TrustedProxies &trusted);

} // namespace clipdeck::server
