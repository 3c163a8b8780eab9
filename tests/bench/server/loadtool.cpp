// bench_sse_load: a Server-Sent Events load generator for comparing clipdeck-server with
// nginx + nchan (tests/bench/server/run.sh). Plain C++ and Linux epoll, no Qt, one thread: the
// same tool, with the same costs, drives both servers.
//
// What it does, in order:
//  1. precreate: publishes one message to every channel (job) before anyone subscribes, so that
//     each channel exists and has a current state (clipdeck: the job entry and its snapshot;
//     nchan: the channel and one buffered message). Not measured.
//  2. RSS of the server's processes (--pid, repeatable) with no stream open.
//  3. connects --clients subscribers (HTTP/1.1 GET, at most --window connecting at once):
//     subscriber i watches channel i % --channels. Time until every response head (200) has
//     arrived, and until every subscriber has its first event (the current state).
//  4. waits --settle-ms, then RSS again: (RSS with N idle streams - RSS before) / N is the
//     memory per idle stream.
//  5. publishes, timestamped, over keep-alive HTTP/1.1 POST connections (--pub-conns):
//       --mode streams: --publishes messages, one channel after the other (round robin), at a
//                       steady --rate per second;
//       --mode fanout:  --publishes messages to channel 0 one at a time: the next goes out
//                       --gap-ms after every subscriber has received the previous one.
//     Every message body is JSON carrying the CLOCK_REALTIME time of its send ("t", ns), its
//     number ("k") and padding up to --size bytes; a subscriber's scanner finds "t" in each
//     event's data, so latency = time the bytes arrived - t, for every delivery. "Arrived" is
//     the kernel's receive timestamp of the bytes (SO_TIMESTAMPNS), not when this tool got round
//     to reading them: with thousands of sockets to read, the tool's own delay would otherwise
//     be counted against the server. The latency to the tool's read is reported as well.
//  6. prints "key value" lines (run.sh parses them): percentiles of publish -> deliver latency
//     (p50/p90/p99/max), for fan-out also the time to the last subscriber of each message, the
//     publish round trip, deliveries missing, server CPU time used while publishing.
//
// Subscriber responses may be close-delimited (clipdeck) or chunked (nginx): both are read.

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <vector>

