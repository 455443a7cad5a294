"""Downloads and offline review: the download manager, the local library database, the outbox sync
and offline start-up."""
