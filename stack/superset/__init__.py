"""Apache Superset for the shop's analytics: `server` installs and runs it, `bundle` builds
the "Sales" dashboard as an export bundle, `client` imports it and reads charts back."""
