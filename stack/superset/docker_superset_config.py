"""Superset settings for the `superset` service of docker-compose.yml (mounted into the
official image as /app/pythonpath/superset_config.py). SECRET_KEY comes from
SUPERSET_SECRET_KEY; the metadata stays in the image's default SQLite file on a volume."""

# Superset's MySQL engine spec reads column type codes from MySQLdb (the C driver);
# pure-Python PyMySQL, installed by the service's command, has the same constants.
import pymysql

pymysql.install_as_MySQLdb()

# No result cache: the dashboard refreshes itself and should show the live figures.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
