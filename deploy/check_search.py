"""The search and history parts of deploy/template.yaml, checked for deploy/check_template.py.

What it owns (run for every parameter combination, through `check(checker, inst)`):

* Firehose roles, least privilege: every role a delivery stream uses grants exactly what
  that stream's configuration needs (read its Kinesis source; write its S3 prefixes, and
  list their bucket; invoke its transformation; put its delivery logs; describe and bulk
  index into its OpenSearch domain, or reach its serverless collection), each on the very
  resource the stream names; objects only under the stream's own top-level prefix.
* OpenSearch: a domain the template creates is encrypted at rest and node to node, takes
  HTTPS only with TLS 1.2 or newer, and is reachable only by IAM identities (fine-grained
  access control, or an access policy whose principals are this account or roles of the
  template; never `Principal: "*"`); a serverless data access policy names only roles of the
  template and only cflog's indices; an OpenSearch delivery rotates a domain's index daily,
  sends failed documents to S3, and writes index names the index template applies to.
* External resources: a policy may name a resource the template does not create only
  through the parameters in EXTERNAL_RESOURCES, as an ARN of that service in this account
  and region, for actions of that service only.
* History: a Glue table's columns are the document fields of
  deploy/opensearch/index-template.json (names, types and SerDe key mappings), its
  partitions are projected (no crawler) onto the layout a delivery stream of the template
  writes (GZIP, dynamic partitioning whose keys are the partitions), and every Athena named
  query parses (Trino, the engine of Athena v3) and names only columns of the table.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
INDEX_TEMPLATE = HERE / "opensearch" / "index-template.json"

# Parameters that name a resource of the account the template does not create, and the
# service prefix of its ARN.
EXTERNAL_RESOURCES = {"OpenSearchDomainName": "es", "OpenSearchCollectionId": "aoss"}

# What Firehose does with its role (the Firehose developer guide, "Controlling access").
FIREHOSE_KINESIS_SOURCE = {"kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"}
FIREHOSE_S3_BUCKET = {"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}
FIREHOSE_S3_OBJECTS = {"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"}
FIREHOSE_LAMBDA = {"lambda:InvokeFunction", "lambda:GetFunctionConfiguration"}
FIREHOSE_LOGS = {"logs:PutLogEvents"}
FIREHOSE_DOMAIN = {"es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpGet"}
FIREHOSE_COLLECTION = {"aoss:APIAccessAll"}
# The only paths under a domain Firehose may read (GET), and where it may write.
FIREHOSE_DOMAIN_GET_PATHS = {"/_all/_settings", "/_cluster/stats", "/_nodes", "/_nodes/stats", "/_nodes/*/stats", "/_stats", "/"}
FIREHOSE_DOMAIN_INDEX_GET_PATHS = {"/_mapping/*", "/_stats"}

TLS_POLICIES = {"Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10"}
SERVERLESS_PERMISSIONS = {"aoss:CreateIndex", "aoss:UpdateIndex", "aoss:DescribeIndex", "aoss:WriteDocument"}

# OpenSearch mapping type -> Hive type of the Glue column (OpenX JSON SerDe).
HIVE_TYPES = {
    "keyword": "string",
    "text": "string",
    "ip": "string",
    "date": "string",
    "long": "bigint",
    "integer": "int",
    "short": "int",
    "double": "double",
    "float": "float",
    "boolean": "boolean",
    "geo_point": "struct<lat:double,lon:double>",
}
# Rule outputs: keys chosen by the rules.
DYNAMIC_OBJECTS = {"tags": "map<string,string>", "labels": "map<string,double>"}
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"


def column_name(key: str) -> str:
    """The Glue column of a document key: `@timestamp` -> ts, `_cflog` -> cflog, '-' -> '_'."""
    return {"@timestamp": "ts", "_cflog": "cflog"}.get(key, key.replace("-", "_"))


def hive_type(mapping: dict, key: str = "") -> str:
    if key in DYNAMIC_OBJECTS:
        return DYNAMIC_OBJECTS[key]
    if "properties" in mapping:
        return "struct<" + ",".join(f"{k}:{hive_type(v, k)}" for k, v in mapping["properties"].items()) + ">"
    return HIVE_TYPES.get(mapping.get("type", "object"), "?" + str(mapping.get("type")))


@functools.lru_cache(maxsize=4)
def _expected_columns(path: Path) -> dict[str, tuple[str, str]]:
    return expected_columns(_index_template(path))


def expected_columns(index_template: dict) -> dict[str, tuple[str, str]]:
    """Glue column -> (document key, Hive type), from the index template's mapping."""
    props = index_template["template"]["mappings"]["properties"]
    return {column_name(k): (k, hive_type(v)) for k, v in props.items()}


