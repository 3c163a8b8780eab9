#include "media/operation.h"

#include "media/probe.h"
#include "media/scenes.h"
#include "media/thumbnails.h"
#include "media/transcode.h"
#include "media/waveform.h"

namespace clipdeck::media {

const QList<OperationSpec> &operations()
{
    // heavy: encodes that keep every core busy for the clip's length. The rest decode and
    // analyse; the engine runs them in a separate, wider pool so a long export never blocks
    // a quick thumbnail or probe.
    static const QList<OperationSpec> all{
        {QStringLiteral("probe"), QStringLiteral("Read what a file contains"), false, validateProbe, runProbe},
        {QStringLiteral("transcode"), QStringLiteral("Export to a preset"), true, validateTranscode, runTranscode},
        {QStringLiteral("proxy"), QStringLiteral("Make an editing proxy"), true, validateProxy, runProxy},
        {QStringLiteral("thumbnails"), QStringLiteral("Thumbnails, contact sheet and poster frame"), false,
         validateThumbnails, runThumbnails},
        {QStringLiteral("scenes"), QStringLiteral("Detect cuts and transitions"), false, validateScenes, runScenes},
        {QStringLiteral("waveform"), QStringLiteral("Audio peaks for the timeline"), false, validateWaveform,
         runWaveform},
    };
    return all;
}

const OperationSpec *findOperation(QStringView kind)
{
    for (const auto &op : operations()) {
        if (op.kind == kind)
            return &op;
    }
    return nullptr;
}

} // namespace clipdeck::media
