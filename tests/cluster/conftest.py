from tests.stack_fixtures import *  # noqa: F403  (the shared real-stack fixtures)