def _split_top(body: str) -> list[str]:
    """`a:int,b:struct<c:int,d:int>` -> its top-level comma-separated parts."""
    parts, depth, cur = [], 0, ""
    for ch in body:
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur] if cur else parts


@functools.lru_cache(maxsize=4096)
def norm_type(t: str) -> str:
    """A Hive type, lower case, without spaces, struct fields sorted (the JSON SerDe reads
    fields by name, so their order does not matter)."""
    t = re.sub(r"\s+", "", str(t)).lower()
    if t.startswith("struct<") and t.endswith(">"):
        fields = []
        for part in _split_top(t[7:-1]):
            name, _, ty = part.partition(":")
            fields.append(f"{name}:{norm_type(ty)}")
        return "struct<" + ",".join(sorted(fields)) + ">"
    if t.startswith(("map<", "array<")) and t.endswith(">"):
        head = t[: t.index("<")]
        return head + "<" + ",".join(norm_type(x) for x in _split_top(t[len(head) + 1 : -1])) + ">"
    return t


@functools.lru_cache(maxsize=256)
def struct_fields(t: str) -> frozenset[str]:
    """Top-level field names of a struct<...> type."""
    t = norm_type(t)
    if not t.startswith("struct<"):
        return frozenset()
    return frozenset(part.partition(":")[0] for part in _split_top(t[7:-1]))


# ------------------------------------------------------------------------------ helpers


def _ct():
    import check_template as ct  # the caller's module (no cycle at import time)

    return ct


def sub_text(node, partial: bool = False) -> str | None:
    """A string, or a !Sub's text with its local variables inlined when they are strings or
    !Subs themselves; other ${X} stay as they are. A local variable of another kind (a
    GetAtt, an If) makes it None, or stays a ${X} placeholder with `partial`."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
        v = node["Fn::Sub"]
        if isinstance(v, str):
            return v
        text = v[0]
        for k, val in (v[1] if len(v) > 1 else {}).items():
            inner = sub_text(val, partial)
            if inner is None and not partial:
                return None
            if inner is not None:
                text = text.replace("${" + k + "}", inner)
        return text
    return None


def targets(node, inst) -> set[str]:
    """Logical ids and external-resource parameters a resource value names."""
    ct = _ct()
    return ct.refs_in(node) & (set(inst["Resources"]) | set(EXTERNAL_RESOURCES))


def external_ok(checker, rsrc, actions, where) -> bool:
    """A resource named through EXTERNAL_RESOURCES: an ARN of that service in this account
    and region, for that service's actions only. True when `rsrc` names one."""
    ct = _ct()
    names = ct.refs_in(rsrc) & set(EXTERNAL_RESOURCES)
    if not names:
        return False
    text = sub_text(rsrc, partial=True)
    for n in names:
        svc = EXTERNAL_RESOURCES[n]
        head = f"arn:${{AWS::Partition}}:{svc}:${{AWS::Region}}:${{AWS::AccountId}}:"
        if text is None or not text.startswith(head):
            checker.e(f"{where}: resource {json.dumps(rsrc)} must be {head}... (a {svc} resource of this account and region, named by {n})")
        for a in actions:
            if not (isinstance(a, str) and a.startswith(svc + ":")):
                checker.e(f"{where}: {a} on a resource named by {n} (only {svc}: actions)")
    return True


@functools.lru_cache(maxsize=4)
def _index_template(path: Path) -> dict:
    return json.loads(path.read_text())


def load_index_template() -> dict:
    """The committed index template (read once; not to be modified)."""
    return _index_template(INDEX_TEMPLATE)


def index_pattern_regex(index_template: dict) -> re.Pattern:
    return _pattern_regex(tuple(index_template.get("index_patterns", [])))


