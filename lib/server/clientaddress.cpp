#include "server/clientaddress.h"

#include <QByteArrayView>

#include <algorithm>

namespace clipdeck::server {

namespace {

// IPv4-mapped IPv6 (::ffff:127.0.0.1, what a dual-stack socket reports) compares as IPv4.
QHostAddress plain(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}

// An IPv4 address in four decimal parts, or an IPv6 address: not inet_aton's shorthands ("1.2.3",
// "0x7f.1"), which QHostAddress accepts but nobody writes in a config or a proxy header.
std::optional<QHostAddress> parseAddress(QStringView text)
{
    if (!text.contains(u':')) {
        if (text.count(u'.') != 3
            || !std::all_of(text.begin(), text.end(), [](QChar c) { return c == u'.' || (c >= u'0' && c <= u'9'); }))
            return std::nullopt;
    }
    QHostAddress a;
    if (!a.setAddress(text.toString()))
        return std::nullopt;
    return plain(a);
}

} // namespace

std::optional<std::pair<QHostAddress, int>> TrustedProxies::parseEntry(const QString &text)
{
    const QString t = text.trimmed();
    const qsizetype slash = t.indexOf(u'/');
    const auto address = parseAddress(QStringView(t).first(slash < 0 ? t.size() : slash));
    if (!address)
        return std::nullopt;
    if (slash < 0)
        return std::pair{*address, address->protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128};
    const auto subnet = QHostAddress::parseSubnet(t);
    if (subnet.first.isNull() || subnet.second < 0)
        return std::nullopt;
    return subnet;
}

bool TrustedProxies::contains(const QHostAddress &address) const
{
    const QHostAddress a = plain(address);
    for (const auto &subnet : m_subnets) {
        if (a.isInSubnet(subnet))
            return true;
    }
    return false;
}

ClientAddress resolveClient(const QHostAddress &peer, QByteArrayView forwardedFor, QByteArrayView forwardedProto,
                            const TrustedProxies &trusted)
{
    ClientAddress client{plain(peer), QStringLiteral("http")};
    if (!trusted.contains(client.address))
        return client;

    const QByteArrayView proto = forwardedProto.trimmed();
    if (proto.compare("https", Qt::CaseInsensitive) == 0)
        client.scheme = QStringLiteral("https");

    // Right to left: each entry was added by the hop to its right, which is trusted so far.
    QByteArrayView rest = forwardedFor;
    while (!rest.isEmpty() && trusted.contains(client.address)) {
        const qsizetype comma = rest.lastIndexOf(',');
        const QByteArrayView entry = rest.sliced(comma + 1).trimmed();
        rest = comma < 0 ? QByteArrayView() : rest.first(comma);
        if (entry.isEmpty())
            continue;
        // "[::1]" and "1.2.3.4:5678" are not what proxies write here; a malformed entry ends the
        // walk: the last trusted hop is as far as anything can be believed.
        const auto hop = parseAddress(QString::fromLatin1(entry));
        if (!hop)
            break;
        client.address = *hop;
    }
    return client;
}

} // namespace clipdeck::server