namespace {

using i64 = std::int64_t;

// Durations (connect time, timeouts): CLOCK_MONOTONIC.
i64 nowNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return i64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Message timestamps: CLOCK_REALTIME, the clock of the kernel's receive timestamps
// (SO_TIMESTAMPNS).
i64 realNs()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return i64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// When bytes reached a subscriber: `arrived` is the kernel's receive timestamp of the data
// (SO_TIMESTAMPNS: on loopback, the moment the server's send() put it through the loopback
// device), `read` when this tool read it. Latency is measured to `arrived`, so the time this
// tool takes to get round to reading 8000 sockets does not count against the server; the read
// latency is reported beside it.
struct Stamp
{
    i64 arrived = 0;
    i64 read = 0;
};

[[noreturn]] void die(const std::string &message)
{
    std::fprintf(stderr, "bench_sse_load: %s\n", message.c_str());
    std::exit(2);
}

struct Options
{
    std::string host = "127.0.0.1";
    int port = 0;
    std::string subPath; // "{i}" is replaced by the channel number
    std::string pubPath;
    std::vector<std::string> headers; // sent with every request
    std::string mode = "streams";
    int clients = 1000;
    int channels = -1; // default: = clients (streams), 1 (fanout)
    int window = 100;
    int publishes = -1;
    double rate = 1000;
    int gapMs = 100;
    int warmup = 2;
    int size = 420;
    int pubConns = 4;
    int settleMs = 2000;
    int drainMs = 10000;
    bool precreate = true;
    std::vector<int> pids;
    std::string dump; // every measured delivery: "send_ns latency_ns read_latency_ns channel"
};

void usage()
{
    std::fputs("usage: bench_sse_load --port P --sub PATH --pub PATH [options]\n"
               "  --host H            server address (127.0.0.1)\n"
               "  --sub PATH          subscriber path, {i} = channel number (e.g. /sub/b{i})\n"
               "  --pub PATH          publish path, {i} = channel number (e.g. /pub/b{i})\n"
               "  --header 'K: V'     extra request header, repeatable\n"
               "  --mode streams|fanout\n"
               "  --clients N         subscribers (1000)\n"
               "  --channels J        channels; subscriber i watches i %% J (streams: N, fanout: 1)\n"
               "  --window W          connections being set up at once (100)\n"
               "  --publishes M       measured messages (streams: 2N, fanout: 50)\n"
               "  --rate R            streams: publishes per second (1000)\n"
               "  --gap-ms G          fanout: pause after a message reached everyone (100)\n"
               "  --warmup K          fanout: unmeasured messages first (2)\n"
               "  --size B            message body bytes (420, about a job snapshot)\n"
               "  --pub-conns P       keep-alive publisher connections (4)\n"
               "  --settle-ms S       wait before measuring idle RSS (2000)\n"
               "  --drain-ms D        wait for late deliveries at the end (10000)\n"
               "  --no-precreate      do not publish one message per channel before subscribing\n"
               "  --pid PID           a server process whose RSS and CPU time to read, repeatable\n"
               "  --dump FILE         write every measured delivery: send time, latency, read latency (ns), channel\n",
               stderr);
}

Options parseOptions(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc)
                die("missing value for " + a);
            return argv[++i];
        };
        if (a == "--host")
            o.host = next();
        else if (a == "--port")
            o.port = std::stoi(next());
        else if (a == "--sub")
            o.subPath = next();
        else if (a == "--pub")
            o.pubPath = next();
        else if (a == "--header")
            o.headers.push_back(next());
        else if (a == "--mode")
            o.mode = next();
        else if (a == "--clients")
            o.clients = std::stoi(next());
        else if (a == "--channels")
            o.channels = std::stoi(next());
        else if (a == "--window")
            o.window = std::stoi(next());
        else if (a == "--publishes")
            o.publishes = std::stoi(next());
        else if (a == "--rate")
            o.rate = std::stod(next());
        else if (a == "--gap-ms")
            o.gapMs = std::stoi(next());
        else if (a == "--warmup")
            o.warmup = std::stoi(next());
        else if (a == "--size")
            o.size = std::stoi(next());
        else if (a == "--pub-conns")
            o.pubConns = std::stoi(next());
        else if (a == "--settle-ms")
            o.settleMs = std::stoi(next());
        else if (a == "--drain-ms")
            o.drainMs = std::stoi(next());
        else if (a == "--no-precreate")
            o.precreate = false;
        else if (a == "--pid")
            o.pids.push_back(std::stoi(next()));
        else if (a == "--dump")
            o.dump = next();
        else if (a == "-h" || a == "--help") {
            usage();
            std::exit(0);
        } else {
            usage();
            die("unknown option " + a);
        }
    }
    if (o.port <= 0 || o.subPath.empty() || o.pubPath.empty()) {
        usage();
        die("--port, --sub and --pub are required");
    }
    if (o.mode != "streams" && o.mode != "fanout")
        die("--mode must be streams or fanout");
    const bool fanout = o.mode == "fanout";
    if (o.channels <= 0)
        o.channels = fanout ? 1 : o.clients;
    if (o.publishes < 0)
        o.publishes = fanout ? 50 : 2 * o.clients;
    if (fanout)
        o.channels = 1;
    if (!fanout)
        o.warmup = 0;
    o.window = std::max(1, o.window);
    o.pubConns = std::max(1, o.pubConns);
    return o;
}

std::string expand(const std::string &tmpl, int channel)
{
    std::string out;
    const std::string idx = std::to_string(channel);
    for (std::size_t p = 0; p < tmpl.size();) {
        if (tmpl.compare(p, 3, "{i}") == 0) {
            out += idx;
            p += 3;
        } else {
            out += tmpl[p++];
        }
    }
    return out;
}

// --- /proc readings ---------------------------------------------------------------------

struct Memory
{
    long rssKb = 0, anonKb = 0, fileKb = 0, shmemKb = 0;
};

long statusField(const std::string &text, const char *key)
{
    const auto p = text.find(key);
    if (p == std::string::npos)
        return 0;
    return std::strtol(text.c_str() + p + std::strlen(key), nullptr, 10);
}

Memory readMemory(const std::vector<int> &pids)
{
    Memory m;
    for (int pid : pids) {
        std::ifstream f("/proc/" + std::to_string(pid) + "/status");
        const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (text.empty())
            die("cannot read /proc/" + std::to_string(pid) + "/status");
        m.rssKb += statusField(text, "VmRSS:");
        m.anonKb += statusField(text, "RssAnon:");
        m.fileKb += statusField(text, "RssFile:");
        m.shmemKb += statusField(text, "RssShmem:");
    }
    return m;
}

// utime + stime of all threads, in ms.
double readCpuMs(const std::vector<int> &pids)
{
    double ticks = 0;
    for (int pid : pids) {
        std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto close = text.rfind(')');
        if (close == std::string::npos)
            continue;
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        const char *p = text.c_str() + close + 2;
        for (int field = 3; field < 14 && *p; ++field) {
            p = std::strchr(p, ' ');
            if (!p)
                break;
            ++p;
        }
        if (!p)
            continue;
        char *end = nullptr;
        const double utime = std::strtod(p, &end);
        const double stime = std::strtod(end, nullptr);
        ticks += utime + stime;
    }
    return ticks * 1000.0 / double(sysconf(_SC_CLK_TCK));
}