@functools.lru_cache(maxsize=8)
def _pattern_regex(pats: tuple) -> re.Pattern:
    return re.compile("^(" + "|".join(re.escape(p).replace(r"\*", ".*") for p in pats) + ")$")


# ------------------------------------------------------------------------------ entry


# The resource types the checks below read (and whose presence they look up): the same
# instances of them are checked once, their findings repeated (Checker.memoized).
READS = {
    "AWS::OpenSearchService::Domain",
    "AWS::OpenSearchServerless::AccessPolicy",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::Glue::Table",
    "AWS::Glue::Database",
    "AWS::Athena::NamedQuery",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Kinesis::Stream",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::Logs::LogStream",
    "AWS::Serverless::Function",
    "AWS::Lambda::Function",
}


def check(checker, inst):
    """(The caller runs this once per distinct set of READS resources: Checker.memoized.)"""
    res = inst["Resources"]
    for lid, r in res.items():
        t = r.get("Type")
        props = r.get("Properties", {})
        w = f"Resources.{lid}"
        if t == "AWS::OpenSearchService::Domain":
            check_domain(checker, inst, w, props)
        elif t == "AWS::OpenSearchServerless::AccessPolicy":
            check_serverless_access(checker, inst, w, props)
        elif t == "AWS::KinesisFirehose::DeliveryStream":
            check_search_destination(checker, inst, w, props)
        elif t == "AWS::Glue::Table":
            check_table(checker, inst, w, props)
        elif t == "AWS::Athena::NamedQuery":
            check_named_query(checker, inst, w, props)
    check_firehose_roles(checker, inst)


# ------------------------------------------------------------------------------ OpenSearch


def check_domain(checker, inst, w, props):
    ct = _ct()
    if props.get("EncryptionAtRestOptions", {}).get("Enabled") is not True:
        checker.e(f"{w}: EncryptionAtRestOptions.Enabled must be true")
    if props.get("NodeToNodeEncryptionOptions", {}).get("Enabled") is not True:
        checker.e(f"{w}: NodeToNodeEncryptionOptions.Enabled must be true")
    ep = props.get("DomainEndpointOptions", {})
    if ep.get("EnforceHTTPS") is not True:
        checker.e(f"{w}: DomainEndpointOptions.EnforceHTTPS must be true")
    if ep.get("TLSSecurityPolicy") not in TLS_POLICIES:
        checker.e(f"{w}: DomainEndpointOptions.TLSSecurityPolicy must be one of {sorted(TLS_POLICIES)} (TLS 1.2 or newer)")
    fgac = props.get("AdvancedSecurityOptions", {}).get("Enabled") is True
    doc = props.get("AccessPolicies")
    sts = ct.statements(doc)
    if not fgac and not sts:
        checker.e(f"{w}: neither fine-grained access control nor an IAM access policy")
    account_root = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    for i, st in enumerate(sts):
        where = f"{w}.AccessPolicies.Statement[{i}]"
        if st.get("Effect") != "Allow":
            continue
        p = st.get("Principal")
        if not isinstance(p, dict) or set(p) != {"AWS"}:
            checker.e(f"{where}: the principal must be IAM identities ({{AWS: ...}}), got {json.dumps(p)}")
            continue
        for v in ct.as_list(p["AWS"]):
            role = ct.refs_in(v) & {lid for lid, r in inst["Resources"].items() if r.get("Type") == "AWS::IAM::Role"}
            if v == "*" or (isinstance(v, str) and "*" in v):
                checker.e(f'{where}: Principal "*": anyone who can reach the endpoint (open access)')
            elif not (sub_text(v, partial=True) == account_root or (role and isinstance(v, dict) and "Fn::GetAtt" in v)):
                checker.e(f"{where}: principal {json.dumps(v)} is neither this account ({account_root}) nor a role of this template")
        if "Condition" in st and not fgac:
            checker.e(f"{where}: a Condition (IP ranges?) instead of IAM identities; use IAM principals")


