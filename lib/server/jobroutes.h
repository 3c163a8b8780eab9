#pragma once

// /api/jobs: submit (202 + Location), list (?status=running,pending), one job, the actions
// (cancel, pause, resume, retry), DELETE of a finished job, output downloads with Range, and
// DELETE /api/media/{id} (refused while a job not finished uses the media).

namespace clipdeck::server {

class JobService;
class Router;

class JobRoutes
{
public:
    explicit JobRoutes(JobService &jobs) : m_jobs(jobs) { }
    void install(Router &router);

private:
    JobService &m_jobs;
};

} // namespace clipdeck::server
