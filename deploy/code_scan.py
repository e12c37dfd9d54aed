"""The Lambda processor's source as the deploy checker reads it: the AWS SDK calls it makes
(mapped to IAM actions), the environment variables it reads and the metrics it emits, by
scanning host-lambda/src (names.rs for the names). Part of deploy/check_template.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

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
    "aws_sdk_wafv2": "wafv2",
}
# Operations whose IAM action is not the operation's name.
SPECIAL_ACTIONS = {
    ("s3", "list_objects_v2"): ["s3:ListBucket"],
    ("s3", "head_object"): ["s3:GetObject"],
    ("s3", "head_bucket"): ["s3:ListBucket"],
    ("wafv2", "get_ip_set"): ["wafv2:GetIPSet"],
    ("wafv2", "update_ip_set"): ["wafv2:UpdateIPSet"],
}
# DynamoDB transactions are authorised per item: the builders the code uses decide.
TRANSACTION_ITEM_ACTIONS = {
    "Update": "dynamodb:UpdateItem",
    "Put": "dynamodb:PutItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


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