def check_serverless_access(checker, inst, w, props):
    ct = _ct()
    text = sub_text(props.get("Policy"))
    if text is None:
        checker.e(f"{w}: Policy must be a JSON string or !Sub")
        return
    try:
        doc = json.loads(ct.sub_placeholders(text))
    except json.JSONDecodeError as exc:
        checker.e(f"{w}: Policy is not JSON: {exc}")
        return
    roles = {lid for lid, r in inst["Resources"].items() if r.get("Type") == "AWS::IAM::Role"}
    for i, rule_set in enumerate(doc if isinstance(doc, list) else [doc]):
        where = f"{w}.Policy[{i}]"
        for p in rule_set.get("Principal", []):
            m = re.fullmatch(r"__SUB_(\w+)\.Arn__", p)
            if not (m and m.group(1) in roles):
                checker.e(f"{where}: principal {p!r} is not a role of this template")
        for rule in rule_set.get("Rules", []):
            for perm in rule.get("Permission", []):
                if perm not in SERVERLESS_PERMISSIONS:
                    checker.e(f"{where}: permission {perm!r} (Firehose needs only {sorted(SERVERLESS_PERMISSIONS)})")
            for r in rule.get("Resource", []):
                if rule.get("ResourceType") != "index" or not re.fullmatch(r"index/[^*/]+/cflog-\*", r):
                    checker.e(f"{where}: resource {r!r}: only index/COLLECTION/cflog-* (cflog's indices of one collection)")


def check_search_destination(checker, inst, w, props):
    domain = props.get("AmazonopensearchserviceDestinationConfiguration")
    serverless = props.get("AmazonOpenSearchServerlessDestinationConfiguration")
    if domain is None and serverless is None:
        return
    pattern = index_pattern_regex(load_index_template())
    for kind, cfg in (("domain", domain), ("serverless", serverless)):
        if cfg is None:
            continue
        name = cfg.get("IndexName")
        if kind == "domain":
            if cfg.get("IndexRotationPeriod") != "OneDay":
                checker.e(f"{w}: IndexRotationPeriod must be OneDay (one index per day, deleted whole by the lifecycle policy)")
            example = f"{name}-2026-12-03"
        else:
            example = str(name)
        if not pattern.match(example):
            checker.e(f"{w}: index {example!r} is not matched by the index template's patterns ({pattern.pattern}): it would be mapped dynamically")
        if cfg.get("S3BackupMode") not in ("FailedDocumentsOnly", "AllDocuments"):
            checker.e(f"{w}: S3BackupMode must keep failed documents in S3")
        if not cfg.get("S3Configuration", {}).get("BucketARN"):
            checker.e(f"{w}: no S3Configuration for failed documents")
        if cfg.get("CloudWatchLoggingOptions", {}).get("Enabled") is not True:
            checker.e(f"{w}: delivery errors must be logged (CloudWatchLoggingOptions)")


# ------------------------------------------------------------------------------ Firehose roles


def _s3_needs(cfg, need, where, checker):
    """Grants an S3 destination (or backup) configuration needs."""
    bucket = cfg.get("BucketARN")
    prefixes = [p for p in (cfg.get("Prefix"), cfg.get("ErrorOutputPrefix")) if p]
    if not prefixes:
        checker.e(f"{where}: an S3 destination without a Prefix writes at the bucket's root")
        return
    roots = {p.split("/", 1)[0] for p in prefixes}
    if len(roots) != 1 or any("!{" in r for r in roots) or any("/" not in p for p in prefixes):
        checker.e(f"{where}: Prefix and ErrorOutputPrefix must share one literal top-level folder (got {prefixes})")
        return
    need(FIREHOSE_S3_BUCKET, ("bucket", json.dumps(bucket, sort_keys=True)))
    need(FIREHOSE_S3_OBJECTS, ("objects", json.dumps(bucket, sort_keys=True), next(iter(roots))))


