#!/bin/bash
# Kafka's own script, reduced to its class: asks the brokers for their API versions.
exec java -Xmx128m -XX:TieredStopAtLevel=1 -Dlog4j.configuration=file:/opt/kafka/config/tools-log4j.properties \
  -cp '/opt/kafka/libs/*' kafka.admin.BrokerApiVersionsCommand "$@"