// --- statistics -------------------------------------------------------------------------

struct Percentiles
{
    std::size_t n = 0;
    double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

Percentiles percentiles(std::vector<i64> v) // ns in, µs out
{
    Percentiles r;
    r.n = v.size();
    if (v.empty())
        return r;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        // nearest rank
        std::size_t rank = std::size_t(q * double(v.size()) + 0.999999);
        rank = std::clamp<std::size_t>(rank, 1, v.size());
        return double(v[rank - 1]) / 1000.0;
    };
    r.p50 = at(0.50);
    r.p90 = at(0.90);
    r.p99 = at(0.99);
    r.max = double(v.back()) / 1000.0;
    double sum = 0;
    for (i64 x : v)
        sum += double(x);
    r.mean = sum / double(v.size()) / 1000.0;
    return r;
}

void printPercentiles(const char *prefix, const Percentiles &p)
{
    std::printf("%s_samples %zu\n", prefix, p.n);
    std::printf("%s_p50_us %.1f\n", prefix, p.p50);
    std::printf("%s_p90_us %.1f\n", prefix, p.p90);
    std::printf("%s_p99_us %.1f\n", prefix, p.p99);
    std::printf("%s_max_us %.1f\n", prefix, p.max);
    std::printf("%s_mean_us %.1f\n", prefix, p.mean);
}

// --- HTTP responses -----------------------------------------------------------------------

struct Head
{
    int status = 0;
    bool chunked = false;
    bool close = false;
    long contentLength = -1;
    std::size_t size = 0; // bytes of the head including the blank line
};

bool iequalsPrefix(std::string_view line, std::string_view prefix)
{
    if (line.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(line[i])) != prefix[i])
            return false;
    return true;
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char &c : out)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Parses the head at the start of `buf`; false while it is incomplete.
bool parseHead(std::string_view buf, Head &head)
{
    const auto end = buf.find("\r\n\r\n");
    if (end == std::string_view::npos)
        return false;
    head = {};
    head.size = end + 4;
    std::string_view rest = buf.substr(0, end);
    bool first = true;
    while (!rest.empty()) {
        const auto eol = rest.find("\r\n");
        const std::string_view line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
        if (first) {
            first = false;
            const auto sp = line.find(' ');
            if (sp != std::string_view::npos)
                head.status = std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
            continue;
        }
        if (iequalsPrefix(line, "transfer-encoding:"))
            head.chunked = lower(line).find("chunked") != std::string::npos;
        else if (iequalsPrefix(line, "content-length:"))
            head.contentLength = std::atol(std::string(line.substr(15)).c_str());
        else if (iequalsPrefix(line, "connection:"))
            head.close = lower(line).find("close") != std::string::npos;
    }
    return true;
}

// --- connections --------------------------------------------------------------------------

enum class Role { Subscriber, Publisher };
enum class State { Connecting, AwaitingHead, Streaming, Idle, AwaitingResponse, Closed };

struct Conn
{
    int fd = -1;
    Role role = Role::Subscriber;
    State state = State::Connecting;
    int channel = 0;
    std::string in;  // raw bytes not consumed yet (head, chunk framing)
    std::string sse; // decoded body bytes not yet a complete event
    std::string out; // request bytes not written yet
    bool chunked = false;
    long chunkLeft = 0; // bytes of chunk data left; -1: expect chunk-size line; -2: expect CRLF after data
    bool gotFirstEvent = false;
    i64 sentAt = 0; // publisher: when the request was written
};

struct Stats
{
    int headsOk = 0, headsBad = 0, firstEvents = 0, connectErrors = 0, closedByServer = 0;
    int badStatusShown = 0;
    i64 allHeadsAt = 0, allFirstAt = 0;
    std::vector<i64> latencies;             // every measured delivery (to the kernel's receive timestamp)
    std::vector<i64> readLatencies;         // ... and to this tool's read
    std::vector<std::pair<i64, int>> sends; // with --dump: send time and channel of each delivery
    std::vector<i64> pubRtt;                // publish request -> response
    std::vector<i64> fanoutLast;            // per measured fan-out message: time to the last subscriber
    std::vector<i64> fanoutFirst;           // ... and to the first
    long delivered = 0;                     // measured deliveries
    long pubErrors = 0;
    long pubReconnects = 0;
};

class Load
{
public:
    explicit Load(Options o) : m_o(std::move(o)) { }

    int run();

private:
    Options m_o;
    int m_ep = -1;
    sockaddr_in m_addr{};
    std::vector<std::unique_ptr<Conn>> m_subs;
    std::vector<std::unique_ptr<Conn>> m_pubs;
    Stats m_s;
    std::string m_pad;
    std::string m_extraHeaders;
    char m_buf[256 * 1024];