def check_firehose_roles(checker, inst):
    ct = _ct()
    res = inst["Resources"]
    expected: dict[str, dict[str, set]] = {}  # role -> action -> {target keys}

    for lid, r in res.items():
        if r.get("Type") != "AWS::KinesisFirehose::DeliveryStream":
            continue
        props = r.get("Properties", {})
        w = f"Resources.{lid}"
        configs = [
            (k, props[k])
            for k in (
                "ExtendedS3DestinationConfiguration",
                "AmazonopensearchserviceDestinationConfiguration",
                "AmazonOpenSearchServerlessDestinationConfiguration",
            )
            if k in props
        ]
        src = props.get("KinesisStreamSourceConfiguration")
        roles = set()
        for node in [src] + [c for _, c in configs] + [c.get("S3Configuration") for _, c in configs]:
            if isinstance(node, dict) and "RoleARN" in node:
                roles |= ct.refs_in(node["RoleARN"]) & set(res)
        if len(roles) != 1:
            checker.e(f"{w}: its source and destinations must use one role of this template (got {sorted(roles)})")
            continue
        (role,) = roles
        acts = expected.setdefault(role, {})

        def need(actions, key):
            for a in actions:
                acts.setdefault(a, set()).add(key)

        if src:
            for t in ct.refs_in(src.get("KinesisStreamARN")) & set(res):
                need(FIREHOSE_KINESIS_SOURCE, ("res", t))
        for kind, cfg in configs:
            if kind == "ExtendedS3DestinationConfiguration":
                _s3_needs(cfg, need, w, checker)
            else:
                _s3_needs(cfg.get("S3Configuration", {}), need, f"{w}.S3Configuration", checker)
            if kind == "AmazonopensearchserviceDestinationConfiguration":
                for t in targets(cfg.get("DomainARN"), inst):
                    need(FIREHOSE_DOMAIN, ("domain", t))
            if kind == "AmazonOpenSearchServerlessDestinationConfiguration":
                ids = ct.refs_in(cfg.get("CollectionEndpoint")) & set(EXTERNAL_RESOURCES)
                for t in ids:
                    need(FIREHOSE_COLLECTION, ("res", t))
            for proc in cfg.get("ProcessingConfiguration", {}).get("Processors", []):
                if proc.get("Type") == "Lambda":
                    for prm in proc.get("Parameters", []):
                        if prm.get("ParameterName") == "LambdaArn":
                            for t in ct.refs_in(prm.get("ParameterValue")) & set(res):
                                need(FIREHOSE_LAMBDA, ("res", t))
            for node in (cfg, cfg.get("S3Configuration", {})):
                logs = node.get("CloudWatchLoggingOptions", {})
                if logs.get("Enabled") is True:
                    for t in ct.refs_in(logs.get("LogGroupName")) & set(res):
                        need(FIREHOSE_LOGS, ("res", t))

    for role, acts in expected.items():
        errors: list[str] = []
        granted: dict[str, set] = {}
        for g in ct.role_grants(inst, role, errors):
            for rsrc in g.resources:
                granted.setdefault(g.action, set()).add(grant_key(g.action, rsrc, inst))
        for e in errors:
            checker.e(e)
        w = f"Resources.{role}"
        for a in sorted(set(acts) - set(granted)):
            checker.e(f"{w}: its delivery stream needs {a}, not granted")
        for a in sorted(set(granted) - set(acts)):
            checker.e(f"{w}: grants {a}, which its delivery stream never uses (least privilege)")
        for a in sorted(set(acts) & set(granted)):
            want = {_domain_key(k, a) for k in acts[a]}
            got = granted[a]
            if got != want:
                checker.e(f"{w}: {a} granted on {sorted(map(str, got))}, its delivery stream needs {sorted(map(str, want))}")


def _domain_key(key, action):
    """What a domain need looks like as granted resources of this action."""
    if key[0] != "domain":
        return key
    t = key[1]
    if action in ("es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"):
        return ("res", t)
    if action in ("es:ESHttpPost", "es:ESHttpPut"):
        return ("domain-paths", t)
    return ("domain-get", t)


