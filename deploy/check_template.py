#!/usr/bin/env python3
"""Checks deploy/template.yaml against the code of the Lambda processor.

    check_template.py --names NAMES.json [--src host-lambda/src] [--crate host-lambda/Cargo.toml]
                      [--samconfig deploy/samconfig.toml] TEMPLATE
    check_template.py --build-output TARGET_DIR TEMPLATE      (after `cargo lambda build`)

NAMES.json is what `cargo run -p cflog-deploy-names` prints: host-lambda/src/names.rs, compiled.

What it checks, in every combination of the template's condition parameters:

* names: every environment variable a function sets is one the function reads
  (names::env, and read by the code outside names.rs); every metric an alarm or the
  dashboard uses in the function's namespace is one the code emits (names::metric, used
  outside names.rs) with dimensions from names::metric::DIMENSIONS; every emitted metric is
  on the dashboard, and a metric the code emits only for a feature (TaggedRecords: only with
  CFLOG_PLUGINS) is shown exactly when some function turns that feature on; the namespace
  parameter defaults to the code's default; the table's keys and TTL attribute are
  names::table's.
* least privilege: the AWS calls the code makes are derived from its source (SDK client
  method calls, mapped to IAM actions); they must equal names::iam (without the event
  source mapping's group). Each function's role must grant exactly what the function
  calls for the features its environment turns on, plus what its event source mapping and
  logging need, each on the very resource the environment / mapping names; no wildcard
  actions, no NotAction/NotResource, no `Principal: "*"`, `Resource: "*"` only for actions
  without resource-level permissions and then only with a condition; every action exists
  in the IAM service reference (cfn-lint's copy).
* the mapping: ReportBatchItemFailures, bisection, bounded retries and record age, an
  on-failure destination; batch size and window are parameters.
* hygiene: every Kinesis stream is encrypted at rest with the AWS-managed key (the one key
  no role needs a KMS grant for); every SQS queue has SqsManagedSseEnabled; a role a
  service assumes on a caller's behalf (CloudFront, Firehose) is tied to this account in
  its trust policy (aws:SourceAccount or sts:ExternalId = AWS::AccountId, and
  aws:SourceArn when the template creates the distribution).
* enrichment rules: CFLOG_PLUGINS is set exactly when a rules layer is attached, names
  paths under /opt, and a layer built by this template puts its rules there.
* search and history (deploy/check_search.py): Firehose roles grant exactly what their
  delivery streams use; an OpenSearch domain is encrypted, HTTPS/TLS 1.2+ and IAM-only; a
  serverless access policy names only the template's roles and cflog's indices; the Glue
  table's columns are the document fields of deploy/opensearch/index-template.json, its
  projected partitions the layout a delivery stream writes; the Athena named queries parse
  and name only its columns.
* samconfig.toml: the documented `sam build && sam deploy` runs unattended (the
  rust-cargolambda beta opt-in, the IAM capability the template needs and no more, an
  artifact bucket, no change-set prompt, a stack name).
* the build: BuildMethod rust-cargolambda, arm64, provided.al2023, handler and binary
  `bootstrap` as host-lambda/Cargo.toml names it, CodeUri the Cargo workspace root.

Exit status 0 when clean, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import check_search  # search (OpenSearch) and history (Glue, Athena): its docstring says what

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

NO_VALUE = object()

# Actions that have no resource-level permissions: `Resource: "*"` is the only option,
# so a Condition must narrow them (see deploy/README.md, "Least privilege").
NO_RESOURCE_LEVEL = {"cloudwatch:PutMetricData": "cloudwatch:namespace"}

# What the Lambda service itself does with the execution role (not calls of our code).
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
# A Kinesis event source mapping (shared-throughput consumer) reads the stream with these.
ESM_KINESIS_ACTIONS = {
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
}
# ...and sends the description of a batch it gives up on to its on-failure destination.
ESM_DESTINATION_ACTIONS = {"AWS::SQS::Queue": {"sqs:SendMessage"}, "AWS::SNS::Topic": {"sns:Publish"}}

# Metrics of AWS services the dashboard and alarms may use.
AWS_METRICS = {
    "AWS/Lambda": {"Invocations", "Errors", "Throttles", "Duration", "IteratorAge", "ConcurrentExecutions"},
    "AWS/Kinesis": {
        "IncomingRecords",
        "IncomingBytes",
        "GetRecords.IteratorAgeMilliseconds",
        "WriteProvisionedThroughputExceeded",
        "ReadProvisionedThroughputExceeded",
    },
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"},
    "AWS/Firehose": {"DeliveryToS3.Success", "DeliveryToS3.DataFreshness", "ExecuteProcessing.Success"},
}

# SDK crate -> IAM service prefix.
SDK_PREFIX = {
    "aws_sdk_cloudwatch": "cloudwatch",
    "aws_sdk_kinesis": "kinesis",
    "aws_sdk_dynamodb": "dynamodb",
    "aws_sdk_cloudfront": "cloudfront",
    "aws_sdk_firehose": "firehose",
    "aws_sdk_sqs": "sqs",
    "aws_sdk_sns": "sns",
    "aws_sdk_s3": "s3",
}
# Operations whose IAM action is not the operation's name.
SPECIAL_ACTIONS = {
    ("s3", "list_objects_v2"): ["s3:ListBucket"],
    ("s3", "head_object"): ["s3:GetObject"],
    ("s3", "head_bucket"): ["s3:ListBucket"],
}
# DynamoDB transactions are authorised per item: the builders the code uses decide.
TRANSACTION_ITEM_ACTIONS = {
    "Update": "dynamodb:UpdateItem",
    "Put": "dynamodb:PutItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}

# names::iam feature groups and what turns them on in a function's environment.
FEATURE_ENV = {"LAYOUT": "CFLOG_REALTIME_LOG_CONFIG", "TABLE": "CFLOG_TABLE", "OUTPUT_STREAM": "CFLOG_OUTPUT_STREAM"}
# Metrics the code emits only when a function's environment turns a feature on: the
# dashboard must show them exactly then (an always-empty widget misleads).
METRIC_NEEDS_ENV = {"TaggedRecords": "CFLOG_PLUGINS"}

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
# Resource types check_functions and check_metrics never read (the search and history
# resources, which check_search.py owns): their findings are the same in parameter
# combinations that differ only in these (Checker.memoized).
FUNCTIONS_IGNORE = {
    "AWS::OpenSearchService::Domain",
    "AWS::OpenSearchServerless::AccessPolicy",
    "AWS::OpenSearchServerless::LifecyclePolicy",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::Logs::LogStream",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::Athena::WorkGroup",
    "AWS::Athena::NamedQuery",
}
# Where Lambda unpacks a function's layers.
LAYER_ROOT = "/opt/"

# The one stream key that needs no KMS grant: "The use of the default service key for
# encryption does not require application of custom IAM permissions" (Kinesis Data Streams
# developer guide, "Permissions to use user-generated KMS keys"). Any other key needs
# kms:GenerateDataKey for every writer and kms:Decrypt for every reader.
AWS_MANAGED_STREAM_KEY = "alias/aws/kinesis"

# Services that assume a role on behalf of a caller (the cross-service confused deputy),
# with the trust-policy keys that tie the assumption to this account; one of them must be
# a StringEquals condition equal to AWS::AccountId. Firehose's documented form is
# sts:ExternalId. lambda.amazonaws.com is not here: it assumes an execution role only for
# functions someone allowed to iam:PassRole it attached it to.
DEPUTY_CONDITIONS = {
    "cloudfront.amazonaws.com": ("aws:SourceAccount",),
    "firehose.amazonaws.com": ("sts:ExternalId", "aws:SourceAccount"),
}

# IAM resources whose custom name needs CAPABILITY_NAMED_IAM.
NAMED_IAM = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


# ------------------------------------------------------------------------------ loading


def plain(node):
    """cfn-lint's nodes (dict/list/str subclasses with positions) as plain Python values."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def load_template(path: Path) -> dict:
    from cfnlint.decode import cfn_yaml  # the YAML loader that understands !Ref, !Sub, ...

    return plain(cfn_yaml.load(str(path)))


