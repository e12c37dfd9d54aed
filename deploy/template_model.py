"""What the deploy checker knows about a CloudFormation/SAM template, independent of any
one check: the tables of IAM actions, metrics and resource types the checks share; loading
a template (cfn-lint's YAML loader); the condition parameters, their combinations and a
template instantiated for one combination; and helpers that read references and the
grants of a role. Part of deploy/check_template.py (its docstring says what is checked).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

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
        # A list parameter's slots (AlarmBehaviors): !Select [i, !Split [sep, !Sub "${P},,"]].
        if isinstance(x, dict) and set(x) == {"Fn::Sub"} and isinstance(x["Fn::Sub"], str):
            return re.sub(r"\$\{([A-Za-z0-9]+)\}", lambda m: val({"Ref": m.group(1)}), x["Fn::Sub"])
        if isinstance(x, dict) and set(x) == {"Fn::Split"}:
            sep, text = x["Fn::Split"]
            return val(text).split(sep)
        if isinstance(x, dict) and set(x) == {"Fn::Select"}:
            index, items = x["Fn::Select"]
            items = val(items)
            return items[int(index)] if int(index) < len(items) else ""
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
