#pragma once

// Internal to lib/media: reading an operation's parameters (a QVariantMap from JSON, the CLI's
// --param k=v values typed by paramFromText(), or code) with one set of rules, so every operation
// validates alike and says which parameter is wrong and why.
//
// Parameters are typed, as in JSON: a number must be a number (not the text "8", not true), a
// flag true or false (not "no", not 0), a string a string. Only media times take either a number
// of seconds or a text form. A value of the wrong type fails, naming the parameter, rather than
// being converted: a client's mistake must not run a job it did not mean.

#include "media/operation.h"

#include <QVariantMap>

#include <optional>

namespace clipdeck::media {

class ParamReader
{
public:
    explicit ParamReader(const QVariantMap &params) : m_params(params) { }

    // Numbers: numeric values only (JSON numbers, C++ integers and doubles).
    double number(const QString &key, double fallback, double min, double max);
    int integer(const QString &key, int fallback, int min, int max);
    // Booleans: true or false only.
    bool boolean(const QString &key, bool fallback);
    // Strings, optionally restricted to a set of allowed values.
    QString string(const QString &key, const QString &fallback, const QStringList &allowed = {});
    // Media times: a number of seconds, or a string "12.5", "MM:SS(.mmm)", "HH:MM:SS(.mmm)";
    // nullopt when absent.
    std::optional<double> time(const QString &key);

    // Fails on any key not in `known` (a typo must not be silently ignored).
    void allowOnly(const QStringList &known);

    // The first problem found, as an invalid_params error; nullopt when all was well.
    std::optional<Error> error() const { return m_error; }

    static std::optional<double> parseTime(const QString &text);

private:
    void fail(const QString &key, const QString &why);
    const QVariantMap &m_params;
    std::optional<Error> m_error;
};

} // namespace clipdeck::media
