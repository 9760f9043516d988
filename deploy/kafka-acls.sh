#!/bin/sh
# The recommended ACLs of a newsflow deployment: one principal per role, each with the least
# rights its commands need. Run it once per cluster as an admin (a super user), with the
# authorizer on and allow.everyone.if.no.acl.found=false:
#
#   BOOTSTRAP=kafka:9093 ADMIN_CONFIG=admin.properties sh deploy/kafka-acls.sh
#
# Topic and group names are the workers' own settings (NEWSFLOW_TOPIC_*, NEWSFLOW_*_GROUP),
# defaults as in the README. Read and Write each imply Describe; Write on a topic also allows
# the idempotent producer's InitProducerId (Kafka 2.8+), so no role needs a cluster right.
# tests/integration/test_sasl_ssl_and_acls.py applies this very file to its SASL_SSL Kafka
# (KAFKA_ACLS names the tool there).
set -eu

RAW="${NEWSFLOW_TOPIC_RAW:-newsflow.raw-html.v1}"
CLEAN="${NEWSFLOW_TOPIC_CLEAN:-newsflow.articles-clean.v1}"
ENRICHED="${NEWSFLOW_TOPIC_ENRICHED:-newsflow.articles-enriched.v1}"
DEAD="${NEWSFLOW_TOPIC_DEAD_LETTER:-newsflow.dead-letter.v1}"
CLEAN_GROUP="${NEWSFLOW_CLEAN_GROUP:-newsflow-clean}"
ENRICH_GROUP="${NEWSFLOW_ENRICH_GROUP:-newsflow-enrich}"
# Downstream consumers of the sink commit under groups named with this prefix.
SINK_GROUP_PREFIX="${SINK_GROUP_PREFIX:-newsflow-sink}"

acls() {
    ${KAFKA_ACLS:-kafka-acls.sh} --bootstrap-server "$BOOTSTRAP" \
        --command-config "$ADMIN_CONFIG" --add "$@"
}

# newsflow-crawler: publishes raw pages (crawlers, newsflow produce).
acls --allow-principal User:newsflow-crawler --operation Write --topic "$RAW"

# newsflow-clean: clean workers read raw as their group, write clean and dead letters.
acls --allow-principal User:newsflow-clean --operation Read --topic "$RAW" --group "$CLEAN_GROUP"
acls --allow-principal User:newsflow-clean --operation Write --topic "$CLEAN" --topic "$DEAD"

# newsflow-enrich: enrich workers read clean as their group, write enriched and dead letters.
acls --allow-principal User:newsflow-enrich --operation Read --topic "$CLEAN" \
    --group "$ENRICH_GROUP"
acls --allow-principal User:newsflow-enrich --operation Write --topic "$ENRICHED" --topic "$DEAD"

# newsflow-consumer: reads the enriched sink (newsflow tail, downstream consumers).
acls --allow-principal User:newsflow-consumer --operation Read --topic "$ENRICHED"
acls --allow-principal User:newsflow-consumer --operation Read --group "$SINK_GROUP_PREFIX" \
    --resource-pattern-type prefixed

# newsflow-ops and newsflow-lag-exporter: newsflow lag (an operator) and newsflow lag --serve
# (the exporter, a service with credentials of its own) describe the worker groups for their
# committed offsets and read the first waiting record of their input partitions (for the lag
# in seconds: a fetch needs Read, not Describe).
acls --allow-principal User:newsflow-ops --allow-principal User:newsflow-lag-exporter \
    --operation Describe --group "$CLEAN_GROUP" --group "$ENRICH_GROUP"
acls --allow-principal User:newsflow-ops --allow-principal User:newsflow-lag-exporter \
    --operation Read --topic "$RAW" --topic "$CLEAN"

# newsflow-replay: newsflow dlq replay reads dead letters and writes them back to their inputs.
acls --allow-principal User:newsflow-replay --operation Read --topic "$DEAD"
acls --allow-principal User:newsflow-replay --operation Write --topic "$RAW" --topic "$CLEAN"
