#!/usr/bin/env bash
# Install knit into .venv, start the local YARN + HDFS cluster, and run a command in
# 3 YARN containers with Hadoop's own DistributedShell, printing each container's output.
# Usage: bash tools/quickstart.sh ['shell command']   (the cluster stays up: `knit cluster down`)
set -euo pipefail
cd "$(dirname "$0")/.."
command_to_run="${1:-echo hello from \$(hostname) in \$CONTAINER_ID}"

python3 -m venv .venv
.venv/bin/python -m pip install -q -e .
.venv/bin/knit cluster up
eval "$(.venv/bin/knit cluster env)"

ds_jar=$(ls "$HADOOP_HOME"/share/hadoop/yarn/hadoop-yarn-applications-distributedshell-*.jar)
yarn jar "$ds_jar" org.apache.hadoop.yarn.applications.distributedshell.Client -jar "$ds_jar" \
  -shell_command "$command_to_run" -num_containers 3 -container_memory 128 -master_memory 256 \
  > .venv/quickstart.log 2>&1 || { tail -n 20 .venv/quickstart.log; exit 1; }
app_id=$(grep -o 'application_[0-9]*_[0-9]*' .venv/quickstart.log | head -n 1)
for _ in $(seq 30); do  # log aggregation lags a few seconds behind the application's end
  if yarn logs -applicationId "$app_id" -log_files stdout 2>/dev/null | grep -q LogContents; then break; fi
  sleep 1
done
yarn logs -applicationId "$app_id" -log_files stdout 2>/dev/null | grep -v -E '^(LogAggregationType|LogType|LogLastModifiedTime|LogLength|LogContents|End of LogType)|^[=*]*$' || true
