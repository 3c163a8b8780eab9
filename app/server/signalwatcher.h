#pragma once

// SIGINT, SIGTERM and SIGHUP as a Qt signal, by the self-pipe trick: the handler only write()s the
// signal number to a pipe (async-signal-safe); a QSocketNotifier on the other end turns it into
// an ordinary event on the main thread, where shutting down is safe.

#include <QObject>

class QSocketNotifier;

class SignalWatcher : public QObject
{
    Q_OBJECT

public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;
    bool isValid() const { return m_notifier != nullptr; }

Q_SIGNALS:
    void received(int signal);

private:
    QSocketNotifier *m_notifier = nullptr;
};
