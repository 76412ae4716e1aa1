"""`posctl`: run the local stack, migrate, seed, stream and serve.

The command line is the one place that joins the running system (`pos_app`,
`stream_jobs`) and the local-stack tooling (`stack`): the runtime packages never import
the tooling, so it does not ship with them."""
