#include "client/jobfiltermodel.h"

#include "client/jobmodel.h"
#include "client/jobsource.h"

#include <QPointer>

namespace clipdeck::client {

// The job schema's types are this library's vocabulary.
using namespace clipdeck::jobs;

struct JobFilterModel::Private
{
    QPointer<JobModel> jobs; // the source model when it is a JobModel
    Filter filter = Filter::All;
    QString searchText;
    bool newestFirst = false;
    int lastCount = 0;

    bool acceptsStatus(Status status) const
    {
        switch (filter) {
        case Filter::All: return true;
        case Filter::Active: return !isTerminal(status);
        case Filter::Finished: return status == Status::Complete || status == Status::Canceled;
        case Filter::Failed: return status == Status::Failed;
        }
        return true;
    }

    bool matches(QStringView text) const { return text.contains(searchText, Qt::CaseInsensitive); }
    bool matches(QLatin1StringView text) const { return text.contains(searchText, Qt::CaseInsensitive); }
};

JobFilterModel::JobFilterModel(QObject *parent) : QSortFilterProxyModel(parent), d(std::make_unique<Private>())
{
    // Re-filters the rows a coalesced dataChanged names, so a job whose status changes moves
    // between the tabs. Source order is kept unless newestFirst sorts (by source row, which an
    // update never changes, so re-sorting on updates finds nothing to move).
    setDynamicSortFilter(true);
    const auto updateCount = [this] {
        const int n = rowCount();
        if (n != d->lastCount) {
            d->lastCount = n;
            emit countChanged();
        }
    };
    connect(this, &QAbstractItemModel::rowsInserted, this, updateCount);
    connect(this, &QAbstractItemModel::rowsRemoved, this, updateCount);
    connect(this, &QAbstractItemModel::modelReset, this, updateCount);
    connect(this, &QAbstractItemModel::layoutChanged, this, updateCount);
}

JobFilterModel::~JobFilterModel() = default;

void JobFilterModel::setSourceModel(QAbstractItemModel *model)
{
    d->jobs = qobject_cast<JobModel *>(model);
    QSortFilterProxyModel::setSourceModel(model);
    if (d->newestFirst)
        sort(0, Qt::DescendingOrder);
}

JobFilterModel::Filter JobFilterModel::filter() const
{
    return d->filter;
}

void JobFilterModel::setFilter(Filter filter)
{
    if (d->filter == filter)
        return;
    d->filter = filter;
    invalidateFilter();
    emit filterChanged();
}

QString JobFilterModel::searchText() const
{
    return d->searchText;
}

void JobFilterModel::setSearchText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (d->searchText == trimmed)
        return;
    d->searchText = trimmed;
    invalidateFilter();
    emit searchTextChanged();
}

bool JobFilterModel::newestFirst() const
{
    return d->newestFirst;
}

void JobFilterModel::setNewestFirst(bool newestFirst)
{
    if (d->newestFirst == newestFirst)
        return;
    d->newestFirst = newestFirst;
    if (newestFirst)
        sort(0, Qt::DescendingOrder);
    else
        sort(-1); // back to source order
    emit newestFirstChanged();
}

int JobFilterModel::count() const
{
    return rowCount();
}

QString JobFilterModel::keyAt(int row) const
{
    const QModelIndex i = index(row, 0);
    return i.isValid() ? i.data(JobModel::KeyRole).toString() : QString();
}

bool JobFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (sourceParent.isValid())
        return false;
    if (JobModel *jobs = d->jobs) {
        const Job *job = jobs->job(sourceRow);
        if (!job)
            return false;
        if (!d->acceptsStatus(job->status))
            return false;
        if (d->searchText.isEmpty())
            return true;
        if (d->matches(jobs->clipName(sourceRow)) || d->matches(job->kind) || d->matches(job->stage)
            || d->matches(statusName(job->status)) || (job->error && d->matches(job->error->message)))
            return true;
        const JobSource *source = jobs->sourceOf(sourceRow);
        if (source && d->matches(source->displayName()))
            return true;
        // The kind and status as the rows show them ("Export", "Done"), last: they are looked up.
        const QModelIndex i = jobs->index(sourceRow);
        return d->matches(i.data(JobModel::KindLabelRole).toString())
               || d->matches(i.data(JobModel::StatusLabelRole).toString());
    }

    // Any other model: the same through its roles (tests, or a model wrapped in another proxy).
    const QAbstractItemModel *model = sourceModel();
    if (!model)
        return false;
    const QModelIndex i = model->index(sourceRow, 0, sourceParent);
    const QString status = i.data(JobModel::StatusRole).toString();
    if (const auto s = statusFromName(status); s && !d->acceptsStatus(*s))
        return false;
    if (d->searchText.isEmpty())
        return true;
    for (const int role :
         {JobModel::ClipNameRole, JobModel::KindRole, JobModel::StageRole, JobModel::StatusRole,
          JobModel::ErrorMessageRole, JobModel::SourceNameRole, JobModel::KindLabelRole, JobModel::StatusLabelRole}) {
        if (d->matches(i.data(role).toString()))
            return true;
    }
    return false;
}

bool JobFilterModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    return left.row() < right.row();
}

} // namespace clipdeck::client