def iam_reference() -> dict[str, set[str]]:
    """IAM service prefix -> lower-case action names, from cfn-lint's service reference."""
    import cfnlint

    path = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json"
    data = json.loads(path.read_text())
    return {svc: {a.lower() for a in body.get("Actions", {})} for svc, body in data.items()}


# ------------------------------------------------------------------------------ the code


@dataclass
class SdkCall:
    file: str
    line: int
    crate: str
    op: str
    actions: list[str]


@dataclass
class Code:
    calls: list[SdkCall] = field(default_factory=list)
    env_read: set[str] = field(default_factory=set)  # variable names the code reads
    metrics_used: set[str] = field(default_factory=set)  # metric names the code emits
    errors: list[str] = field(default_factory=list)

    @property
    def actions(self) -> set[str]:
        return {a for c in self.calls for a in c.actions}


def strip_tests_and_comments(text: str) -> str:
    """Production code only: drops `#[cfg(test)] mod ... { ... }` tails and // comments,
    keeping line numbers (dropped text becomes blank lines)."""
    m = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod\s", text, re.M)
    if m:
        text = text[: m.start()] + "\n" * text[m.start() :].count("\n")
    out = []
    for line in text.split("\n"):
        if line.lstrip().startswith("//"):
            out.append("")
        else:
            out.append(line)
    return "\n".join(out)


