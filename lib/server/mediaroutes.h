#pragma once

// /api/media: streamed uploads (POST, raw body; the name in X-Filename or ?name=), one media
// record (GET /api/media/{id}) and the caller's list (GET /api/media). DELETE /api/media/{id}
// is installed by JobRoutes: whether media may go depends on the jobs using it.
//
// An upload is written to disk as it arrives (never held in memory), hashed on the way, probed
// on a worker thread once complete, and only then kept: 201 with the record. A file FFmpeg
// cannot read is 422 with the media error code (not_media, empty_file, corrupt_stream, ...), and
// so is one over the media limits (too_many_streams, media_too_large: found by the probe from
// the header, before anything is decoded); nothing is kept; neither is anything of an upload that is too large (413), stalls (408) or
// is abandoned.

#include "media/operation.h"

#include <QObject>

namespace clipdeck::server {

class MediaStore;
class Metrics;
class Router;

class MediaRoutes : public QObject
{
public:
    MediaRoutes(MediaStore &store, Metrics &metrics, qint64 maxUploadBytes, const media::Limits &limits,
                QObject *parent = nullptr);
    void install(Router &router);

private:
    MediaStore &m_store;
    Metrics &m_metrics;
    qint64 m_maxUpload;
    media::Limits m_limits;
};

} // namespace clipdeck::server
