"""Session-wide fixtures: the real servers (moto, Ceph RADOS Gateway, PostgreSQL, MariaDB, Redis,
Kafka) start once, on first use, and are shared by every suite that asks for them."""

pytest_plugins = [
    "tests.servers.s3",
    "tests.servers.postgres",
    "tests.servers.mariadb",
    "tests.servers.redis",
    "tests.servers.kafka",
]
