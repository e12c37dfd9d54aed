#!/usr/bin/env python3
"""Checks deploy/template.yaml against the code of the Lambda processor.

    check_template.py --names NAMES.json [--src host-lambda/src] [--crate host-lambda/Cargo.toml]
                      [--samconfig deploy/samconfig.toml] TEMPLATE
    check_template.py --build-output TARGET_DIR TEMPLATE      (after `cargo lambda build`)

NAMES.json is what `cargo run -p cflog-deploy-names` prints: host-lambda/src/names.rs, compiled.

What it checks, in every combination of the template's condition parameters (those that
switch only alarms and dashboards, such as AlarmThresholds, are cycled through the others'
combinations instead of multiplying them: template_model.scenarios):

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
* alerts (issue 14): every alarm on a traffic rate or percentile (5xx, 4xx, 404 rates,
  latency, cache misses) returns IF(requests >= ${AlarmMinRequestsPerMinute}, ...), and
  every AlarmThresholds value leaves each traffic metric an alarm.
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
import json
import re
import sys
import zipfile
from pathlib import Path

import check_search  # search (OpenSearch) and history (Glue, Athena): its docstring says what
from check_functions import FunctionChecks  # functions, roles, mapping, table
from check_metrics import MetricChecks, dashboard_text, sub_placeholders  # noqa: F401  alarms and dashboard
from code_scan import Code, SdkCall, scan_code  # noqa: F401  the Lambda's source
from template_model import (  # noqa: F401  (re-exported: check_search and the tests use them as ct.*)
    AWS_MANAGED_STREAM_KEY,
    DEPUTY_CONDITIONS,
    ESM_KINESIS_ACTIONS,
    FUNCTIONS_IGNORE,
    METRICS_ONLY,
    HERE,
    NAMED_IAM,
    NO_RESOURCE_LEVEL,
    REPO,
    as_list,
    iam_reference,
    instantiate,
    load_template,
    param_default,
    refs_in,
    role_grants,
    scenarios,
    statements,
)


# ------------------------------------------------------------------------------ checks


class Checker(FunctionChecks, MetricChecks):
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
            # Alarms and dashboards are read only by check_metrics: parameters that only
            # switch alarms (AlarmThresholds, AlarmRatesExclude404) rerun just that.
            self.memoized("policies", lambda t: t not in METRICS_ONLY, inst, lambda: (self.check_policies(inst), self.check_hygiene(inst)))
            self.memoized("functions", lambda t: t not in FUNCTIONS_IGNORE and t not in METRICS_ONLY, inst, lambda: self.check_functions(inst))
            self.memoized("metrics", lambda t: t not in FUNCTIONS_IGNORE, inst, lambda: self.check_metrics(inst))
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
