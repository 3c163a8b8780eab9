#pragma once

// A view's selection of a JobModel: by state (the monitor's tabs), by text (its search field),
// and optionally newest first. Set sourceModel (from QML too) to the application's JobModel.
//
// Filtering reads the JobModel's rows directly (no QVariant per role), because every coalesced
// dataChanged re-runs it for the changed rows: a thousand jobs updating ten times a second.

#include <QSortFilterProxyModel>
#include <QString>
#include <QtQml/qqmlregistration.h>

#include <memory>

namespace clipdeck::client {

class JobFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(Filter filter READ filter WRITE setFilter NOTIFY filterChanged)
    // Case-insensitive; matches clip name, kind and status (as stored and as the rows label them:
    // "transcode" and "Export", "complete" and "Done"), stage, error message and source name.
    Q_PROPERTY(QString searchText READ searchText WRITE setSearchText NOTIFY searchTextChanged)
    // Rows first appeared last at the top instead of at the bottom.
    Q_PROPERTY(bool newestFirst READ newestFirst WRITE setNewestFirst NOTIFY newestFirstChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    enum class Filter {
        All,
        Active,   // pending, running, paused: what still needs the machine or the user
        Finished, // complete or canceled: ended and needing nothing
        Failed,   // failed: ended and may want a retry
    };
    Q_ENUM(Filter)

    explicit JobFilterModel(QObject *parent = nullptr);
    ~JobFilterModel() override;

    // Any QAbstractItemModel works through its roles; a JobModel is read directly.
    void setSourceModel(QAbstractItemModel *model) override;

    Filter filter() const;
    void setFilter(Filter filter);
    QString searchText() const;
    void setSearchText(const QString &text);
    bool newestFirst() const;
    void setNewestFirst(bool newestFirst);
    int count() const;

    // The source key of a proxy row ("" when out of range), for views that hold proxy rows.
    Q_INVOKABLE QString keyAt(int row) const;

signals:
    void filterChanged();
    void searchTextChanged();
    void newestFirstChanged();
    void countChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace clipdeck::client
