"""Checks of the template's functions for deploy/check_template.py: build settings,
environment, the role's grants against what the function calls (least privilege), the
notifier, enrichment-rule layers, the event source mapping and the rollup table. A mixin
of check_template.Checker (it reports through self.e).
"""

from __future__ import annotations

import json
import re

from template_model import (
    ESM_DESTINATION_ACTIONS,
    ESM_KINESIS_ACTIONS,
    FEATURE_ENV,
    FUNCTION_TYPES,
    HERE,
    LAYER_ROOT,
    LAYER_TYPES,
    LOG_ACTIONS,
    NO_RESOURCE_LEVEL,
    as_list,
    param_default,
    refs_in,
    role_grants,
)


# names::iam groups whose variable may name several resources (a comma-joined list).
MULTI_TARGET = {"WAF"}


class FunctionChecks:
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
                # The WAF sink takes a list of IP sets (IPv4 and IPv6): each a resource here.
                targets = (refs_in(env[var]) & set(res)) if group in MULTI_TARGET else target_of(var)
                if not targets:
                    self.e(f"{w}: {var} must name resources of this template (got {json.dumps(env[var])})")
                for t in sorted(targets) if group == "WAF" else ():
                    ip_set = res[t]
                    if ip_set.get("Type") != "AWS::WAFv2::IPSet" or ip_set.get("Properties", {}).get("Scope") != "CLOUDFRONT":
                        self.e(f"{w}: {var} names {t}, which is not a CloudFront-scope (Scope CLOUDFRONT) AWS::WAFv2::IPSet")
                need(self.names["iam"][group], targets)
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