    // publishing state
    int m_nextChannel = 0;
    int m_nextK = 1; // number of the next message (k); precreate messages are k = 0
    long m_due = 0;  // streams: publishes whose time has come but not sent yet
    int m_sent = 0;  // measured publishes sent (and warm-ups)
    // fan-out: deliveries of the current message
    int m_currentK = 0;
    i64 m_currentT = 0;
    int m_currentDelivered = 0;
    i64 m_currentFirst = 0, m_currentLast = 0;
    std::vector<int> m_expectedPerChannel;

    int connectSocket();
    void add(Conn *c, std::uint32_t events);
    void modify(Conn *c, std::uint32_t events);
    void startSubscriber(int index);
    void closeConn(Conn *c);
    bool connectPublisher(Conn *c);
    Conn *idlePublisher();
    void publish(Conn *c, int channel, int k);
    void pump(int timeoutMs);
    void onEvent(Conn *c, std::uint32_t events);
    void onWritable(Conn *c);
    void onReadable(Conn *c);
    void onSubscriberBytes(Conn *c, const char *data, std::size_t n, Stamp at);
    void onBody(Conn *c, const char *data, std::size_t n, Stamp at);
    void onSseEvent(Conn *c, std::string_view event, Stamp at);
    void onPublisherBytes(Conn *c, const char *data, std::size_t n, i64 at);
    void flushOut(Conn *c);
    bool waitUntil(const std::function<bool()> &done, int timeoutMs);
};

int Load::connectSocket()
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die(std::string("socket: ") + std::strerror(errno) + " (raise the open files limit: ulimit -n)");
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&m_addr), sizeof m_addr) < 0 && errno != EINPROGRESS) {
        const int err = errno;
        ::close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

void Load::add(Conn *c, std::uint32_t events)
{
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = c;
    if (epoll_ctl(m_ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die(std::string("epoll_ctl add: ") + std::strerror(errno));
}

void Load::modify(Conn *c, std::uint32_t events)
{
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = c;
    if (epoll_ctl(m_ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die(std::string("epoll_ctl mod: ") + std::strerror(errno));
}

void Load::startSubscriber(int index)
{
    auto *c = m_subs[std::size_t(index)].get();
    c->fd = connectSocket();
    if (c->fd < 0) {
        if (m_s.connectErrors++ < 5)
            std::fprintf(stderr, "bench_sse_load: connect: %s\n", std::strerror(errno));
        c->state = State::Closed;
        return;
    }
    c->out = "GET " + expand(m_o.subPath, c->channel) + " HTTP/1.1\r\nHost: " + m_o.host + ":"
             + std::to_string(m_o.port) + "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
             + m_extraHeaders + "\r\n";
    c->state = State::Connecting;
    add(c, EPOLLOUT);
}

void Load::closeConn(Conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(m_ep, EPOLL_CTL_DEL, c->fd, nullptr);
        ::close(c->fd);
        c->fd = -1;
    }
    c->state = State::Closed;
}

bool Load::connectPublisher(Conn *c)
{
    c->fd = connectSocket();
    if (c->fd < 0)
        die(std::string("publisher connect: ") + std::strerror(errno));
    c->in.clear();
    c->out.clear();
    c->state = State::Connecting;
    add(c, EPOLLOUT);
    return true;
}

Conn *Load::idlePublisher()
{
    for (auto &p : m_pubs)
        if (p->state == State::Idle)
            return p.get();
    return nullptr;
}

void Load::publish(Conn *c, int channel, int k)
{
    // The body: {"t":<ns>,"k":<k>,"ch":<channel>,"p":"xxx..."} padded to --size bytes.
    const i64 t = realNs();
    char head[96];
    const int hn = std::snprintf(head, sizeof head, "{\"t\":%" PRId64 ",\"k\":%d,\"ch\":%d,\"p\":\"", t, k, channel);
    const std::size_t fixed = std::size_t(hn) + 2;
    const std::size_t padLen = std::size_t(m_o.size) > fixed ? std::size_t(m_o.size) - fixed : 0;
    std::string body;
    body.reserve(fixed + padLen);
    body.append(head, std::size_t(hn));
    body.append(m_pad, 0, padLen);
    body += "\"}";
    c->out = "POST " + expand(m_o.pubPath, channel) + " HTTP/1.1\r\nHost: " + m_o.host + ":" + std::to_string(m_o.port)
             + "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"
             + m_extraHeaders + "\r\n" + body;
    c->sentAt = t;
    c->state = State::AwaitingResponse;
    flushOut(c);
}

void Load::flushOut(Conn *c)
{
    while (!c->out.empty()) {
        const ssize_t n = ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) {
                modify(c, EPOLLIN | EPOLLOUT);
                return;
            }
            if (c->role == Role::Publisher) {
                // The server closed a keep-alive connection: reconnect and send again.
                const std::string pending = c->out;
                closeConn(c);
                ++m_s.pubReconnects;
                connectPublisher(c);
                c->out = pending;
                c->state = State::AwaitingResponse;
                return;
            }
            closeConn(c);
            ++m_s.closedByServer;
            return;
        }
        c->out.erase(0, std::size_t(n));
    }
    modify(c, EPOLLIN);
}

void Load::onWritable(Conn *c)
{
    if (c->state == State::Connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            if (c->role == Role::Publisher)
                die(std::string("publisher connect: ") + std::strerror(err));
            if (m_s.connectErrors++ < 5)
                std::fprintf(stderr, "bench_sse_load: connect: %s\n", std::strerror(err));
            closeConn(c);
            return;
        }
        if (c->role == Role::Subscriber) {
            c->state = State::AwaitingHead;
        } else if (c->out.empty()) {
            c->state = State::Idle;
            modify(c, EPOLLIN);
            return;
        } else {
            c->state = State::AwaitingResponse;
        }
    }
    flushOut(c);
}

void Load::onEvent(Conn *c, std::uint32_t events)
{
    if (events & EPOLLOUT) {
        onWritable(c);
        if (c->state == State::Closed)
            return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        onReadable(c);
}

void Load::onReadable(Conn *c)
{
    for (;;) {
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec)) * 2];
        iovec iov{m_buf, sizeof m_buf};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(c->fd, &msg, 0);
        Stamp at;
        at.read = realNs();
        at.arrived = at.read;
        if (n > 0) {
            for (cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                    timespec ts{};
                    std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                    at.arrived = i64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
                }
            }
            if (c->role == Role::Subscriber)
                onSubscriberBytes(c, m_buf, std::size_t(n), at);
            else
                onPublisherBytes(c, m_buf, std::size_t(n), at.read);
            if (c->state == State::Closed)
                return;
            if (std::size_t(n) < sizeof m_buf)
                return; // level-triggered: anything left comes with the next wake-up
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            return;
        // closed by the server (or an error)
        if (c->role == Role::Publisher) {
            const bool busy = c->state == State::AwaitingResponse;
            closeConn(c);
            ++m_s.pubReconnects;
            if (busy)
                ++m_s.pubErrors; // the request in flight is lost
            connectPublisher(c);
            return;
        }
        if (c->state == State::AwaitingHead && m_s.connectErrors++ < 5)
            std::fprintf(stderr, "bench_sse_load: subscriber closed before the response head\n");
        else if (c->state == State::Streaming)
            ++m_s.closedByServer;
        closeConn(c);
        return;
    }
}

