#!/bin/bash
# The apache/kafka image's configuration contract: KAFKA_FOO_BAR=x becomes foo.bar=x ("___" → "-",
# "__" → "_"), except the JVM option variables; CLUSTER_ID formats the log directory once.
set -euo pipefail
props=/opt/kafka/config/server.properties
: > "$props"
for var in $(compgen -e); do
  case "$var" in
    KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_LOG4J_OPTS|KAFKA_JMX_OPTS|KAFKA_JVM_PERFORMANCE_OPTS|KAFKA_GC_LOG_OPTS) ;;
    KAFKA_*)
      key=$(printf '%s' "${var#KAFKA_}" | tr '[:upper:]' '[:lower:]' \
        | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
      printf '%s=%s\n' "$key" "${!var}" >> "$props" ;;
  esac
done
cp_="/opt/kafka/libs/*"
java -Xmx256m -Dlog4j.configuration=file:/opt/kafka/config/tools-log4j.properties -cp "$cp_" \
  kafka.tools.StorageTool format -t "${CLUSTER_ID:?CLUSTER_ID is required}" -c "$props" --ignore-formatted
# shellcheck disable=SC2086 # the option variables hold several options
exec java ${KAFKA_HEAP_OPTS:--Xmx512m} ${KAFKA_OPTS:-} -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties \
  -cp "$cp_" kafka.Kafka "$props"
