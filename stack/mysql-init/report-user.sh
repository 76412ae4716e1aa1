#!/bin/sh
# Run once by the official MySQL image when it creates its data directory (compose mounts
# this folder at /docker-entrypoint-initdb.d): the user dashboards connect as. It gets no
# rights here: `posctl db upgrade` (the migrate service) grants it SELECT on the analytics
# tables only, as the app user, which may pass its rights on.
set -eu
mysql --protocol=socket -uroot -p"$MYSQL_ROOT_PASSWORD" <<SQL
CREATE USER IF NOT EXISTS 'pos_reports'@'%' IDENTIFIED BY '${POS_MYSQL_REPORT_PASSWORD}';
GRANT ALL ON \`${MYSQL_DATABASE}\`.* TO '${MYSQL_USER}'@'%' WITH GRANT OPTION;
SQL
