#!/usr/bin/env bash
# start|stop a RabbitMQ node on 127.0.0.1:5672 with its database and logs under .services/rabbitmq.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=5672
dir=$PWD/.services/rabbitmq
export RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$port \
       ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log \
       RABBITMQ_PID_FILE=$dir/rabbit.pid RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins \
       RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

case "${1:-}" in
  start)
    command -v rabbitmq-server >/dev/null || scripts/install-packages.sh rabbitmq-server
    if ! listening; then
      rm -rf "$dir"; mkdir -p "$dir/mnesia" "$dir/log"; echo '[].' > "$dir/enabled_plugins"
      chown -R rabbitmq:rabbitmq "$dir"
      rabbitmq-server -detached >/dev/null 2>&1
      rabbitmqctl wait --timeout 60 "$dir/rabbit.pid" >/dev/null
    fi
    deadline=$((SECONDS + 60))
    until listening; do
      [ $SECONDS -lt $deadline ] || { echo "RabbitMQ did not listen on port $port" >&2; exit 1; }
      sleep 0.2
    done
    grep -qs '^export AC_TEST_RABBITMQ=' .services/env || echo "export AC_TEST_RABBITMQ='amqp://guest:guest@127.0.0.1:$port/'" >> .services/env
    echo "RabbitMQ ready on 127.0.0.1:$port" ;;
  stop)
    if [ -d "$dir" ]; then
      rabbitmqctl shutdown >/dev/null 2>&1 || true
      epmd -kill >/dev/null 2>&1 || true
      rm -rf "$dir"
    fi ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
