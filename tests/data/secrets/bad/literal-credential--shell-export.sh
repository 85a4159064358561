#!/bin/sh
set -eu
export DB_HOST=postgres.db.svc
export DB_PASSWORD=qSSZ3jTD14HTlsN1AJlc
exec /app/server --db-host "$DB_HOST"
