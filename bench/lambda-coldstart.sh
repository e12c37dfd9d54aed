#!/usr/bin/env bash
# Cold-start init of the Lambda `bootstrap`: start the binary RUNS times with a Lambda-like
# environment and read `init_us` from its "cold start done" log line (configuration, SDK
# clients, layout and, with rules, compiling the enrichment rules). The Runtime API address
# is a closed port, so the process exits right after init; nothing reaches AWS.
# Usage: bench/lambda-coldstart.sh BOOTSTRAP [RUNS] [RULES_DIR]
# With RULES_DIR (the .wasm rules, e.g. $CARGO_TARGET_DIR/wasm32-unknown-unknown/release),
# it also measures a start that compiles the rules (cache emptied) and one that loads them
# from the /tmp cache, as a warm sandbox's next cold start would.
# FIELDS: the 46-field real-time layout (as `cflog gen --format realtime | cflog parse` names it).
set -euo pipefail
BOOT=$1 RUNS=${2:-9} RULES=${3:-}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
FIELDS=timestamp,c-ip,s-ip,time-to-first-byte,sc-status,sc-bytes,cs-method,cs-protocol,cs-host,cs-uri-stem,cs-bytes,x-edge-location,x-edge-request-id,x-host-header,time-taken,cs-protocol-version,c-ip-version,cs-user-agent,cs-referer,cs-cookie,cs-uri-query,x-edge-response-result-type,x-forwarded-for,ssl-protocol,ssl-cipher,x-edge-result-type,fle-encrypted-fields,fle-status,sc-content-type,sc-content-len,sc-range-start,sc-range-end,c-port,x-edge-detailed-result-type,c-country,cs-accept-encoding,cs-accept,cache-behavior-path-pattern,cs-headers,cs-header-names,cs-headers-count,primary-distribution-id,primary-distribution-dns-name,origin-fbl,origin-lbl,asn

run() { # prints init_us (the process then fails to reach the closed port: expected)
  { env -i PATH="$PATH" HOME=/tmp AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
    AWS_LAMBDA_RUNTIME_API="127.0.0.1:$PORT" AWS_LAMBDA_FUNCTION_NAME=cflog AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 \
    AWS_LAMBDA_FUNCTION_VERSION='$LATEST' AWS_LAMBDA_LOG_STREAM_NAME=s AWS_LAMBDA_LOG_GROUP_NAME=g \
    CFLOG_FIELDS="$FIELDS" CFLOG_TABLE=cflog-rollups CFLOG_OUTPUT_STREAM=cflog-enriched "$@" "$BOOT" 2>/dev/null || true; } \
    | python3 -c 'import json,sys
for l in sys.stdin:
    try: v = json.loads(l)
    except ValueError: continue
    f = v.get("fields", v)
    if f.get("message") == "cold start done": print(f["init_us"]); break'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "bootstrap: $BOOT ($(stat -c %s "$BOOT") bytes), $RUNS runs each, init_us median (min-max)"
xs=$(for _ in $(seq "$RUNS"); do run; done)
echo "  CFLOG_FIELDS, no rules:            $(echo "$xs" | median) ($(echo "$xs" | sort -n | head -1)-$(echo "$xs" | sort -n | tail -1))"
if [ -n "$RULES" ]; then
  plugins=$(ls "$RULES"/cflog_rule_*.wasm | paste -sd, -)
  xs=$(for _ in $(seq "$RUNS"); do rm -rf /tmp/cflog-plugin-cache; run CFLOG_PLUGINS="$plugins"; done)
  echo "  + $(echo "$plugins" | tr , "\n" | wc -l) rules, compiled (cache empty): $(echo "$xs" | median) ($(echo "$xs" | sort -n | head -1)-$(echo "$xs" | sort -n | tail -1))"
  xs=$(for _ in $(seq "$RUNS"); do run CFLOG_PLUGINS="$plugins"; done)
  echo "  + rules from the /tmp cache:        $(echo "$xs" | median) ($(echo "$xs" | sort -n | head -1)-$(echo "$xs" | sort -n | tail -1))"
fi