def pascal(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def names_consts(names_rs: str, module: str) -> dict[str, str]:
    """`pub const IDENT: &str = "value";` of `pub mod module { ... }` in names.rs."""
    m = re.search(r"pub mod " + module + r"\s*\{(.*?)\n\}", names_rs, re.S)
    if not m:
        return {}
    return dict(re.findall(r'pub const ([A-Z0-9_]+): &str = "([^"]*)";', m.group(1)))


def scan_code(src: Path) -> Code:
    code = Code()
    files = {p: strip_tests_and_comments(p.read_text()) for p in sorted(src.rglob("*.rs"))}
    names_file = next((p for p in files if p.name == "names.rs"), None)
    if names_file is None:
        code.errors.append(f"{src}: no names.rs")
        return code
    names_rs = names_file.read_text()
    others = {p: t for p, t in files.items() if p != names_file}

    # Which struct holds which SDK client.
    client_of: dict[str, str] = {}
    for text in files.values():
        for m in re.finditer(r"pub struct (\w+)\s*\{([^}]*)\}", text):
            c = re.search(r"\bclient\s*:\s*(aws_sdk_\w+)::Client", m.group(2))
            if c:
                client_of[m.group(1)] = c.group(1)

    for path, text in others.items():
        rel = path.relative_to(src.parent) if src.parent in path.parents else path
        impls = [(m.start(), m.group(1)) for m in re.finditer(r"^impl(?:<[^>]*>)?\s+(?:[\w:<>]+\s+for\s+)?(\w+)", text, re.M)]
        found = 0
        for m in re.finditer(r"\.\s*client\s*\.\s*([a-z_][a-z0-9_]*)\s*\(\s*\)", text):
            found += 1
            line = text.count("\n", 0, m.start()) + 1
            owner = None
            for pos, name in impls:
                if pos < m.start():
                    owner = name
            crate = client_of.get(owner or "")
            if crate is None:
                code.errors.append(f"{rel}:{line}: SDK call .{m.group(1)}() in impl {owner}: cannot tell which SDK client it is")
                continue
            prefix = SDK_PREFIX.get(crate)
            if prefix is None:
                code.errors.append(f"{rel}:{line}: {crate} is not in check_template.py's SDK_PREFIX table")
                continue
            op = m.group(1)
            if (prefix, op) in SPECIAL_ACTIONS:
                actions = SPECIAL_ACTIONS[(prefix, op)]
            elif prefix == "dynamodb" and op in ("transact_write_items", "transact_get_items"):
                actions = sorted({a for b, a in TRANSACTION_ITEM_ACTIONS.items() if re.search(r"\b" + b + r"::builder\(\)", text)})
                if not actions:
                    code.errors.append(f"{rel}:{line}: {op} without item builders in the file")
            else:
                actions = [f"{prefix}:{pascal(op)}"]
            code.calls.append(SdkCall(str(rel), line, crate, op, actions))
        sends = len(re.findall(r"\.\s*send\s*\(\s*\)", text))
        if sends != found:
            code.errors.append(
                f"{rel}: {sends} .send() calls but {found} recognised `.client.<operation>()` chains: "
                "every AWS request must be attributable to an operation"
            )

    rest = "\n".join(others.values())
    env = names_consts(names_rs, "env")
    metric = names_consts(names_rs, "metric")
    for ident, value in env.items():
        if re.search(r"\benv::" + ident + r"\b", rest):
            code.env_read.add(value)
    metric_names = {k: v for k, v in metric.items() if not k.startswith("DIM_") and k not in ("DEFAULT_NAMESPACE", "OTHER", "UNKNOWN_DISTRIBUTION")}
    for ident, value in metric_names.items():
        if re.search(r"\bmetric::" + ident + r"\b", rest):
            code.metrics_used.add(value)
    return code


# ------------------------------------------------------------------------------ conditions


def condition_params(tpl: dict) -> list[str]:
    found: list[str] = []

    def walk(n):
        if isinstance(n, dict):
            if set(n) == {"Ref"} and n["Ref"] in tpl.get("Parameters", {}) and n["Ref"] not in found:
                found.append(n["Ref"])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(tpl.get("Conditions", {}))
    return found


def candidate_values(param: dict) -> list[str]:
    if "AllowedValues" in param:
        return [str(v) for v in param["AllowedValues"]]
    default = str(param.get("Default", ""))
    return [default, "x" if default else "someone@example.com"]


def scenarios(tpl: dict) -> list[dict[str, str]]:
    params = tpl.get("Parameters", {})
    names = condition_params(tpl)
    combos = itertools.product(*(candidate_values(params[n]) for n in names))
    return [dict(zip(names, c)) for c in combos]


def eval_condition(tpl: dict, node, values: dict[str, str]) -> bool:
    def val(x):
        if isinstance(x, dict) and set(x) == {"Ref"}:
            if x["Ref"] in values:
                return values[x["Ref"]]
            return str(tpl.get("Parameters", {}).get(x["Ref"], {}).get("Default", ""))
        if isinstance(x, dict):
            return eval_condition(tpl, x, values)
        return str(x)

    if isinstance(node, str):
        return eval_condition(tpl, tpl["Conditions"][node], values)
    (fn, arg), = node.items()
    if fn == "Fn::Equals":
        return val(arg[0]) == val(arg[1])
    if fn == "Fn::Not":
        return not eval_condition(tpl, arg[0], values)
    if fn == "Fn::And":
        return all(eval_condition(tpl, a, values) for a in arg)
    if fn == "Fn::Or":
        return any(eval_condition(tpl, a, values) for a in arg)
    if fn == "Condition":
        return eval_condition(tpl, tpl["Conditions"][arg], values)
    raise ValueError(f"unsupported condition function {fn}")


def resolve(node, conds: dict[str, bool]):
    """Applies Fn::If and AWS::NoValue; everything else stays symbolic."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            c, a, b = node["Fn::If"]
            return resolve(a if conds[c] else b, conds)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        out = {}
        for k, v in node.items():
            r = resolve(v, conds)
            if r is not NO_VALUE:
                out[k] = r
        return out
    if isinstance(node, list):
        return [r for r in (resolve(v, conds) for v in node) if r is not NO_VALUE]
    return node


def if_conditions(node) -> set[str]:
    """Names of the conditions the Fn::Ifs in `node` test."""
    out: set[str] = set()
    if isinstance(node, dict):
        if set(node) == {"Fn::If"} and isinstance(node["Fn::If"], list) and node["Fn::If"]:
            out.add(node["Fn::If"][0])
        for v in node.values():
            out |= if_conditions(v)
    elif isinstance(node, list):
        for v in node:
            out |= if_conditions(v)
    return out


def instantiate(tpl: dict, values: dict[str, str], cache: dict | None = None) -> dict:
    """The template as deployed with these parameter values (conditions applied). `cache`
    (one per template) keeps the resources of each distinct set of condition values: many
    parameter combinations give the same conditions, and resolving is the costly part."""
    conds = {name: eval_condition(tpl, body, values) for name, body in tpl.get("Conditions", {}).items()}
    key = tuple(sorted(conds.items()))
    cache = cache if cache is not None else {}
    if key in cache:
        resources = cache[key]
    else:
        resources = {}
        for lid, res in tpl.get("Resources", {}).items():
            if "Condition" in res and not conds[res["Condition"]]:
                continue
            # Each resource resolved once per values of the conditions its Fn::Ifs name.
            if ("uses", lid) not in cache:
                cache[("uses", lid)] = sorted(if_conditions(res))
            rkey = ("res", lid, tuple(conds[c] for c in cache[("uses", lid)]))
            if rkey not in cache:
                cache[rkey] = resolve(res, conds)
            resources[lid] = cache[rkey]
        cache[key] = resources
    return {"Parameters": tpl.get("Parameters", {}), "Resources": resources, "values": values, "conds": key}


# ------------------------------------------------------------------------------ helpers


def as_list(x) -> list:
    return x if isinstance(x, list) else [x]


def refs_in(node) -> set[str]:
    """Logical ids and parameters a value refers to (Ref, GetAtt, ${X} / ${X.Attr} in Sub)."""
    out: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                out.add(v[0] if isinstance(v, list) else v.split(".")[0])
            elif k == "Fn::Sub":
                s = v[0] if isinstance(v, list) else v
                local = set(v[1]) if isinstance(v, list) and len(v) > 1 and isinstance(v[1], dict) else set()
                out |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", s) if not m.startswith("AWS::") and m not in local}
                if isinstance(v, list) and len(v) > 1:
                    out |= refs_in(v[1])
            else:
                out |= refs_in(v)
    elif isinstance(node, list):
        for v in node:
            out |= refs_in(v)
    return out


def param_default(inst: dict, value):
    """A literal, or a parameter's value in this scenario (its default when not varied)."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        name = value["Ref"]
        if name in inst["values"]:
            inst.setdefault("read", set()).add(name)
            return inst["values"][name]
        p = inst["Parameters"].get(name)
        if p is not None:
            return p.get("Default")
    return value


@dataclass
class Grant:
    action: str
    resources: list  # raw Resource values
    condition: dict | None
    where: str


def statements(doc) -> list[dict]:
    if not isinstance(doc, dict):
        return []
    return [s for s in as_list(doc.get("Statement", [])) if isinstance(s, dict)]


def role_grants(inst: dict, role_lid: str, errors: list[str]) -> list[Grant]:
    res = inst["Resources"][role_lid]
    props = res.get("Properties", {})
    grants: list[Grant] = []
    if props.get("ManagedPolicyArns"):
        errors.append(f"Resources.{role_lid}: ManagedPolicyArns cannot be checked; use inline policies")
    docs = [(f"Resources.{role_lid}.Policies[{i}]", p.get("PolicyDocument")) for i, p in enumerate(props.get("Policies", []))]
    for lid, other in inst["Resources"].items():
        if other.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"):
            p = other.get("Properties", {})
            roles = as_list(p.get("Roles", [])) + ([p["RoleName"]] if "RoleName" in p else [])
            if any(role_lid in refs_in(r) for r in roles):
                docs.append((f"Resources.{lid}", p.get("PolicyDocument")))
    for where, doc in docs:
        for i, st in enumerate(statements(doc)):
            if st.get("Effect") != "Allow":
                continue
            for a in as_list(st.get("Action", [])):
                grants.append(Grant(a, as_list(st.get("Resource", [])), st.get("Condition"), f"{where}.Statement[{i}]"))
    return grants


# ------------------------------------------------------------------------------ checks


class Checker:
    def __init__(
        self,
        tpl: dict,
        names: dict,
        code: Code,
        bin_name: str,
        iam_ref: dict[str, set[str]],
        samconfig: dict | None = None,
    ):
        self.tpl = tpl
        self.samconfig = samconfig
        self.names = names
        self.code = code
        self.bin_name = bin_name
        self.iam_ref = iam_ref
        self.errors: dict[str, str] = {}  # message -> first scenario

    def err(self, msg: str, scenario: str = ""):
        self.errors.setdefault(msg, scenario)

    # ---- the code against names.rs

    def check_code(self):
        for e in self.code.errors:
            self.err(f"code: {e}")
        feature_actions = {a for g, acts in self.names["iam"].items() if g != "SOURCE_STREAM" for a in acts}
        for c in self.code.calls:
            for a in c.actions:
                if a not in feature_actions:
                    self.err(f"code: {c.file}:{c.line} calls {c.crate} .{c.op}() ({a}), which names::iam does not list")
        for a in sorted(feature_actions - self.code.actions):
            self.err(f"names: names::iam lists {a}, but no SDK call in the code needs it")
        for a in self.names["aws_actions"]:
            self.check_action_exists(a, "names::iam")
        for a in sorted(ESM_KINESIS_ACTIONS - set(self.names["iam"].get("SOURCE_STREAM", []))):
            self.err(f"names: the event source mapping needs {a}, missing from names::iam::SOURCE_STREAM")
        for v in sorted(set(self.names["env"]) - self.code.env_read):
            self.err(f"names: names::env lists {v}, but the code never reads it")
        for m in sorted(set(self.names["metrics"]) - self.code.metrics_used):
            self.err(f"names: names::metric lists {m}, but the code never emits it")

    def check_action_exists(self, action: str, where: str):
        if not isinstance(action, str) or ":" not in action:
            self.err(f"{where}: {action!r} is not an IAM action")
            return
        prefix, name = action.split(":", 1)
        if "*" in name or "?" in name:
            self.err(f"{where}: wildcard action {action}")
            return
        if name.lower() not in self.iam_ref.get(prefix, set()):
            self.err(f"{where}: {action} is not an action of the IAM service reference")

    # ---- the template, per scenario

    def check(self):
        self.check_code()
        self.check_parameters()
        if self.samconfig is not None:
            self.check_samconfig(self.samconfig)
        cache: dict = {}
        seen: set = set()
        read: dict = {}  # conditions -> parameters whose values the checks read (param_default)
        for values in scenarios(self.tpl):
            inst = instantiate(self.tpl, values, cache)
            # Two combinations with the same conditions that agree on every parameter value
            # the checks read are the same to every check: the second is skipped.
            ck = inst["conds"]
            if ck in read and (ck, tuple(values.get(p) for p in sorted(read[ck]))) in seen:
                continue
            inst["read"] = set()
            label = ",".join(f"{k}={v}" for k, v in values.items())
            self.scenario = label
            self.check_policies(inst)
            self.check_hygiene(inst)
            self.memoized("functions", lambda t: t not in FUNCTIONS_IGNORE, inst, lambda: (self.check_functions(inst), self.check_metrics(inst)))
            self.memoized("search", lambda t: t in check_search.READS, inst, lambda: check_search.check(self, inst))
            read.setdefault(ck, set()).update(inst["read"])
            seen.add((ck, tuple(values.get(p) for p in sorted(read[ck]))))
        return self.errors

    def e(self, msg):
        self.err(msg, self.scenario)

    def memoized(self, name: str, reads, inst: dict, run):
        """Runs checks that read only the resources whose type passes `reads` (and the
        parameter values they read through param_default) once per distinct such input,
        repeating their findings for the other parameter combinations. Resolved resources
        are shared objects (see instantiate), so identity tells them apart."""
        res = inst["Resources"]
        key = (name, *((lid, id(r)) for lid, r in res.items() if reads(r.get("Type"))))
        memo = self.__dict__.setdefault("_memo", {})
        reads, results = memo.setdefault(key, (set(), {}))
        vkey = tuple((p, inst["values"].get(p)) for p in sorted(reads))
        if vkey in results:
            for msg in results[vkey]:
                self.e(msg)
            return
        before = set(inst["read"])
        found: list[str] = []

        def e(msg):
            found.append(msg)
            self.err(msg, self.scenario)

        self.e = e
        try:
            run()
        finally:
            del self.e  # back to the method
        new_reads = set(inst["read"]) - before
        reads |= new_reads
        results[tuple((p, inst["values"].get(p)) for p in sorted(reads))] = found

    def check_parameters(self):
        params = self.tpl.get("Parameters", {})
        ns = params.get("MetricsNamespace", {}).get("Default")
        if ns != self.names["default_namespace"]:
            self.err(f"Parameters.MetricsNamespace: default {ns!r} is not the code's {self.names['default_namespace']!r}")
        fields = params.get("RealtimeLogFields", {}).get("Default", "")
        fields = [f.strip() for f in (fields if isinstance(fields, list) else str(fields).split(","))]
        for f in fields:
            if f not in self.names["realtime_fields"]:
                self.err(f"Parameters.RealtimeLogFields: {f!r} is not a real-time log field")
        if "x-host-header" not in fields:
            self.err("Parameters.RealtimeLogFields: without x-host-header the Distribution dimension is 'unknown'")

    def check_policies(self, inst):
        """Hygiene of every policy document in the template."""
        res = inst["Resources"]
        for lid, r in res.items():
            t = r.get("Type", "")
            props = r.get("Properties", {})
            docs = []
            if t == "AWS::IAM::Role":
                docs += [(f"Resources.{lid}.Policies[{i}]", p.get("PolicyDocument")) for i, p in enumerate(props.get("Policies", []))]
                trust = props.get("AssumeRolePolicyDocument")
                for i, st in enumerate(statements(trust)):
                    self.check_principal(st.get("Principal"), f"Resources.{lid}.AssumeRolePolicyDocument.Statement[{i}]")
                    services = as_list((st.get("Principal") or {}).get("Service", [])) if isinstance(st.get("Principal"), dict) else []
                    if not services or set(st.get("Principal", {})) != {"Service"}:
                        self.e(f"Resources.{lid}: the trust policy must name AWS services only")
            elif t in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"):
                docs.append((f"Resources.{lid}", props.get("PolicyDocument")))
            elif t in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
                docs.append((f"Resources.{lid}", props.get("PolicyDocument")))
            elif t == "AWS::Lambda::Permission":
                self.check_principal(props.get("Principal"), f"Resources.{lid}")
            elif t == "AWS::OpenSearchService::Domain":
                docs.append((f"Resources.{lid}.AccessPolicies", props.get("AccessPolicies")))
            for where, doc in docs:
                for i, st in enumerate(statements(doc)):
                    w = f"{where}.Statement[{i}]"
                    for bad in ("NotAction", "NotResource", "NotPrincipal"):
                        if bad in st:
                            self.e(f"{w}: {bad} is not allowed")
                    if "Principal" in st:
                        self.check_principal(st["Principal"], w)
                    actions = as_list(st.get("Action", []))
                    for a in actions:
                        self.check_action_exists(a, w)
                    for rsrc in as_list(st.get("Resource", [])):
                        if rsrc == "*":
                            narrow = [NO_RESOURCE_LEVEL.get(a) for a in actions]
                            if not all(narrow):
                                self.e(f"{w}: Resource \"*\" for {', '.join(a for a in actions if a not in NO_RESOURCE_LEVEL)}")
                            elif not all(k in json.dumps(st.get("Condition", {})) for k in narrow):
                                self.e(f"{w}: Resource \"*\" without a {'/'.join(narrow)} condition")
                        elif check_search.external_ok(self, rsrc, actions, w):
                            pass  # an existing domain or collection, checked there
                        else:
                            targets = refs_in(rsrc)
                            if not targets or not targets <= set(res):
                                self.e(f"{w}: resource {json.dumps(rsrc)} is not a resource this template creates")

    def check_hygiene(self, inst):
        """Encryption at rest and confused-deputy conditions."""
        res = inst["Resources"]
        distributions = sorted(lid for lid, r in res.items() if r.get("Type") == "AWS::CloudFront::Distribution")
        for lid, r in res.items():
            t = r.get("Type")
            props = r.get("Properties", {})
            w = f"Resources.{lid}"
            if t == "AWS::Kinesis::Stream":
                enc = props.get("StreamEncryption")
                if not isinstance(enc, dict) or enc.get("EncryptionType") != "KMS":
                    self.e(f"{w}: the stream must be encrypted at rest (StreamEncryption: KMS with {AWS_MANAGED_STREAM_KEY})")
                elif enc.get("KeyId") != AWS_MANAGED_STREAM_KEY:
                    self.e(
                        f"{w}: StreamEncryption.KeyId {json.dumps(enc.get('KeyId'))} is not {AWS_MANAGED_STREAM_KEY}: a customer key "
                        "needs kms:GenerateDataKey for every writer and kms:Decrypt for every reader, which no role here grants"
                    )
            elif t == "AWS::SQS::Queue":
                if props.get("SqsManagedSseEnabled") is not True or "KmsMasterKeyId" in props:
                    self.e(f"{w}: the queue must be encrypted at rest with SqsManagedSseEnabled: true (a KMS key would need grants for its senders)")
            elif t == "AWS::IAM::Role":
                for i, st in enumerate(statements(props.get("AssumeRolePolicyDocument"))):
                    principal = st.get("Principal")
                    services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
                    where = f"{w}.AssumeRolePolicyDocument.Statement[{i}]"
                    cond = st.get("Condition") if isinstance(st.get("Condition"), dict) else {}
                    equals = cond.get("StringEquals", {}) if isinstance(cond.get("StringEquals"), dict) else {}
                    for svc in services:
                        keys = DEPUTY_CONDITIONS.get(svc)
                        if keys is None:
                            continue
                        found = [k for k in keys if k in equals]
                        if not found:
                            self.e(
                                f"{where}: {svc} could assume this role for any account (confused deputy): "
                                f"add a StringEquals condition on {' or '.join(keys)} = AWS::AccountId"
                            )
                        for k in found:
                            if equals[k] != {"Ref": "AWS::AccountId"}:
                                self.e(f"{where}: {k} must be !Ref AWS::AccountId, not {json.dumps(equals[k])}")
                        if svc == "cloudfront.amazonaws.com" and distributions:
                            named = set()
                            for op, body in cond.items():
                                if isinstance(body, dict) and "aws:SourceArn" in body:
                                    named |= refs_in(body["aws:SourceArn"])
                            if not named & set(distributions):
                                self.e(f"{where}: the template creates {', '.join(distributions)}: require its ARN as aws:SourceArn too")

    def check_samconfig(self, cfg: dict):
        """The documented commands run without prompts and with the capabilities the
        template needs, no more."""
        w = "samconfig.toml"
        env = cfg.get("default", {})

        def params(cmd):
            return env.get(cmd, {}).get("parameters", {})

        res = self.tpl.get("Resources", {})
        if any(r.get("Metadata", {}).get("BuildMethod") == "rust-cargolambda" for r in res.values()):
            for cmd in ("build", "sync"):
                if params(cmd).get("beta_features") is not True:
                    self.err(f"{w}: [default.{cmd}.parameters] beta_features = true is missing: BuildMethod rust-cargolambda is a beta feature and sam {cmd} stops at a prompt")
        deploy = params("deploy")
        caps = deploy.get("capabilities", "")
        caps = set(caps.split() if isinstance(caps, str) else caps)
        iam = [lid for lid, r in res.items() if str(r.get("Type", "")).startswith("AWS::IAM::")]
        named = [lid for lid, r in res.items() if NAMED_IAM.get(r.get("Type")) in r.get("Properties", {})]
        if iam and not caps & {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}:
            self.err(f"{w}: [default.deploy.parameters] capabilities must include CAPABILITY_IAM (the template creates {', '.join(iam)})")
        if named and "CAPABILITY_NAMED_IAM" not in caps:
            self.err(f"{w}: capabilities must include CAPABILITY_NAMED_IAM ({', '.join(named)} have custom names)")
        if not named and "CAPABILITY_NAMED_IAM" in caps:
            self.err(f"{w}: CAPABILITY_NAMED_IAM is not needed (no IAM resource has a custom name): acknowledge only what the template does")
        if deploy.get("resolve_s3") is not True and not deploy.get("s3_bucket"):
            self.err(f"{w}: [default.deploy.parameters] needs resolve_s3 = true (or an s3_bucket) for the function and layer zips")
        if deploy.get("confirm_changeset") is not False:
            self.err(f"{w}: [default.deploy.parameters] confirm_changeset = false, or sam deploy waits for a y/N answer")
        if not (deploy.get("stack_name") or params("global").get("stack_name")):
            self.err(f"{w}: no stack_name ([default.global.parameters]), so sam deploy stops: Missing option '--stack-name'")

    def check_principal(self, p, where):
        if p == "*" or (isinstance(p, dict) and any(v == "*" or "*" in as_list(v) for v in p.values())):
            self.e(f"{where}: Principal \"*\"")

    def check_functions(self, inst):
        res = inst["Resources"]
        for lid, r in res.items():
            if r.get("Type") not in FUNCTION_TYPES:
                continue
            self.check_function(inst, lid, r)

    def check_function(self, inst, lid, r):
        res = inst["Resources"]
        props = r.get("Properties", {})
        w = f"Resources.{lid}"
        meta = r.get("Metadata", {})
        if meta.get("BuildMethod") != "rust-cargolambda":
            self.e(f"{w}: Metadata.BuildMethod must be rust-cargolambda")
        if meta.get("BuildProperties", {}).get("Binary") != self.bin_name:
            self.e(f"{w}: Metadata.BuildProperties.Binary must be {self.bin_name!r} (host-lambda's [[bin]])")
        if props.get("Architectures") != ["arm64"]:
            self.e(f"{w}: Architectures must be [arm64]")
        if props.get("Runtime") != "provided.al2023":
            self.e(f"{w}: Runtime must be provided.al2023")
        if props.get("Handler") != "bootstrap":
            self.e(f"{w}: Handler must be bootstrap")
        code_uri = props.get("CodeUri")
        if not isinstance(code_uri, str) or not (HERE / code_uri / "Cargo.toml").is_file() or "[workspace]" not in (HERE / code_uri / "Cargo.toml").read_text():
            self.e(f"{w}: CodeUri {code_uri!r} must be the Cargo workspace root (sam build copies <CodeUri>/target/lambda/<Binary>/bootstrap)")

        env = props.get("Environment", {}).get("Variables", {})
        for k in env:
            if k not in self.names["env"]:
                self.e(f"{w}: environment variable {k} is not one the function reads (names::env)")
        mode = str(param_default(inst, env.get("CFLOG_MODE", "kinesis"))).lower()
        if mode not in ("kinesis", "firehose", "notify"):
            self.e(f"{w}: CFLOG_MODE {mode!r}")
        # The notifier (issue 14) reads rollups, not log lines: no layout.
        if mode != "notify" and ("CFLOG_FIELDS" in env) == ("CFLOG_REALTIME_LOG_CONFIG" in env):
            self.e(f"{w}: set exactly one of CFLOG_FIELDS and CFLOG_REALTIME_LOG_CONFIG")
        self.check_rules(inst, lid, props, env)

        # What the function calls, for the features its environment turns on.
        expected: dict[str, set[str]] = {}  # action -> logical ids (or {"*"})

        def need(actions, targets):
            for a in actions:
                expected.setdefault(a, set()).update(targets)

        def target_of(var):
            t = refs_in(env[var]) & set(res)
            if len(t) != 1:
                self.e(f"{w}: {var} must name one resource of this template (got {json.dumps(env[var])})")
            return t

        for group, var in FEATURE_ENV.items():
            if var in env and (mode == "kinesis" or group == "LAYOUT"):
                need(self.names["iam"][group], target_of(var))
        if mode == "notify":
            self.check_notifier(inst, lid, env, need, target_of)
        metrics = str(param_default(inst, env.get("CFLOG_METRICS", "cloudwatch"))).lower()
        if mode == "kinesis" and metrics == "cloudwatch":
            need(self.names["iam"]["METRICS"], {"*"})
        log_group = props.get("LoggingConfig", {}).get("LogGroup")
        if log_group is None:
            self.e(f"{w}: LoggingConfig.LogGroup must name a log group of this template")
        else:
            need(LOG_ACTIONS, refs_in(log_group) & set(res))
        mappings = [(m, x) for m, x in res.items() if x.get("Type") == "AWS::Lambda::EventSourceMapping" and lid in refs_in(x.get("Properties", {}).get("FunctionName"))]
        if mode == "kinesis" and not mappings:
            self.e(f"{w}: a kinesis-mode function needs an event source mapping")
        for m, x in mappings:
            mp = x.get("Properties", {})
            self.check_mapping(inst, m, mp)
            need(ESM_KINESIS_ACTIONS, refs_in(mp.get("EventSourceArn")) & set(res))
            dest = mp.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            for d in refs_in(dest) & set(res):
                need(ESM_DESTINATION_ACTIONS.get(res[d].get("Type"), set()), {d})

        role = refs_in(props.get("Role")) & set(res)
        if len(role) != 1:
            self.e(f"{w}: Role must be a role of this template (a generated role cannot be checked)")
            return
        (role_lid,) = role
        granted: dict[str, set[str]] = {}
        errors: list[str] = []
        for g in role_grants(inst, role_lid, errors):
            targets = set()
            for rsrc in g.resources:
                if rsrc == "*":
                    targets.add("*")
                    if g.action in NO_RESOURCE_LEVEL:
                        cond = json.dumps(g.condition or {})
                        ns = env.get("CFLOG_NAMESPACE")
                        if ns is None or json.dumps(ns) not in cond:
                            self.e(f"{g.where}: the {NO_RESOURCE_LEVEL[g.action]} condition must be the function's CFLOG_NAMESPACE")
                else:
                    targets |= refs_in(rsrc) & set(res)
            granted.setdefault(g.action, set()).update(targets)
        for e in errors:
            self.e(e)
        for a in sorted(set(expected) - set(granted)):
            self.e(f"Resources.{role_lid}: {lid} needs {a} on {sorted(expected[a])}, not granted")
        for a in sorted(set(granted) - set(expected)):
            self.e(f"Resources.{role_lid}: grants {a}, which {lid} never calls (least privilege)")
        for a in sorted(set(granted) & set(expected)):
            if granted[a] != expected[a]:
                self.e(f"Resources.{role_lid}: {a} granted on {sorted(granted[a])}, {lid} uses it on {sorted(expected[a])}")

        if "CFLOG_TABLE" in env:
            for t in refs_in(env["CFLOG_TABLE"]) & set(res):
                self.check_table(t, res[t])

    def check_notifier(self, inst, lid, env, need, target_of):
        """Issue 14: a notify-mode function reads the rollup table (Query), publishes to its
        topic, and is invoked by an SNS subscription whose topic alone may invoke it."""
        res = inst["Resources"]
        w = f"Resources.{lid}"
        for var in ("CFLOG_TABLE", "CFLOG_NOTIFY_TOPIC"):
            if var not in env:
                self.e(f"{w}: a notify-mode function needs {var}")
                return
        var_of_service = {"dynamodb": "CFLOG_TABLE", "sns": "CFLOG_NOTIFY_TOPIC"}
        for a in self.names["iam"].get("NOTIFY", []):
            need([a], target_of(var_of_service[a.split(":")[0]]))
        subs = [s for s, x in res.items() if x.get("Type") == "AWS::SNS::Subscription"
                and x.get("Properties", {}).get("Protocol") == "lambda" and lid in refs_in(x.get("Properties", {}).get("Endpoint"))]
        if not subs:
            self.e(f"{w}: a notify-mode function needs an SNS subscription (Protocol lambda) of the alarm topic")
        topics = {t for s in subs for t in refs_in(res[s]["Properties"].get("TopicArn"))}
        perms = [x.get("Properties", {}) for x in res.values() if x.get("Type") == "AWS::Lambda::Permission"
                 and lid in refs_in(x.get("Properties", {}).get("FunctionName"))]
        for t in sorted(topics):
            if not any(p.get("Principal") == "sns.amazonaws.com" and p.get("Action") == "lambda:InvokeFunction" and t in refs_in(p.get("SourceArn")) for p in perms):
                self.e(f"{w}: needs an AWS::Lambda::Permission for sns.amazonaws.com with SourceArn {t} (and no wider one)")
        for p in perms:
            if not (refs_in(p.get("SourceArn")) & topics):
                self.e(f"{w}: a Lambda permission without a SourceArn of its topic lets others invoke the notifier")
        if refs_in(env["CFLOG_NOTIFY_TOPIC"]) & topics:
            self.e(f"{w}: CFLOG_NOTIFY_TOPIC must not be the topic that invokes it (a loop)")

    def check_rules(self, inst, lid, props, env):
        """CFLOG_PLUGINS exactly when a rules layer is attached, pointing into it."""
        res = inst["Resources"]
        w = f"Resources.{lid}"
        layers = as_list(props.get("Layers", []))
        plugins = env.get("CFLOG_PLUGINS")
        if plugins is not None and not layers:
            self.e(f"{w}: CFLOG_PLUGINS is set but no rules layer is attached: nothing is under /opt and the cold start fails")
        if layers and plugins is None:
            self.e(f"{w}: a layer is attached but CFLOG_PLUGINS is unset: its rules would never load")
        for layer in layers:
            t = refs_in(layer)
            if not (len(t) == 1 and (next(iter(t)) in inst["Parameters"] or res.get(next(iter(t)), {}).get("Type") in LAYER_TYPES)):
                self.e(f"{w}: layer {json.dumps(layer)} must be a layer version of this template or a parameter")
        if plugins is None:
            return
        if not isinstance(plugins, str):
            self.e(f"{w}: CFLOG_PLUGINS must be literal paths under {LAYER_ROOT} (got {json.dumps(plugins)})")
            return
        dirs = []
        for item in (s.strip() for s in plugins.split(",")):
            if not item:
                continue
            if not item.startswith(LAYER_ROOT):
                self.e(f"{w}: CFLOG_PLUGINS entry {item!r} is not under {LAYER_ROOT}, where Lambda unpacks the layers")
                continue
            dirs.append(item[len(LAYER_ROOT) :].split(":")[0].rstrip("/"))
        for layer in layers:
            for t in refs_in(layer) & set(res):
                self.check_rules_layer(t, res[t], dirs)

    def check_rules_layer(self, lid, r, dirs):
        """A layer this template builds holds the paths CFLOG_PLUGINS names."""
        w = f"Resources.{lid}"
        uri = r.get("Properties", {}).get("ContentUri")
        if not isinstance(uri, str):
            self.e(f"{w}: ContentUri must be a directory next to the template")
            return
        root = HERE / uri
        if r.get("Metadata", {}).get("BuildMethod") == "makefile":
            mk = root / "Makefile"
            if not mk.is_file():
                self.e(f"{w}: BuildMethod makefile needs {mk}")
                return
            text = mk.read_text()
            if not re.search(r"^build-" + re.escape(lid) + r"\s*:", text, re.M):
                self.e(f"{w}: {mk} has no build-{lid} target (sam build runs `make build-{lid}`)")
            for d in dirs:
                if f"$(ARTIFACTS_DIR)/{d}" not in text:
                    self.e(f"{w}: {mk} does not fill $(ARTIFACTS_DIR)/{d}, so {LAYER_ROOT}{d} (CFLOG_PLUGINS) would be missing")
        else:
            for d in dirs:
                if not (root / d).is_dir():
                    self.e(f"{w}: the layer is {root} as it is, which has no {d}/ for {LAYER_ROOT}{d} (CFLOG_PLUGINS)")

    def check_mapping(self, inst, lid, mp):
        w = f"Resources.{lid}"
        params = inst["Parameters"]
        if "ReportBatchItemFailures" not in as_list(mp.get("FunctionResponseTypes", [])):
            self.e(f"{w}: FunctionResponseTypes must include ReportBatchItemFailures")
        if mp.get("BisectBatchOnFunctionError") is not True:
            self.e(f"{w}: BisectBatchOnFunctionError must be true")

        def bounded(key, lo, hi):
            v = mp.get(key)
            if isinstance(v, dict) and set(v) == {"Ref"} and v["Ref"] in params:
                p = params[v["Ref"]]
                if "MinValue" not in p or "MaxValue" not in p or not (lo <= float(p["MinValue"]) and float(p["MaxValue"]) <= hi):
                    self.e(f"{w}: {key} parameter {v['Ref']} must be bounded within [{lo}, {hi}]")
            elif not (isinstance(v, (int, float)) and lo <= v <= hi):
                self.e(f"{w}: {key} must be bounded within [{lo}, {hi}] (got {v!r}; -1 means forever)")

        bounded("MaximumRetryAttempts", 0, 10000)
        bounded("MaximumRecordAgeInSeconds", 60, 604800)
        for key in ("BatchSize", "MaximumBatchingWindowInSeconds"):
            v = mp.get(key)
            if not (isinstance(v, dict) and set(v) == {"Ref"} and v["Ref"] in params):
                self.e(f"{w}: {key} must be a parameter")
        dest = mp.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        targets = refs_in(dest) & set(inst["Resources"])
        if not targets or any(inst["Resources"][t].get("Type") not in ESM_DESTINATION_ACTIONS for t in targets):
            self.e(f"{w}: DestinationConfig.OnFailure.Destination must be an SQS queue or SNS topic of this template")

    def check_table(self, lid, r):
        w = f"Resources.{lid}"
        props = r.get("Properties", {})
        keys = {k.get("KeyType"): k.get("AttributeName") for k in props.get("KeySchema", [])}
        t = self.names["table"]
        if keys != {"HASH": t["pk"], "RANGE": t["sk"]}:
            self.e(f"{w}: KeySchema {keys} is not the code's (HASH {t['pk']}, RANGE {t['sk']})")
        types = {a.get("AttributeName"): a.get("AttributeType") for a in props.get("AttributeDefinitions", [])}
        if types.get(t["pk"]) != "S" or types.get(t["sk"]) != "S":
            self.e(f"{w}: the code writes string keys")
        ttl = props.get("TimeToLiveSpecification", {})
        if ttl.get("AttributeName") != t["ttl"] or ttl.get("Enabled") is not True:
            self.e(f"{w}: TTL must be enabled on {t['ttl']!r} (the attribute the code writes)")
        if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is not True:
            self.e(f"{w}: point-in-time recovery must be on")

    # ---- metrics in alarms and the dashboard

    def namespace_ok(self, inst, ns, where) -> str | None:
        """'ours', an AWS namespace, or None after reporting."""
        if isinstance(ns, dict):
            if ns == {"Ref": "MetricsNamespace"}:
                return "ours"
            self.e(f"{where}: namespace {json.dumps(ns)} must be the MetricsNamespace parameter")
            return None
        if ns == self.names["default_namespace"]:
            self.e(f"{where}: use !Ref MetricsNamespace, not the literal {ns!r}")
            return None
        if ns in AWS_METRICS:
            return ns
        self.e(f"{where}: unknown namespace {ns!r}")
        return None

    def check_metric(self, inst, ns, name, dims, where):
        kind = self.namespace_ok(inst, ns, where)
        if kind == "ours":
            self.seen_metrics.add(name)
            needs = METRIC_NEEDS_ENV.get(name)
            if needs and needs not in self.active_env:
                self.e(f"{where}: shows {name!r}, which the function emits only with {needs} set, and no function sets it here (make it conditional)")
            if name not in self.names["metrics"] or name not in self.code.metrics_used:
                self.e(f"{where}: metric {name!r} is not one the function emits ({', '.join(self.names['metrics'])})")
            for d in dims:
                if d not in self.names["dimensions"]:
                    self.e(f"{where}: dimension {d!r} is not one the function emits ({', '.join(self.names['dimensions'])})")
        elif kind is not None and name not in AWS_METRICS[kind]:
            self.e(f"{where}: {kind} metric {name!r} is not in check_template.py's list of AWS metrics")

    def check_metrics(self, inst):
        self.seen_metrics: set[str] = set()
        res = inst["Resources"]
        self.active_env: set[str] = set()
        for r in res.values():
            if r.get("Type") in FUNCTION_TYPES:
                self.active_env |= set(r.get("Properties", {}).get("Environment", {}).get("Variables", {}))
        dashboards = 0
        for lid, r in res.items():
            props = r.get("Properties", {})
            w = f"Resources.{lid}"
            if r.get("Type") == "AWS::CloudWatch::Alarm":
                if "MetricName" in props:
                    dims = [d.get("Name") for d in props.get("Dimensions", [])]
                    self.check_metric(inst, props.get("Namespace"), props["MetricName"], dims, w)
                for i, q in enumerate(props.get("Metrics", [])):
                    m = q.get("MetricStat", {}).get("Metric")
                    if m:
                        dims = [d.get("Name") for d in m.get("Dimensions", [])]
                        self.check_metric(inst, m.get("Namespace"), m.get("MetricName"), dims, f"{w}.Metrics[{i}]")
            elif r.get("Type") == "AWS::CloudWatch::Dashboard":
                dashboards += 1
                self.check_dashboard(inst, w, props.get("DashboardBody"))
        if dashboards == 0:
            self.e("Resources: no AWS::CloudWatch::Dashboard")
        for m in sorted(self.code.metrics_used - self.seen_metrics):
            needs = METRIC_NEEDS_ENV.get(m)
            if needs and needs not in self.active_env:
                continue  # not emitted in this configuration
            self.e(f"Resources: the function emits {m!r}, but no dashboard widget or alarm shows it")

    def check_dashboard(self, inst, w, body):
        text = dashboard_text(body)
        if text is None:
            self.e(f"{w}: DashboardBody must be a string, a !Sub string or a !Join of those (Fn::If resolved)")
            return
        try:
            doc = json.loads(sub_placeholders(text))
        except json.JSONDecodeError as exc:
            self.e(f"{w}: DashboardBody is not JSON: {exc}")
            return
        for i, widget in enumerate(doc.get("widgets", [])):
            rows = widget.get("properties", {}).get("metrics", [])
            prev: list = []
            for j, row in enumerate(rows):
                where = f"{w}.DashboardBody.widgets[{i}].metrics[{j}]"
                items = [x for x in row if not isinstance(x, dict)]
                if not items:
                    # An expression: a SEARCH names its namespace, dimensions and metric,
                    # which must be ones the function emits like any other metric.
                    for x in row:
                        expr = x.get("expression", "") if isinstance(x, dict) else ""
                        for sm in re.finditer(r"SEARCH\('\{([^}]*)\}[^']*MetricName=\"([^\"]+)\"", expr):
                            parts = [p.strip() for p in sm.group(1).split(",")]
                            sns = parts[0]
                            mm = re.fullmatch(r"__SUB_(.+)__", sns)
                            self.check_metric(inst, {"Ref": mm.group(1)} if mm else sns, sm.group(2), parts[1:], where)
                    continue
                items = [prev[k] if x == "." and k < len(prev) else x for k, x in enumerate(items)]
                prev = items
                ns = items[0]
                m = re.fullmatch(r"__SUB_(.+)__", ns)
                if m:
                    ns = {"Ref": m.group(1)}
                dims = items[2::2]
                self.check_metric(inst, ns, items[1] if len(items) > 1 else None, dims, where)


def dashboard_text(body) -> str | None:
    """The dashboard JSON of a string, !Sub or !Join of those (after Fn::If is resolved)."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict) and set(body) == {"Fn::Sub"}:
        s = body["Fn::Sub"]
        s = s[0] if isinstance(s, list) and s else s
        return s if isinstance(s, str) else None
    if isinstance(body, dict) and set(body) == {"Fn::Join"}:
        sep, parts = body["Fn::Join"]
        texts = [dashboard_text(p) for p in as_list(parts)]
        if not isinstance(sep, str) or any(x is None for x in texts):
            return None
        return sep.join(texts)
    return None


@functools.lru_cache(maxsize=64)
def sub_placeholders(text: str) -> str:
    """${X} inside a JSON string -> __SUB_X__; outside one (a number) -> 0. (Cached: the
    same few dashboard bodies come back in every parameter combination.)"""
    out = []
    in_str = False
    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("${", i) and not text.startswith("${!", i):
            end = text.index("}", i)
            name = text[i + 2 : end]
            out.append(f"__SUB_{name}__" if in_str else "0")
            i = end + 1
            continue
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            in_str = not in_str
        out.append(ch)
        i += 1
    return "".join(out)


def lambda_bin_name(cargo_toml: Path) -> str:
    text = cargo_toml.read_text()
    m = re.search(r'\[\[bin\]\]\s*\nname\s*=\s*"([^"]+)"', text)
    if m:
        return m.group(1)
    m = re.search(r'^name\s*=\s*"([^"]+)"', text, re.M)
    return m.group(1) if m else ""


# ------------------------------------------------------------------------------ build output


def check_build_output(tpl: dict, target_dir: Path, bin_name: str, notes: list[str] | None = None) -> list[str]:
    """`cargo lambda build --release --arm64 [--output-format zip]` wrote the binary the
    template's functions name, for arm64, where `sam build` (rust-cargolambda) takes it."""
    errors = []
    notes = notes if notes is not None else []
    for lid, r in tpl.get("Resources", {}).items():
        if r.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        binary = r.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if binary != bin_name:
            errors.append(f"Resources.{lid}: BuildProperties.Binary {binary!r} is not host-lambda's binary {bin_name!r}")
            continue
        code_uri = r.get("Properties", {}).get("CodeUri")
        root = (HERE / str(code_uri)).resolve()
        if root != REPO:
            errors.append(f"Resources.{lid}: CodeUri {code_uri!r} resolves to {root}, not the workspace root {REPO}")
        out = target_dir / "lambda" / binary
        data = None
        if (out / "bootstrap.zip").is_file():
            with zipfile.ZipFile(out / "bootstrap.zip") as z:
                if "bootstrap" not in z.namelist():
                    errors.append(f"{out / 'bootstrap.zip'}: no bootstrap entry ({z.namelist()})")
                else:
                    info = z.getinfo("bootstrap")
                    if not (info.external_attr >> 16) & 0o111:
                        errors.append(f"{out / 'bootstrap.zip'}: bootstrap is not executable")
                    data = z.read("bootstrap")[:64]
        elif (out / "bootstrap").is_file():
            data = (out / "bootstrap").read_bytes()[:64]
        else:
            errors.append(f"{out}: neither bootstrap nor bootstrap.zip; run `cargo lambda build --release --arm64 --bin {binary}`")
        if data is not None:
            # ELF, 64-bit, little endian, e_machine 0xB7 (AArch64).
            if data[:4] != b"\x7fELF" or data[4] != 2 or int.from_bytes(data[18:20], "little") != 0xB7:
                errors.append(f"{out}: bootstrap is not an arm64 (AArch64) ELF executable")
        notes.append(f"{lid}: cargo lambda wrote {out}; sam build (CARGO_TARGET_DIR unset) takes {root}/target/lambda/{binary}/bootstrap")
    return errors


# ------------------------------------------------------------------------------ main


def load_samconfig(path: Path) -> dict:
    import tomllib

    return tomllib.loads(path.read_text())


def run(template: Path, names: dict, src: Path, crate: Path, samconfig: Path | None = None) -> dict[str, str]:
    tpl = load_template(template)
    code = scan_code(src)
    samconfig = samconfig or template.parent / "samconfig.toml"
    if not samconfig.is_file():
        return {f"{samconfig}: missing (the documented sam build && sam deploy need it)": ""}
    checker = Checker(tpl, names, code, lambda_bin_name(crate), iam_reference(), load_samconfig(samconfig))
    return checker.check()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("template", type=Path)
    ap.add_argument("--names", type=Path, help="JSON from `cargo run -p cflog-deploy-names`")
    ap.add_argument("--src", type=Path, default=REPO / "host-lambda" / "src")
    ap.add_argument("--crate", type=Path, default=REPO / "host-lambda" / "Cargo.toml")
    ap.add_argument("--samconfig", type=Path, help="the SAM CLI configuration (default: samconfig.toml next to TEMPLATE)")
    ap.add_argument("--build-output", type=Path, metavar="TARGET_DIR", help="check cargo lambda's output instead")
    ap.add_argument("--print-calls", action="store_true", help="list the AWS calls derived from the code")
    args = ap.parse_args(argv)

    if args.build_output:
        notes: list[str] = []
        errors = check_build_output(load_template(args.template), args.build_output, lambda_bin_name(args.crate), notes)
        for n in notes:
            print(n)
        for e in errors:
            print(f"{args.template}: {e}", file=sys.stderr)
        print(f"{args.template}: build output {'OK' if not errors else 'FAILED'}")
        return 1 if errors else 0

    if not args.names:
        ap.error("--names is required")
    names = json.loads(args.names.read_text())
    if args.print_calls:
        for c in scan_code(args.src).calls:
            print(f"{c.file}:{c.line}: {c.crate} .{c.op}() -> {', '.join(c.actions)}")
    errors = run(args.template, names, args.src, args.crate, args.samconfig)
    for msg, scenario in errors.items():
        print(f"{args.template}: {msg}" + (f"   [when {scenario}]" if scenario else ""), file=sys.stderr)
    n = len(scenarios(load_template(args.template)))
    print(f"{args.template}: {len(errors)} problem(s) in {n} parameter combinations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
