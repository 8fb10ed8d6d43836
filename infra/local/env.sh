# Shared settings for the local RabbitMQ and PostgreSQL started by infra/local/up.
# Sourced by up, down, rabbitmqctl, the Makefile's demo and the tests' runner.
# Every value can be overridden from the environment.
GEO_ROOT=${GEO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GEO_STATE=${GEO_STATE:-$GEO_ROOT/.local}

GEO_PG_HOST=${GEO_PG_HOST:-127.0.0.1}
GEO_PG_PORT=${GEO_PG_PORT:-55432}
GEO_PG_USER=${GEO_PG_USER:-geo}
GEO_PG_PASSWORD=${GEO_PG_PASSWORD:-geo}

GEO_RABBIT_HOST=${GEO_RABBIT_HOST:-127.0.0.1}
GEO_RABBIT_PORT=${GEO_RABBIT_PORT:-55672}
GEO_RABBIT_MGMT_PORT=${GEO_RABBIT_MGMT_PORT:-55673}
GEO_RABBIT_DIST_PORT=${GEO_RABBIT_DIST_PORT:-55674}
GEO_RABBIT_USER=${GEO_RABBIT_USER:-geo}
GEO_RABBIT_PASSWORD=${GEO_RABBIT_PASSWORD:-geo}

# RabbitMQ's own environment (see rabbitmq-env.conf(5)); the node runs as the invoking user.
GEO_RABBIT_NODENAME=${GEO_RABBIT_NODENAME:-geo@localhost}
export RABBITMQ_NODENAME=$GEO_RABBIT_NODENAME
export RABBITMQ_NODE_IP_ADDRESS=$GEO_RABBIT_HOST
export RABBITMQ_NODE_PORT=$GEO_RABBIT_PORT
export RABBITMQ_DIST_PORT=$GEO_RABBIT_DIST_PORT
export RABBITMQ_MNESIA_BASE=$GEO_STATE/rabbitmq/mnesia
export RABBITMQ_LOG_BASE=$GEO_STATE/rabbitmq/log
export RABBITMQ_PID_FILE=$GEO_STATE/rabbitmq/rabbitmq.pid
export RABBITMQ_CONFIG_FILE=$GEO_STATE/rabbitmq/rabbitmq
export RABBITMQ_ENABLED_PLUGINS_FILE=$GEO_STATE/rabbitmq/enabled_plugins
export ERL_EPMD_ADDRESS=127.0.0.1
export HOME_FOR_RABBIT=$GEO_STATE/rabbitmq

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
# PostgreSQL refuses to run as root, so as root it runs as the package's 'postgres' account, which must be
# able to reach its folder. Where the checkout's parents are closed to it, the data goes under /var/tmp.
PG_STATE=$GEO_STATE/postgres
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && ! su postgres -s /bin/sh -c "test -x '$GEO_ROOT'" 2>/dev/null; then
  PG_STATE=/var/tmp/geo-events-$(printf %s "$GEO_ROOT" | sha1sum | cut -c1-12)/postgres
fi
PG_DATA=$PG_STATE/data
PG_RUN=$PG_STATE/run
PG_LOG=$PG_STATE/postgres.log
