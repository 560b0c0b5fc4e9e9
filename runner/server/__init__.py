"""The unattended runner service (``botloom runner serve``).

One long-running process per data folder, made of small parts that each own one job::

    Service (service.py)      start-up recovery, the parts below, graceful shutdown
    ├── Scheduler             APScheduler 3.x; its job store is the run store's own SQLite file
    │   (scheduling.py)       (table ``apscheduler_jobs``), so schedules and their next fire times
    │                         survive restarts and a misfire while the service was down follows
    │                         the schedule's policy
    ├── Schedules             what people asked for: bot, trigger, inputs, policies (``schedules.py``,
    │                         table ``service_schedules``); cron with a time zone, intervals, one-off
    │                         dates, folder watches and webhooks
    ├── Dispatcher            a durable queue (table ``service_queue``), a limit of concurrent runs,
    │   (dispatcher.py)       per-capability limits (one desktop run per display), each run in a
    │                         worker child process, time limits, crash recovery by the bot's policy
    ├── Folder watches        watchdog; a file counts once it stopped growing; one run per file;
    │   (watch.py)            processing/done/failed folders
    ├── Displays (display.py) a virtual display for desktop bots when there is no desktop session
    ├── Metrics (metrics.py)  Prometheus counters and histograms from the workers' events
    └── Control API (api.py)  FastAPI on 127.0.0.1 only, with a token readable by the owner alone

    manage.py                 schedules from outside the service (CLI, designer): its API or the store
    client.py                 the CLI's and the designer's way to the running service

Only one service may own a data folder at a time (two APScheduler processes on one job store
would both run every job): ``service/service.lock`` is held for the service's life.
"""
