#!/usr/bin/env bash
# Installs cflog's OpenSearch objects: the index template (index-template.json), the index
# lifecycle policy (ism-policy.json, deleting daily indices after --retention-days) and the
# Dashboards saved objects (saved-objects.ndjson: index pattern, visualizations, the 5xx
# search, the dashboard). Run it once after the stack creates (or you point it at) a domain,
# and again after upgrading cflog; it overwrites what it installed before.
#
#   deploy/opensearch/install.sh --stack STACK
#       the endpoint and retention from the stack's outputs (OpenSearchMode=new-domain)
#   deploy/opensearch/install.sh --endpoint https://search-NAME-ID.REGION.es.amazonaws.com \
#       [--region REGION] [--retention-days 14]
#   deploy/opensearch/install.sh --serverless --endpoint https://ID.REGION.aoss.amazonaws.com
#       a collection: the index template only (the stack sets retention; import
#       saved-objects.ndjson in the collection's Dashboards, see deploy/README.md)
#
# Requests are SigV4-signed by awscurl (`pip install awscurl`) with your AWS credentials
# (the usual chain: environment, profile, SSO); the identity needs es:ESHttpGet/Put/Post on
# the domain. CFLOG_OPENSEARCH_CLIENT replaces the client by any command taking curl's
# -X/-H/-d and a URL, e.g. `curl -sS -u admin:PASSWORD` for a domain with fine-grained access
# control and a master user. Needs jq. Exits non-zero, with OpenSearch's answer, on the
# first request that fails.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POLICY_ID=cflog-retention
INDEX_PATTERN=cflog-*

endpoint="" region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}" days=14 serverless=0 stack=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --endpoint) endpoint=${2:?}; shift 2 ;;
    --region) region=${2:?}; shift 2 ;;
    --retention-days) days=${2:?}; shift 2 ;;
    --serverless) serverless=1; shift ;;
    --stack) stack=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "install.sh: unknown argument $1" >&2; usage ;;
  esac
done

die() { echo "install.sh: $*" >&2; exit 1; }
command -v jq >/dev/null || die "needs jq"

if [[ -n $stack ]]; then
  output() {
    aws cloudformation describe-stacks --stack-name "$stack" ${region:+--region "$region"} \
      --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
  }
  host=$(output SearchDomainEndpoint)
  [[ -n $host && $host != None ]] || die "stack $stack has no SearchDomainEndpoint output (OpenSearchMode=new-domain); use --endpoint"
  endpoint="https://$host"
  retention=$(output SearchRetentionDays)
  [[ -n $retention && $retention != None ]] && days=$retention
fi
[[ -n $endpoint ]] || die "--endpoint or --stack is required"
endpoint=${endpoint%/}
[[ $days =~ ^[1-9][0-9]*$ ]] || die "--retention-days must be a positive number of days (got $days)"

if [[ -n ${CFLOG_OPENSEARCH_CLIENT:-} ]]; then
  read -r -a client <<<"$CFLOG_OPENSEARCH_CLIENT"
else
  command -v awscurl >/dev/null || die "needs awscurl (pip install awscurl), or CFLOG_OPENSEARCH_CLIENT"
  [[ -n $region ]] || region=$(aws configure get region 2>/dev/null || true)
  [[ -n $region ]] || die "--region is required (or AWS_REGION)"
  service=es
  [[ $serverless == 1 ]] && service=aoss
  client=(awscurl --service "$service" --region "$region")
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# call METHOD PATH [BODY_FILE]: the response body on stdout.
call() {
  local args=(-X "$1" -H "Content-Type: application/json" -H "osd-xsrf: true")
  [[ $# -ge 3 ]] && args+=(-d "$(cat "$3")")
  "${client[@]}" "${args[@]}" "$endpoint$2"
}

# expect WHAT JQ_TEST BODY: dies unless BODY is JSON that passes JQ_TEST.
expect() {
  if ! jq -e "$2" >/dev/null 2>&1 <<<"$3"; then
    die "$1 failed: $3"
  fi
  echo "install.sh: $1: ok"
}

# 1. The mapping of every cflog-* index (before the first document creates one).
expect "index template cflog" '.acknowledged == true' \
  "$(call PUT /_index_template/cflog "$HERE/index-template.json")"

if [[ $serverless == 1 ]]; then
  echo "install.sh: a serverless collection: retention is the stack's lifecycle policy; import $HERE/saved-objects.ndjson in its Dashboards (deploy/README.md)"
  exit 0
fi

# 2. Index lifecycle: delete each daily index after $days days. Updating an existing policy
#    needs its sequence number and primary term; managed indices then change to the new
#    version, unmanaged ones (created before the policy) are added to it.
jq --arg age "${days}d" '.policy.states[0].transitions[0].conditions.min_index_age = $age' \
  "$HERE/ism-policy.json" >"$tmp/policy.json"
current=$(call GET "/_plugins/_ism/policies/$POLICY_ID")
seq=$(jq -r '._seq_no // empty' <<<"$current" 2>/dev/null || true)
term=$(jq -r '._primary_term // empty' <<<"$current" 2>/dev/null || true)
if [[ -n $seq && -n $term ]]; then
  expect "lifecycle policy $POLICY_ID (updated, delete after ${days}d)" '._id == "'$POLICY_ID'"' \
    "$(call PUT "/_plugins/_ism/policies/$POLICY_ID?if_seq_no=$seq&if_primary_term=$term" "$tmp/policy.json")"
else
  expect "lifecycle policy $POLICY_ID (created, delete after ${days}d)" '._id == "'$POLICY_ID'"' \
    "$(call PUT "/_plugins/_ism/policies/$POLICY_ID" "$tmp/policy.json")"
fi
echo "{\"policy_id\": \"$POLICY_ID\"}" >"$tmp/policy-id.json"
expect "existing $INDEX_PATTERN indices on the new policy version" 'has("updated_indices")' \
  "$(call POST "/_plugins/_ism/change_policy/$INDEX_PATTERN" "$tmp/policy-id.json")"
# Indices that already have the policy fail to be added again: that is expected.
expect "unmanaged $INDEX_PATTERN indices added to the policy" 'has("updated_indices")' \
  "$(call POST "/_plugins/_ism/add/$INDEX_PATTERN" "$tmp/policy-id.json")"

# 3. Dashboards: every object of the export, overwriting earlier versions.
jq -s '[.[] | {type, id, attributes, references, migrationVersion}]' "$HERE/saved-objects.ndjson" >"$tmp/objects.json"
n=$(jq length "$tmp/objects.json")
expect "$n Dashboards objects (dashboard \"cflog: CloudFront requests\")" \
  '(.saved_objects | length) == '"$n"' and ([.saved_objects[] | select(has("error"))] | length) == 0' \
  "$(call POST "/_dashboards/api/saved_objects/_bulk_create?overwrite=true" "$tmp/objects.json")"
echo "install.sh: done: $endpoint/_dashboards/"