void Load::onSubscriberBytes(Conn *c, const char *data, std::size_t n, Stamp at)
{
    if (c->state == State::AwaitingHead) {
        c->in.append(data, n);
        Head head;
        if (!parseHead(c->in, head))
            return;
        if (head.status != 200) {
            ++m_s.headsBad;
            if (m_s.badStatusShown++ < 3)
                std::fprintf(stderr, "bench_sse_load: subscriber got HTTP %d: %s\n", head.status,
                             c->in.substr(0, 600).c_str());
            closeConn(c);
            return;
        }
        ++m_s.headsOk;
        if (m_s.headsOk == m_o.clients)
            m_s.allHeadsAt = nowNs();
        c->state = State::Streaming;
        c->chunked = head.chunked;
        c->chunkLeft = -1;
        std::string rest = c->in.substr(head.size);
        c->in.clear();
        if (!rest.empty())
            onBody(c, rest.data(), rest.size(), at);
        return;
    }
    onBody(c, data, n, at);
}

void Load::onBody(Conn *c, const char *data, std::size_t n, Stamp at)
{
    if (!c->chunked) {
        c->sse.append(data, n);
    } else {
        c->in.append(data, n);
        std::size_t p = 0;
        while (p < c->in.size()) {
            if (c->chunkLeft == -1) {
                const auto eol = c->in.find("\r\n", p);
                if (eol == std::string::npos)
                    break;
                const long size = std::strtol(c->in.c_str() + p, nullptr, 16);
                p = eol + 2;
                if (size == 0) { // the end of the response
                    c->in.clear();
                    ++m_s.closedByServer;
                    closeConn(c);
                    return;
                }
                c->chunkLeft = size;
            } else if (c->chunkLeft == -2) {
                if (c->in.size() - p < 2)
                    break;
                p += 2;
                c->chunkLeft = -1;
            } else {
                const std::size_t take = std::min<std::size_t>(std::size_t(c->chunkLeft), c->in.size() - p);
                c->sse.append(c->in, p, take);
                p += take;
                c->chunkLeft -= long(take);
                if (c->chunkLeft == 0)
                    c->chunkLeft = -2;
            }
        }
        c->in.erase(0, p);
    }
    // Complete events end with a blank line.
    std::size_t start = 0;
    for (;;) {
        const auto end = c->sse.find("\n\n", start);
        if (end == std::string::npos)
            break;
        onSseEvent(c, std::string_view(c->sse).substr(start, end - start), at);
        start = end + 2;
    }
    if (start > 0)
        c->sse.erase(0, start);
}

