#!/bin/sh
# Run once by the official MySQL image when it creates its data directory (compose mounts
# this folder at /docker-entrypoint-initdb.d): the read-only user dashboards connect as.
set -eu
mysql --protocol=socket -uroot -p"$MYSQL_ROOT_PASSWORD" <<SQL
CREATE USER IF NOT EXISTS 'pos_reports'@'%' IDENTIFIED BY '${POS_MYSQL_REPORT_PASSWORD}';
GRANT SELECT ON \`${MYSQL_DATABASE}\`.* TO 'pos_reports'@'%';
SQL
