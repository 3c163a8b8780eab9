#pragma once

// The one place where a job snapshot is made fit for clients: the engine's snapshot holds server
// paths (the input file, the outputs); clients get the media id as `input` and, as each output's
// `path`, the URL path it downloads from (/api/jobs/{id}/outputs/{name}). An error message that
// names the input file (the engine's "does not exist", FFmpeg's "cannot be read") names it by the
// upload's name instead (the media id once the media is deleted). Everything a client receives —
// REST answers and stream events — goes through forClient().

#include "jobs/job.h"

namespace clipdeck::server {

class MediaStore;

class JobView
{
public:
    explicit JobView(const MediaStore &media) : m_media(media) { }

    jobs::Job forClient(const jobs::Job &job) const;

    // "/api/jobs/<id>/outputs/<name>", the name percent-encoded
    static QString outputUrlPath(const QString &jobId, const QString &name);

private:
    const MediaStore &m_media;
};

} // namespace clipdeck::server
