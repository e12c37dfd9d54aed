#!/usr/bin/env bash
# The whole pipeline against a local moto server: cflog gen -> cflog replay (Kinesis, as
# CloudFront writes) -> cflog consume (the Lambda handler) -> CloudWatch, DynamoDB and the
# enriched stream; then what landed in each sink next to `cflog analyze` of the same lines.
# Usage: host-lambda/demo.sh CFLOG_BINARY VENV_DIR WORK_DIR
set -euo pipefail
CFLOG=$1 VENV=$2 WORK=$3
mkdir -p "$WORK"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "$URL/moto-api/" >/dev/null 2>&1 && break; sleep 0.1; done

"$VENV/bin/python" - "$URL" <<'PY'
import sys, boto3
url = sys.argv[1]
k = boto3.client("kinesis", endpoint_url=url)
k.create_stream(StreamName="cloudfront-realtime", ShardCount=2)
k.create_stream(StreamName="cflog-enriched", ShardCount=1)
boto3.client("dynamodb", endpoint_url=url).create_table(
    TableName="cflog-rollups", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
print("moto at", url, ": streams cloudfront-realtime (2 shards), cflog-enriched; table cflog-rollups")
PY

echo "== cflog gen | cflog replay: 5,000 real-time lines into Kinesis =="
# Recent timestamps: CloudWatch refuses data points older than two weeks.
"$CFLOG" gen --format realtime --lines 5000 --seed 7 --start now-60m > "$WORK/realtime.log"
"$CFLOG" replay --stream cloudfront-realtime --endpoint-url "$URL" "$WORK/realtime.log"
FIELDS=$("$CFLOG" parse "$WORK/realtime.log" | head -n 1 | "$VENV/bin/python" -c 'import json,sys; print(",".join(json.loads(sys.stdin.readline()).keys()))')

echo "== cflog consume: the Lambda handler on every batch (JSON logs below) =="
"$CFLOG" consume --stream cloudfront-realtime --endpoint-url "$URL" --fields "$FIELDS" \
  --table cflog-rollups --output-stream cflog-enriched --from-start --until-idle 2

echo "== what landed in each sink, next to cflog analyze =="
"$CFLOG" analyze --json "$WORK/realtime.log" > "$WORK/report.json" || true
"$VENV/bin/python" - "$URL" "$WORK/report.json" <<'PY'
import sys, json, datetime, boto3
url, report = sys.argv[1], json.load(open(sys.argv[2]))
cw = boto3.client("cloudwatch", endpoint_url=url)
start = datetime.datetime.fromtimestamp(report["time"]["first_ms"] / 1000 - 120, datetime.timezone.utc)
end = datetime.datetime.fromtimestamp(report["time"]["last_ms"] / 1000 + 120, datetime.timezone.utc)
total = 0
for m in cw.list_metrics(Namespace="CloudFront/RealTime", MetricName="Requests")["Metrics"]:
    if len(m["Dimensions"]) != 1: continue
    pts = cw.get_metric_statistics(Namespace="CloudFront/RealTime", MetricName="Requests", Dimensions=m["Dimensions"],
                                   StartTime=start, EndTime=end, Period=60, Statistics=["Sum"])["Datapoints"]
    s = sum(p["Sum"] for p in pts); total += s
    print(f"  CloudWatch Requests {m['Dimensions'][0]['Value']:<34} {int(s):>6}")
print(f"CloudWatch Requests total: {int(total)}   (cflog analyze: {report['records']} records)")
items = boto3.resource("dynamodb", endpoint_url=url).Table("cflog-rollups").scan()["Items"]
rollups = [i for i in items if i["pk"].startswith("dist#")]
print(f"DynamoDB: {len(rollups)} rollup items, records total {sum(int(i['records']) for i in rollups)}, "
      f"bytes_sent {sum(int(i['bytes_sent']) for i in rollups)} (analyze: {report['bytes_sent']}); "
      f"progress markers: {sum(1 for i in items if i['pk'].startswith('mark#'))}")
for i in sorted(rollups, key=lambda i: (i["pk"], i["sk"]))[:3]:
    print("  ", i["pk"], i["sk"], "records", int(i["records"]), "5xx", int(i.get("s5xx", 0)), "ttl", int(i["expires_at"]))
k = boto3.client("kinesis", endpoint_url=url)
n, first = 0, None
for sh in k.list_shards(StreamName="cflog-enriched")["Shards"]:
    it = k.get_shard_iterator(StreamName="cflog-enriched", ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        r = k.get_records(ShardIterator=it, Limit=10000)
        if not r["Records"]: break
        n += len(r["Records"]); first = first or r["Records"][0]["Data"]
        it = r.get("NextShardIterator")
print(f"Output stream cflog-enriched: {n} enriched records (OpenSearch documents: `-` values absent); the first, shortened:")
rec = json.loads(first)
print("  ", json.dumps({k: rec[k] for k in ["@timestamp", "timestamp", "c-ip", "sc-status", "x-edge-location", "_cflog"] if k in rec}))
PY