def grant_key(action, rsrc, inst):
    """A granted resource, as the key _domain_key / check_firehose_roles compare."""
    ct = _ct()
    if rsrc == "*":
        return ("*",)
    ts = targets(rsrc, inst)
    text = sub_text(rsrc, partial=True)
    if action in FIREHOSE_S3_OBJECTS and isinstance(rsrc, dict) and "Fn::Sub" in rsrc:
        v = rsrc["Fn::Sub"]
        s = v if isinstance(v, str) else v[0]
        m = re.fullmatch(r"\$\{(\w+)\.Arn\}/([^/*]+)/\*", s)
        if m:
            return ("objects", json.dumps({"Fn::GetAtt": [m.group(1), "Arn"]}, sort_keys=True), m.group(2))
        return ("objects?", s)
    if action in FIREHOSE_S3_BUCKET:
        return ("bucket", json.dumps(rsrc, sort_keys=True))
    if action.startswith("es:ESHttp") and isinstance(rsrc, dict) and "Fn::Sub" in rsrc and len(ts) == 1:
        v = rsrc["Fn::Sub"]
        fmt = v if isinstance(v, str) else v[0]
        m = re.fullmatch(r"\$\{\w+\}(/.*)", fmt)
        path = m.group(1) if m else None
        t = next(iter(ts))
        if action in ("es:ESHttpPost", "es:ESHttpPut") and path == "/*":
            return ("domain-paths", t)
        if action == "es:ESHttpGet" and path is not None:
            ok = path in FIREHOSE_DOMAIN_GET_PATHS or any(
                re.fullmatch(r"/cflog[^/]*\*" + re.escape(p), path) for p in FIREHOSE_DOMAIN_INDEX_GET_PATHS
            )
            return ("domain-get", t) if ok else ("domain-get?", t, path)
        return ("es?", t, path)
    if len(ts) == 1:
        return ("res", next(iter(ts)))
    return ("?", text or json.dumps(rsrc, sort_keys=True))


# ------------------------------------------------------------------------------ history


def check_table(checker, inst, w, props):
    ti = props.get("TableInput", {})
    params = ti.get("Parameters", {})
    sd = ti.get("StorageDescriptor", {})
    want = _expected_columns(INDEX_TEMPLATE)
    cols = {c.get("Name"): c.get("Type") for c in sd.get("Columns", [])}
    serde = sd.get("SerdeInfo", {})
    if serde.get("SerializationLibrary") != JSON_SERDE:
        checker.e(f"{w}: SerializationLibrary must be {JSON_SERDE} (the archive is NDJSON)")
    mapping = {k[len("mapping.") :]: v for k, v in serde.get("Parameters", {}).items() if k.startswith("mapping.")}
    for c in sorted(set(want) - set(cols)):
        checker.e(f"{w}: no column {c} for the document field {want[c][0]!r} (deploy/opensearch/index-template.json)")
    for c in sorted(set(cols) - set(want)):
        checker.e(f"{w}: column {c} is not a document field (deploy/opensearch/index-template.json)")
    for c in sorted(set(cols) & set(want)):
        key, ty = want[c]
        if norm_type(cols[c]) != norm_type(ty):
            checker.e(f"{w}: column {c} is {cols[c]}, the field {key!r} is mapped as {ty}")
        if key != c and mapping.get(c) != key:
            checker.e(f"{w}: column {c} needs SerDe mapping.{c} = {key!r} (the JSON key)")
    for c in sorted(set(mapping) - set(cols)):
        checker.e(f"{w}: SerDe mapping.{c} for no column")

    pkeys = [k.get("Name") for k in ti.get("PartitionKeys", [])]
    if params.get("projection.enabled") != "true":
        checker.e(f"{w}: partition projection must be on (projection.enabled: \"true\"): no crawler, no MSCK REPAIR")
    for k in pkeys:
        if f"projection.{k}.type" not in params:
            checker.e(f"{w}: partition {k} has no projection.{k}.type")
    template = sub_text(params.get("storage.location.template"))
    if template is None:
        checker.e(f"{w}: storage.location.template must be a string or !Sub")
        return
    placeholders = re.findall(r"\$\{!(\w+)\}", template)
    if sorted(placeholders) != sorted(pkeys):
        checker.e(f"{w}: storage.location.template names {placeholders}, the partitions are {pkeys}")
    # The delivery stream that writes this layout.
    m = re.fullmatch(r"s3://\$\{(\w+)\}/(.*)", template)
    if not m:
        checker.e(f"{w}: storage.location.template must be s3://${{Bucket}}/PREFIX with the bucket of this template")
        return
    bucket, path = m.groups()
    writers = []
    for lid, r in inst["Resources"].items():
        cfg = r.get("Properties", {}).get("ExtendedS3DestinationConfiguration")
        if r.get("Type") != "AWS::KinesisFirehose::DeliveryStream" or not cfg:
            continue
        prefix = re.sub(r"!\{partitionKeyFromQuery:(\w+)\}", r"${!\1}", str(cfg.get("Prefix", "")))
        if prefix == path and bucket in _ct().refs_in(cfg.get("BucketARN")):
            writers.append((lid, cfg))
    if not writers:
        checker.e(f"{w}: no delivery stream of this template writes {template} (its Prefix with partitionKeyFromQuery keys)")
    for lid, cfg in writers:
        ww = f"Resources.{lid}"
        if cfg.get("CompressionFormat") != "GZIP" or params.get("compressionType") != "gzip":
            checker.e(f"{ww}: the archive must be GZIP (and the table say compressionType gzip)")
        if cfg.get("DynamicPartitioningConfiguration", {}).get("Enabled") is not True:
            checker.e(f"{ww}: partitionKeyFromQuery needs DynamicPartitioningConfiguration.Enabled")
        queries = [
            p.get("ParameterValue")
            for proc in cfg.get("ProcessingConfiguration", {}).get("Processors", [])
            if proc.get("Type") == "MetadataExtraction"
            for p in proc.get("Parameters", [])
            if p.get("ParameterName") == "MetadataExtractionQuery"
        ]
        if len(queries) != 1:
            checker.e(f"{ww}: one MetadataExtraction processor must extract the partition keys")
            continue
        keys = set(re.findall(r"([A-Za-z_]\w*)\s*:", queries[0]))
        if not set(pkeys) <= keys:
            checker.e(f"{ww}: the MetadataExtractionQuery yields {sorted(keys)}, the partitions are {pkeys}")


