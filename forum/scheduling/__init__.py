"""APScheduler runtime: builds the scheduler and runs the jobs features hand it."""