void Load::onSseEvent(Conn *c, std::string_view event, Stamp at)
{
    // Only events with a data field carrying our body count; comments, retry: and heartbeats
    // do not.
    const auto t = event.find("\"t\":");
    if (t == std::string_view::npos)
        return;
    i64 sent = 0;
    std::from_chars(event.data() + t + 4, event.data() + event.size(), sent);
    int k = -1;
    const auto kp = event.find("\"k\":", t);
    if (kp != std::string_view::npos)
        std::from_chars(event.data() + kp + 4, event.data() + event.size(), k);
    if (!c->gotFirstEvent) {
        c->gotFirstEvent = true;
        ++m_s.firstEvents;
        if (m_s.firstEvents == m_o.clients)
            m_s.allFirstAt = nowNs();
        if (k < 1)
            return; // the current state sent on connect (a precreate message)
    }
    if (k < 1)
        return;
    const bool fanout = m_o.mode == "fanout";
    if (fanout) {
        if (k != m_currentK)
            return; // a late copy of an earlier message
        ++m_currentDelivered;
        if (m_currentDelivered == 1 || at.arrived < m_currentFirst)
            m_currentFirst = at.arrived;
        m_currentLast = std::max(m_currentLast, at.arrived);
        if (k <= m_o.warmup)
            return;
    }
    m_s.latencies.push_back(at.arrived - sent);
    m_s.readLatencies.push_back(at.read - sent);
    if (!m_o.dump.empty())
        m_s.sends.emplace_back(sent, c->channel);
    ++m_s.delivered;
}

void Load::onPublisherBytes(Conn *c, const char *data, std::size_t n, i64 at)
{
    c->in.append(data, n);
    Head head;
    if (!parseHead(c->in, head))
        return;
    std::size_t total = head.size;
    if (head.contentLength >= 0) {
        total += std::size_t(head.contentLength);
        if (c->in.size() < total)
            return;
    } else if (head.chunked) {
        const auto end = c->in.find("\r\n0\r\n\r\n", head.size > 2 ? head.size - 2 : 0);
        if (end == std::string::npos)
            return;
        total = end + 7;
    }
    if (head.status < 200 || head.status > 299) {
        if (m_s.pubErrors < 3)
            std::fprintf(stderr, "bench_sse_load: publish got HTTP %d: %s\n", head.status,
                         c->in.substr(0, std::min<std::size_t>(total, 600)).c_str());
        ++m_s.pubErrors;
    } else {
        m_s.pubRtt.push_back(at - c->sentAt);
    }
    c->in.erase(0, total);
    c->state = State::Idle;
    if (head.close) {
        closeConn(c);
        ++m_s.pubReconnects;
        connectPublisher(c);
    }
}