@functools.lru_cache(maxsize=64)
def parse_query(sql: str):
    """(tables, [(qualifier, column)], aliases) of a Trino query, or the parse error."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="trino")
    except sqlglot.errors.ParseError as exc:
        return str(exc).splitlines()[0]
    tables = [t.name for t in tree.find_all(exp.Table)]
    columns = [(c.table, c.name) for c in tree.find_all(exp.Column)]
    aliases = {a.alias for a in tree.find_all(exp.Alias)}
    return tables, columns, aliases


def check_named_query(checker, inst, w, props):
    ct = _ct()
    tables = {
        r.get("Properties", {}).get("TableInput", {}).get("Name"): r.get("Properties", {}).get("TableInput", {})
        for r in inst["Resources"].values()
        if r.get("Type") == "AWS::Glue::Table"
    }
    db = ct.refs_in(props.get("Database"))
    if not db or not db <= {lid for lid, r in inst["Resources"].items() if r.get("Type") == "AWS::Glue::Database"}:
        checker.e(f"{w}: Database must be the Glue database of this template")
    text = sub_text(props.get("QueryString"))
    if text is None:
        checker.e(f"{w}: QueryString must be a string or !Sub")
        return
    parsed = parse_query(re.sub(r"\$\{[^}!]+\}", "x", text))
    if isinstance(parsed, str):
        checker.e(f"{w}: the query does not parse (Trino): {parsed}")
        return
    used, columns, aliases = parsed
    unknown = [t for t in used if t not in tables]
    if unknown or not used:
        checker.e(f"{w}: reads {used}, not a table of this template ({sorted(tables)})")
        return
    ti = tables[used[0]]
    cols = {c.get("Name"): c.get("Type", "") for c in ti.get("StorageDescriptor", {}).get("Columns", [])}
    cols |= {k.get("Name"): k.get("Type", "") for k in ti.get("PartitionKeys", [])}
    for qual, name in columns:
        if qual and qual not in used:
            # struct access: column.field
            if qual not in cols:
                checker.e(f"{w}: {qual}.{name}: no column {qual} in {used[0]}")
            elif name not in struct_fields(cols[qual]):
                checker.e(f"{w}: {qual}.{name}: {qual} has no field {name}")
        elif name not in cols and name not in aliases:
            checker.e(f"{w}: column {name} is not in {used[0]}")
    if "distribution" in cols and not any(name == "distribution" for _, name in columns):
        checker.e(f"{w}: the query must name its distribution (an injected partition)")
