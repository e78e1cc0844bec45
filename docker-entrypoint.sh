#!/bin/sh
# Like `make run`: bring the bundled corpus into the data volume (a no-op when unchanged),
# then run the given command (by default `citebot run`).
set -e
citebot ingest /app/corpus/documents
exec "$@"
