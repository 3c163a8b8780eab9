#include "jobs/job.h"

#include <array>

namespace clipdeck::jobs {

namespace {
// Indexed by Status; the wire names of schema v1 (docs/protocol.md).
constexpr std::array<QLatin1StringView, 6> statusNames{
    QLatin1StringView("pending"),  QLatin1StringView("running"), QLatin1StringView("paused"),
    QLatin1StringView("complete"), QLatin1StringView("failed"),  QLatin1StringView("canceled"),
};
} // namespace

QLatin1StringView statusName(Status status)
{
    return statusNames[static_cast<std::size_t>(status)];
}

std::optional<Status> statusFromName(QStringView name)
{
    for (std::size_t i = 0; i < statusNames.size(); ++i) {
        if (name == statusNames[i])
            return static_cast<Status>(i);
    }
    return std::nullopt;
}

} // namespace clipdeck::jobs