void Load::pump(int timeoutMs)
{
    epoll_event events[512];
    const int n = epoll_wait(m_ep, events, 512, timeoutMs);
    if (n < 0) {
        if (errno == EINTR)
            return;
        die(std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
        auto *c = static_cast<Conn *>(events[i].data.ptr);
        if (c == nullptr) { // the rate timer
            continue;
        }
        if (c->state != State::Closed)
            onEvent(c, events[i].events);
    }
}

bool Load::waitUntil(const std::function<bool()> &done, int timeoutMs)
{
    const i64 deadline = nowNs() + i64(timeoutMs) * 1000000;
    while (!done()) {
        const i64 left = deadline - nowNs();
        if (left <= 0)
            return false;
        pump(int(std::min<i64>(left / 1000000 + 1, 100)));
    }
    return true;
}

int Load::run()
{
    // Sockets: N subscribers and the publishers.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rlim_t(m_o.clients + m_o.pubConns + 64))
        die("open files limit " + std::to_string(rl.rlim_cur) + " is below "
            + std::to_string(m_o.clients + m_o.pubConns + 64) + ": raise it (ulimit -n)");

    m_addr.sin_family = AF_INET;
    m_addr.sin_port = htons(std::uint16_t(m_o.port));
    if (inet_pton(AF_INET, m_o.host.c_str(), &m_addr.sin_addr) != 1)
        die("--host must be an IPv4 address");
    for (const auto &h : m_o.headers)
        m_extraHeaders += h + "\r\n";
    m_pad.assign(std::size_t(std::max(0, m_o.size)), 'x');

    m_ep = epoll_create1(EPOLL_CLOEXEC);
    const bool fanout = m_o.mode == "fanout";

    std::printf("mode %s\nclients %d\nchannels %d\nmessage_bytes %d\n", m_o.mode.c_str(), m_o.clients, m_o.channels,
                m_o.size);

    // 0. Publishers.
    for (int i = 0; i < m_o.pubConns; ++i) {
        auto c = std::make_unique<Conn>();
        c->role = Role::Publisher;
        connectPublisher(c.get());
        m_pubs.push_back(std::move(c));
    }
    if (!waitUntil([&] { return idlePublisher() != nullptr; }, 10000))
        die("could not connect a publisher");

    // 1. Precreate: one message per channel, not measured.
    if (m_o.precreate) {
        int next = 0;
        const bool ok = waitUntil(
            [&] {
                while (next < m_o.channels) {
                    Conn *p = idlePublisher();
                    if (!p)
                        return false;
                    publish(p, next++, 0);
                }
                for (auto &p : m_pubs)
                    if (p->state != State::Idle)
                        return false;
                return true;
            },
            120000);
        if (!ok || m_s.pubErrors > 0)
            die("precreate failed (" + std::to_string(m_s.pubErrors) + " publish errors)");
        m_s.pubRtt.clear();
    }

    // 2. RSS with no stream.
    waitUntil([] { return false; }, 500);
    const Memory before = readMemory(m_o.pids);

    // 3. Connect the subscribers.
    m_subs.reserve(std::size_t(m_o.clients));
    for (int i = 0; i < m_o.clients; ++i) {
        auto c = std::make_unique<Conn>();
        c->channel = i % m_o.channels;
        m_subs.push_back(std::move(c));
    }
    const i64 connectStart = nowNs();
    int started = 0;
    auto settled = [&] { return m_s.headsOk + m_s.headsBad + m_s.connectErrors; };
    const bool connected = waitUntil(
        [&] {
            // At most --window subscribers between connect() and their response head.
            while (started < m_o.clients && started - settled() < m_o.window)
                startSubscriber(started++);
            return started == m_o.clients && settled() >= m_o.clients;
        },
        300000);
    const i64 headsDone = nowNs();
    if (!connected || m_s.headsOk < m_o.clients) {
        std::printf("error connect: %d of %d subscribers connected (%d bad status, %d connect errors)\n", m_s.headsOk,
                    m_o.clients, m_s.headsBad, m_s.connectErrors);
        return 1;
    }
    // The first event (the channel's current state), when the server sends one on connect.
    waitUntil([&] { return m_s.firstEvents >= m_o.clients; }, m_o.precreate ? 10000 : 0);
    std::printf("connect_all_heads_ms %.1f\n", double(m_s.allHeadsAt - connectStart) / 1e6);
    if (m_s.firstEvents >= m_o.clients)
        std::printf("connect_all_first_event_ms %.1f\n", double(m_s.allFirstAt - connectStart) / 1e6);
    else
        std::printf("connect_first_events %d\n", m_s.firstEvents);
    std::printf("connect_rate_per_s %.0f\n", double(m_o.clients) / (double(headsDone - connectStart) / 1e9));

    // 4. RSS with N idle streams.
    waitUntil([] { return false; }, m_o.settleMs);
    const Memory idle = readMemory(m_o.pids);
    if (!m_o.pids.empty()) {
        std::printf("rss_before_kb %ld\nrss_idle_kb %ld\n", before.rssKb, idle.rssKb);
        std::printf("rss_anon_delta_kb %ld\nrss_file_delta_kb %ld\nrss_shmem_delta_kb %ld\n",
                    idle.anonKb - before.anonKb, idle.fileKb - before.fileKb, idle.shmemKb - before.shmemKb);
        std::printf("rss_per_stream_bytes %.0f\n", double(idle.rssKb - before.rssKb) * 1024.0 / m_o.clients);
    }

    // 5. Publish.
    std::vector<int> perChannel(std::size_t(m_o.channels), 0);
    for (auto &c : m_subs)
        if (c->state == State::Streaming)
            ++perChannel[std::size_t(c->channel)];
    long expected = 0;
    const double cpuBefore = readCpuMs(m_o.pids);
    const i64 publishStart = nowNs();
    rusage ruBefore{};
    getrusage(RUSAGE_SELF, &ruBefore);
    if (!fanout) {
        const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        const i64 period = i64(1e9 / m_o.rate);
        itimerspec its{};
        its.it_interval.tv_sec = period / 1000000000;
        its.it_interval.tv_nsec = period % 1000000000;
        its.it_value = its.it_interval;
        timerfd_settime(tfd, 0, &its, nullptr);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = nullptr;
        epoll_ctl(m_ep, EPOLL_CTL_ADD, tfd, &ev);
        long maxBacklog = 0;
        while (m_sent < m_o.publishes) {
            pump(100);
            std::uint64_t ticks = 0;
            if (::read(tfd, &ticks, sizeof ticks) == sizeof ticks)
                m_due += long(ticks);
            maxBacklog = std::max(maxBacklog, m_due);
            while (m_due > 0 && m_sent < m_o.publishes) {
                Conn *p = idlePublisher();
                if (!p)
                    break;
                const int ch = m_nextChannel;
                m_nextChannel = (m_nextChannel + 1) % m_o.channels;
                expected += perChannel[std::size_t(ch)];
                publish(p, ch, m_nextK++);
                ++m_sent;
                --m_due;
            }
        }
        epoll_ctl(m_ep, EPOLL_CTL_DEL, tfd, nullptr);
        ::close(tfd);
        const double secs = double(nowNs() - publishStart) / 1e9;
        std::printf("publish_rate_per_s %.0f\npublish_backlog_max %ld\n", m_sent / secs, maxBacklog);
        // Wait for the last deliveries.
        waitUntil([&] { return m_s.delivered >= expected; }, m_o.drainMs);
    } else {
        const int total = m_o.warmup + m_o.publishes;
        const int subscribers = perChannel[0];
        for (int k = 1; k <= total; ++k) {
            Conn *p = nullptr;
            waitUntil([&] { return (p = idlePublisher()) != nullptr; }, 10000);
            if (!p)
                die("no publisher connection became free");
            m_currentK = k;
            m_currentDelivered = 0;
            m_currentFirst = m_currentLast = 0;
            publish(p, 0, k);
            m_currentT = p->sentAt;
            if (k > m_o.warmup)
                expected += subscribers;
            const bool all = waitUntil([&] { return m_currentDelivered >= subscribers; }, m_o.drainMs);
            if (k > m_o.warmup && m_currentDelivered > 0) {
                if (all)
                    m_s.fanoutLast.push_back(m_currentLast - m_currentT);
                m_s.fanoutFirst.push_back(m_currentFirst - m_currentT);
            }
            if (!all)
                std::fprintf(stderr, "bench_sse_load: message %d reached %d of %d subscribers\n", k, m_currentDelivered,
                             subscribers);
            waitUntil([] { return false; }, m_o.gapMs);
        }
    }
    const double cpuAfter = readCpuMs(m_o.pids);
    rusage ruAfter{};
    getrusage(RUSAGE_SELF, &ruAfter);
    auto tvMs = [](const timeval &tv) { return double(tv.tv_sec) * 1e3 + double(tv.tv_usec) / 1e3; };

    // 6. Report.
    std::printf("published %d\n", m_sent > 0 ? m_sent : m_o.publishes);
    std::printf("deliveries_expected %ld\ndeliveries_measured %ld\ndeliveries_missing %ld\n", expected, m_s.delivered,
                std::max(0L, expected - m_s.delivered));
    if (!m_o.dump.empty()) {
        if (FILE *f = std::fopen(m_o.dump.c_str(), "w")) {
            for (std::size_t i = 0; i < m_s.sends.size(); ++i)
                std::fprintf(f, "%" PRId64 " %" PRId64 " %" PRId64 " %d\n", m_s.sends[i].first, m_s.latencies[i],
                             m_s.readLatencies[i], m_s.sends[i].second);
            std::fclose(f);
        }
    }
    printPercentiles("latency", percentiles(m_s.latencies));
    printPercentiles("latency_read", percentiles(m_s.readLatencies));
    if (fanout) {
        printPercentiles("fanout_last", percentiles(m_s.fanoutLast));
        printPercentiles("fanout_first", percentiles(m_s.fanoutFirst));
    }
    printPercentiles("publish_rtt", percentiles(m_s.pubRtt));
    std::printf("publish_errors %ld\npublisher_reconnects %ld\nstreams_closed_by_server %d\n", m_s.pubErrors,
                m_s.pubReconnects, m_s.closedByServer);
    if (!m_o.pids.empty())
        std::printf("server_cpu_ms %.0f\n", cpuAfter - cpuBefore);
    std::printf("tool_cpu_ms %.0f\n",
                tvMs(ruAfter.ru_utime) + tvMs(ruAfter.ru_stime) - tvMs(ruBefore.ru_utime) - tvMs(ruBefore.ru_stime));
    std::printf("publish_phase_s %.2f\n", double(nowNs() - publishStart) / 1e9);
    std::fflush(stdout);

    // Close everything with a reset: no TIME_WAIT left behind on either side for the next run.
    const linger lg{1, 0};
    for (auto *list : {&m_subs, &m_pubs})
        for (auto &c : *list)
            if (c->fd >= 0) {
                setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                ::close(c->fd);
                c->fd = -1;
            }
    ::close(m_ep);
    return (m_s.pubErrors > 0 || expected - m_s.delivered > 0) ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
    Options o = parseOptions(argc, argv);
    auto load = std::make_unique<Load>(std::move(o));
    return load->run();
}
