"""Tests of deploy/check_template.py: the real template passes, and every kind of drift the
checker exists to catch is reported when planted in a copy of the template, the names or
the code.

    CFLOG_NAMES_JSON=path/to/names.json .venv/bin/python -m unittest deploy/test_check_template.py

CFLOG_NAMES_JSON is what `cargo run -p cflog-deploy-names` prints (make test-deploy sets it).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_template as ct  # noqa: E402

TEMPLATE = ct.HERE / "template.yaml"
SRC = ct.REPO / "host-lambda" / "src"
CRATE = ct.REPO / "host-lambda" / "Cargo.toml"


def load_names() -> dict:
    path = os.environ.get("CFLOG_NAMES_JSON")
    if not path:
        raise RuntimeError("set CFLOG_NAMES_JSON to the output of `cargo run -p cflog-deploy-names` (make test-deploy does)")
    return json.loads(Path(path).read_text())


NAMES = load_names()
TPL = ct.load_template(TEMPLATE)
CODE = ct.scan_code(SRC)
IAM = ct.iam_reference()
BIN = ct.lambda_bin_name(CRATE)
SAMCONFIG = ct.load_samconfig(ct.HERE / "samconfig.toml")


def check_scenarios(tpl=None, names=None, code=None, samconfig=None) -> dict[str, str]:
    """Each problem with the first parameter combination it was found in."""
    checker = ct.Checker(
        tpl if tpl is not None else TPL,
        names if names is not None else NAMES,
        code or CODE,
        BIN,
        IAM,
        samconfig if samconfig is not None else SAMCONFIG,
    )
    return checker.check()


def check(tpl=None, names=None, code=None, samconfig=None) -> list[str]:
    return list(check_scenarios(tpl, names, code, samconfig))


def without_rules(label: str) -> bool:
    """The scenario label has the rule parameters off: no rules at all."""
    return re.search(r"(^|,)BundleRules=false,RulesLayerArn=(,|$)", label) is not None


def statements(tpl, role):
    return tpl["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def trust(tpl, role):
    return tpl["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]


def env(tpl, function="ProcessorFunction"):
    return tpl["Resources"][function]["Properties"]["Environment"]["Variables"]


def dashboard_parts(tpl):
    """The dashboard body: the widgets always there (a !Sub), the rule widget (Fn::If on
    HasRules), the closing brackets."""
    return tpl["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Join"][1]


def code_emitting(*metrics) -> ct.Code:
    code = copy.deepcopy(CODE)
    code.metrics_used |= set(metrics)
    return code


class RealTemplate(unittest.TestCase):
    def test_the_template_is_clean(self):
        self.assertEqual(check(), [])

    def test_the_calls_are_derived_from_the_code(self):
        # Worked out by reading host-lambda/src/aws.rs: one call per sink operation; the
        # notifier's two (notify_aws.rs, issue 14).
        ops = sorted((c.crate, c.op) for c in CODE.calls)
        self.assertEqual(
            ops,
            [
                ("aws_sdk_cloudfront", "get_realtime_log_config"),
                ("aws_sdk_cloudwatch", "put_metric_data"),
                ("aws_sdk_dynamodb", "get_item"),
                ("aws_sdk_dynamodb", "query"),
                ("aws_sdk_dynamodb", "transact_write_items"),
                ("aws_sdk_dynamodb", "update_item"),
                ("aws_sdk_kinesis", "put_records"),
                ("aws_sdk_sns", "publish"),
            ],
        )
        self.assertEqual(
            CODE.actions,
            {"cloudfront:GetRealtimeLogConfig", "cloudwatch:PutMetricData", "dynamodb:GetItem", "dynamodb:UpdateItem", "kinesis:PutRecords",
             "dynamodb:Query", "sns:Publish"},
        )

    def test_every_combination_of_conditions_is_checked(self):
        # StreamMode 2 x MetricsOutput 3 x MetricDimensions 4 x two output toggles x
        # AlarmEmail 2 x BundleRules 2 x RulesLayerArn 2 (empty or not) x OpenSearchMode 4.
        self.assertEqual(len(ct.scenarios(TPL)), 2 * 3 * 4 * 2 * 2 * 2 * 2 * 2 * 4)


class NameDrift(unittest.TestCase):
    def test_bogus_metric_in_an_alarm(self):
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["Alarm5xxRate"]["Properties"]["MetricName"] = "5xxErrorRatio"
        errs = check(tpl)
        self.assertTrue(any("Alarm5xxRate" in e and "'5xxErrorRatio' is not one the function emits" in e for e in errs), errs)

    def test_bogus_metric_in_a_math_alarm(self):
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["AlarmCacheHitRatio"]["Properties"]["Metrics"][0]["MetricStat"]["Metric"]["MetricName"] = "CacheHitRate"
        errs = check(tpl)
        self.assertTrue(any("AlarmCacheHitRatio.Metrics[0]" in e and "CacheHitRate" in e for e in errs), errs)

    def test_bogus_metric_and_dimension_in_the_dashboard(self):
        tpl = copy.deepcopy(TPL)
        body = dashboard_parts(tpl)[0]
        self.assertIn('"BytesDownloaded", "Distribution"', body["Fn::Sub"])
        body["Fn::Sub"] = body["Fn::Sub"].replace('"BytesDownloaded", "Distribution"', '"BytesSent", "DistributionId"')
        errs = check(tpl)
        self.assertTrue(any("DashboardBody" in e and "'BytesSent' is not one the function emits" in e for e in errs), errs)
        self.assertTrue(any("DashboardBody" in e and "dimension 'DistributionId'" in e for e in errs), errs)
        # ...and the metric the code emits is now shown nowhere.
        self.assertTrue(any("emits 'BytesDownloaded', but no dashboard widget or alarm shows it" in e for e in errs), errs)

    def test_a_metric_the_code_no_longer_emits(self):
        names = copy.deepcopy(NAMES)
        names["metrics"].remove("Latency")
        errs = check(names=names)
        self.assertTrue(any("AlarmLatencyP95" in e and "'Latency' is not one the function emits" in e for e in errs), errs)

    def test_literal_namespace_and_foreign_namespace(self):
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["Alarm4xxRate"]["Properties"]["Namespace"] = "CloudFront/RealTime"
        tpl["Resources"]["AlarmIteratorAge"]["Properties"]["Namespace"] = "Custom/Lambda"
        errs = check(tpl)
        self.assertTrue(any("Alarm4xxRate" in e and "use !Ref MetricsNamespace" in e for e in errs), errs)
        self.assertTrue(any("AlarmIteratorAge" in e and "unknown namespace 'Custom/Lambda'" in e for e in errs), errs)

    def test_namespace_default_drift(self):
        tpl = copy.deepcopy(TPL)
        tpl["Parameters"]["MetricsNamespace"]["Default"] = "CloudFront/Realtime"
        errs = check(tpl)
        self.assertTrue(any("MetricsNamespace: default 'CloudFront/Realtime'" in e for e in errs), errs)

    def test_extra_environment_variable(self):
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"]["CFLOG_BATCH_LIMIT"] = "5"
        errs = check(tpl)
        self.assertTrue(any("CFLOG_BATCH_LIMIT is not one the function reads" in e for e in errs), errs)

    def test_layout_set_twice(self):
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"]["CFLOG_FIELDS"] = "timestamp"
        errs = check(tpl)
        self.assertTrue(any("exactly one of CFLOG_FIELDS and CFLOG_REALTIME_LOG_CONFIG" in e for e in errs), errs)

    def test_table_layout_drift(self):
        tpl = copy.deepcopy(TPL)
        props = tpl["Resources"]["RollupTable"]["Properties"]
        props["TimeToLiveSpecification"]["AttributeName"] = "ttl"
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False
        errs = check(tpl)
        self.assertTrue(any("TTL must be enabled on 'expires_at'" in e for e in errs), errs)
        self.assertTrue(any("point-in-time recovery" in e for e in errs), errs)

    def test_unknown_realtime_field(self):
        tpl = copy.deepcopy(TPL)
        tpl["Parameters"]["RealtimeLogFields"]["Default"] = "timestamp,sc-status,x-edge-location"
        errs = check(tpl)
        self.assertTrue(any("without x-host-header" in e for e in errs), errs)
        tpl["Parameters"]["RealtimeLogFields"]["Default"] = "timestamp,x-host-header,status"
        errs = check(tpl)
        self.assertTrue(any("'status' is not a real-time log field" in e for e in errs), errs)


class Privilege(unittest.TestCase):
    def test_wildcard_action(self):
        tpl = copy.deepcopy(TPL)
        statements(tpl, "ProcessorRole")[4]["Action"] = ["dynamodb:*"]
        errs = check(tpl)
        self.assertTrue(any("wildcard action dynamodb:*" in e for e in errs), errs)

    def test_star_resource_and_star_principal(self):
        tpl = copy.deepcopy(TPL)
        statements(tpl, "ProcessorRole")[4]["Resource"] = "*"
        tpl["Resources"]["FailureQueuePolicy"] = {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": "FailureQueue"}],
                "PolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}]},
            },
        }
        errs = check(tpl)
        self.assertTrue(any('Resource "*" for dynamodb:GetItem, dynamodb:UpdateItem' in e for e in errs), errs)
        self.assertTrue(any("FailureQueuePolicy" in e and 'Principal "*"' in e for e in errs), errs)

    def test_metrics_without_namespace_condition(self):
        tpl = copy.deepcopy(TPL)
        st = statements(tpl, "ProcessorRole")[5]["Fn::If"][1]
        del st["Condition"]
        errs = check(tpl)
        self.assertTrue(any('Resource "*" without a cloudwatch:namespace condition' in e for e in errs), errs)

    def test_extra_and_missing_grants(self):
        tpl = copy.deepcopy(TPL)
        sts = statements(tpl, "ProcessorRole")
        sts[4]["Action"] = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        del sts[3]  # the layout statement
        errs = check(tpl)
        self.assertTrue(any("grants dynamodb:DeleteItem, which ProcessorFunction never calls" in e for e in errs), errs)
        self.assertTrue(any("needs cloudfront:GetRealtimeLogConfig on ['RealtimeLogConfig'], not granted" in e for e in errs), errs)

    def test_grant_on_the_wrong_resource(self):
        tpl = copy.deepcopy(TPL)
        statements(tpl, "ProcessorRole")[1]["Resource"] = [{"Fn::GetAtt": ["SourceStream", "Arn"]}, {"Fn::GetAtt": ["EnrichedStream", "Arn"]}]
        errs = check(tpl)
        self.assertTrue(any("kinesis:GetRecords granted on ['EnrichedStream', 'SourceStream']" in e for e in errs), errs)

    def test_literal_arn_and_unknown_action(self):
        tpl = copy.deepcopy(TPL)
        st = statements(tpl, "RealtimeLogRole")[0]
        st["Resource"] = "arn:aws:kinesis:us-east-1:123456789012:stream/other"
        st["Action"] = st["Action"] + ["kinesis:PutRecordz"]
        errs = check(tpl)
        self.assertTrue(any("is not a resource this template creates" in e for e in errs), errs)
        self.assertTrue(any("kinesis:PutRecordz is not an action" in e for e in errs), errs)

    def test_code_drift_new_sdk_call(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "src"
            shutil.copytree(SRC, src)
            aws = src / "aws.rs"
            text = aws.read_text()
            marker = "impl StateStore for DynamoState {"
            self.assertIn(marker, text)
            text = text.replace(
                marker,
                marker
                + "\n    async fn forget(&self) -> Result<(), SinkError> {\n"
                + "        self.client.delete_item().table_name(&self.table).send().await.map(|_| ()).map_err(SinkError::from_err)\n    }\n",
            )
            aws.write_text(text)
            code = ct.scan_code(src)
            self.assertIn("dynamodb:DeleteItem", code.actions)
            errs = check(code=code)
            self.assertTrue(any("calls aws_sdk_dynamodb .delete_item() (dynamodb:DeleteItem), which names::iam does not list" in e for e in errs), errs)

    def test_code_drift_unattributed_request(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "src"
            shutil.copytree(SRC, src)
            aws = src / "aws.rs"
            # Before the first impl, not at the end: code after `#[cfg(test)]` is not scanned.
            marker = "impl StateStore for DynamoState {"
            text = aws.read_text()
            self.assertIn(marker, text)
            sneaky = "async fn sneaky(c: &aws_sdk_kinesis::Client) { let _ = c.delete_stream().send().await; }\n\n"
            aws.write_text(text.replace(marker, sneaky + marker, 1))
            errs = check(code=ct.scan_code(src))
            self.assertTrue(any(".send() calls but" in e for e in errs), errs)

    def test_search_expression_with_a_bogus_metric_or_dimension(self):
        tpl = copy.deepcopy(TPL)
        body = dashboard_parts(tpl)[1]["Fn::If"][1]
        self.assertIn('MetricName=\\"TaggedRecords\\"', body["Fn::Sub"])
        body["Fn::Sub"] = (
            body["Fn::Sub"]
            .replace('MetricName=\\"TaggedRecords\\"', 'MetricName=\\"TaggedRecordz\\"')
            .replace(",TagKey,TagValue}", ",TagKey,TagVal}")
        )
        errs = check(tpl)
        self.assertTrue(any("'TaggedRecordz' is not one the function emits" in e for e in errs), errs)
        self.assertTrue(any("dimension 'TagVal' is not one the function emits" in e for e in errs), errs)

    def test_names_listing_an_action_the_code_does_not_make(self):
        names = copy.deepcopy(NAMES)
        names["iam"]["TABLE"] = names["iam"]["TABLE"] + ["dynamodb:TransactWriteItems"]
        names["aws_actions"] = names["aws_actions"] + ["dynamodb:TransactWriteItems"]
        errs = check(names=names)
        self.assertTrue(any("names::iam lists dynamodb:TransactWriteItems, but no SDK call" in e for e in errs), errs)
        self.assertTrue(any("dynamodb:TransactWriteItems is not an action of the IAM service reference" in e for e in errs), errs)


class Hygiene(unittest.TestCase):
    def test_streams_encrypted_with_the_aws_managed_key(self):
        tpl = copy.deepcopy(TPL)
        del tpl["Resources"]["SourceStream"]["Properties"]["StreamEncryption"]
        tpl["Resources"]["EnrichedStream"]["Properties"]["StreamEncryption"]["KeyId"] = "arn:aws:kms:us-east-1:123456789012:key/1234abcd"
        errs = check(tpl)
        self.assertTrue(any("Resources.SourceStream: the stream must be encrypted at rest" in e for e in errs), errs)
        self.assertTrue(any("Resources.EnrichedStream: StreamEncryption.KeyId" in e and "kms:GenerateDataKey" in e for e in errs), errs)

    def test_failure_queue_encrypted(self):
        tpl = copy.deepcopy(TPL)
        del tpl["Resources"]["FailureQueue"]["Properties"]["SqsManagedSseEnabled"]
        errs = check(tpl)
        self.assertTrue(any("Resources.FailureQueue: the queue must be encrypted at rest" in e for e in errs), errs)
        tpl["Resources"]["FailureQueue"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sqs"
        tpl["Resources"]["FailureQueue"]["Properties"]["SqsManagedSseEnabled"] = True
        errs = check(tpl)
        self.assertTrue(any("Resources.FailureQueue: the queue must be encrypted at rest" in e for e in errs), errs)

    def test_cloudfront_trust_tied_to_this_account(self):
        tpl = copy.deepcopy(TPL)
        self.assertEqual(trust(tpl, "RealtimeLogRole")["Condition"], {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
        del trust(tpl, "RealtimeLogRole")["Condition"]
        errs = check(tpl)
        self.assertTrue(any("RealtimeLogRole.AssumeRolePolicyDocument" in e and "confused deputy" in e for e in errs), errs)
        trust(tpl, "RealtimeLogRole")["Condition"] = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
        errs = check(tpl)
        self.assertTrue(any("aws:SourceAccount must be !Ref AWS::AccountId" in e for e in errs), errs)

    def test_firehose_trust_tied_to_this_account(self):
        tpl = copy.deepcopy(TPL)
        del trust(tpl, "EnrichedArchiveRole")["Condition"]
        errs = check(tpl)
        self.assertTrue(any("EnrichedArchiveRole.AssumeRolePolicyDocument" in e and "sts:ExternalId or aws:SourceAccount" in e for e in errs), errs)

    def test_a_distribution_of_the_template_must_be_the_source_arn(self):
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["Distribution"] = {"Type": "AWS::CloudFront::Distribution", "Properties": {}}
        errs = check(tpl)
        self.assertTrue(any("creates Distribution: require its ARN as aws:SourceArn" in e for e in errs), errs)
        trust(tpl, "RealtimeLogRole")["Condition"]["ArnEquals"] = {
            "aws:SourceArn": {"Fn::Sub": "arn:aws:cloudfront::${AWS::AccountId}:distribution/${Distribution}"}
        }
        errs = check(tpl)
        self.assertFalse(any("aws:SourceArn" in e for e in errs), errs)


class Rules(unittest.TestCase):
    def test_plugins_without_a_layer(self):
        tpl = copy.deepcopy(TPL)
        del tpl["Resources"]["ProcessorFunction"]["Properties"]["Layers"]
        errs = check(tpl)
        self.assertTrue(any("ProcessorFunction: CFLOG_PLUGINS is set but no rules layer is attached" in e for e in errs), errs)

    def test_plugins_set_without_rules(self):
        tpl = copy.deepcopy(TPL)
        env(tpl)["CFLOG_PLUGINS"] = "/opt/cflog-rules"
        errs = check_scenarios(tpl)
        self.assertTrue(any("CFLOG_PLUGINS is set but no rules layer" in e and without_rules(s) for e, s in errs.items()), errs)

    def test_a_layer_without_plugins(self):
        tpl = copy.deepcopy(TPL)
        del env(tpl, "TransformFunction")["CFLOG_PLUGINS"]
        errs = check(tpl)
        self.assertTrue(any("TransformFunction: a layer is attached but CFLOG_PLUGINS is unset" in e for e in errs), errs)

    def test_plugins_outside_the_layer_root(self):
        tpl = copy.deepcopy(TPL)
        env(tpl)["CFLOG_PLUGINS"]["Fn::If"][1] = "/var/task/rules"
        errs = check(tpl)
        self.assertTrue(any("CFLOG_PLUGINS entry '/var/task/rules' is not under /opt/" in e for e in errs), errs)

    def test_the_layer_build_fills_the_plugin_directory(self):
        tpl = copy.deepcopy(TPL)
        env(tpl)["CFLOG_PLUGINS"]["Fn::If"][1] = "/opt/rules"
        errs = check(tpl)
        self.assertTrue(any("does not fill $(ARTIFACTS_DIR)/rules, so /opt/rules (CFLOG_PLUGINS) would be missing" in e for e in errs), errs)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "Makefile").write_text("build-OtherLayer:\n\tmkdir -p $(ARTIFACTS_DIR)/cflog-rules\n")
            tpl = copy.deepcopy(TPL)
            tpl["Resources"]["RulesLayer"]["Properties"]["ContentUri"] = tmp
            errs = check(tpl)
            self.assertTrue(any("has no build-RulesLayer target" in e for e in errs), errs)

    def test_a_layer_from_elsewhere(self):
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["ProcessorFunction"]["Properties"]["Layers"][1]["Fn::If"][1] = "arn:aws:lambda:us-east-1:123456789012:layer:x:1"
        errs = check(tpl)
        self.assertTrue(any("must be a layer version of this template or a parameter" in e for e in errs), errs)

    def test_tag_widget_only_with_rules(self):
        tpl = copy.deepcopy(TPL)
        parts = dashboard_parts(tpl)
        parts[1] = parts[1]["Fn::If"][1]  # always shown
        errs = check_scenarios(tpl)
        self.assertTrue(
            any("shows 'TaggedRecords', which the function emits only with CFLOG_PLUGINS set" in e and without_rules(s) for e, s in errs.items()),
            errs,
        )
        parts[1] = ""  # never shown
        errs = check(tpl)
        self.assertTrue(any("emits 'TaggedRecords', but no dashboard widget or alarm shows it" in e for e in errs), errs)

    def test_late_records_on_the_dashboard(self):
        code = code_emitting("LateRecords")
        self.assertFalse(any("LateRecords" in e for e in check(code=code)))
        tpl = copy.deepcopy(TPL)
        body = dashboard_parts(tpl)[0]
        self.assertIn('"LateRecords", "Distribution"', body["Fn::Sub"])
        body["Fn::Sub"] = body["Fn::Sub"].replace('"LateRecords", "Distribution"', '"ParseErrors", "Distribution"')
        errs = check(tpl, code=code)
        self.assertTrue(any("emits 'LateRecords', but no dashboard widget or alarm shows it" in e for e in errs), errs)


class BehaviorAlarms(unittest.TestCase):
    """Issue 14: one 5xx-rate alarm per cache behavior named in AlarmBehaviors (up to three
    slots), gated on the behavior's own requests. The scenarios run AlarmBehaviors at its
    default (empty: no alarm); these run it with behaviors named."""

    @staticmethod
    def with_behaviors(value: str) -> dict:
        tpl = copy.deepcopy(TPL)
        tpl["Parameters"]["AlarmBehaviors"]["Default"] = value
        return tpl

    def test_slots_follow_the_list(self):
        from template_model import eval_condition

        for value, on in [("", []), ("/api/*", [1]), ("/api/*,/images/*", [1, 2]), ("/api/*,/images/*,*", [1, 2, 3])]:
            tpl = self.with_behaviors(value)
            self.assertEqual([i for i in (1, 2, 3) if eval_condition(tpl, f"HasBehaviorAlarm{i}", {})], on, value)

    def test_the_alarms_check_clean_and_watch_their_behavior(self):
        tpl = self.with_behaviors("/api/*,/images/*,*")
        self.assertEqual(check(tpl), [])
        for i in (1, 2, 3):
            props = tpl["Resources"][f"AlarmBehavior{i}5xxRate"]["Properties"]
            stats = {q["Id"]: q["MetricStat"]["Metric"] for q in props["Metrics"] if "MetricStat" in q}
            self.assertEqual({k: m["MetricName"] for k, m in stats.items()}, {"req": "Requests", "rate": "5xxErrorRate"})
            for m in stats.values():
                self.assertEqual([d["Name"] for d in m["Dimensions"]], ["Distribution", "CacheBehavior"])
                self.assertEqual(m["Dimensions"][1]["Value"], {"Fn::Select": [i - 1, {"Fn::Split": [",", {"Fn::Sub": "${AlarmBehaviors},,"}]}]})
            gated = [q for q in props["Metrics"] if q.get("ReturnData")]
            self.assertEqual([q["Expression"] for q in gated], [{"Fn::Sub": "IF(req >= ${AlarmBehaviorMinRequestsPerMinute}, rate)"}])

    def test_a_bogus_dimension_in_a_behavior_alarm(self):
        tpl = self.with_behaviors("/api/*")
        tpl["Resources"]["AlarmBehavior15xxRate"]["Properties"]["Metrics"][1]["MetricStat"]["Metric"]["Dimensions"][1]["Name"] = "PathPattern"
        errs = check(tpl)
        self.assertTrue(any("AlarmBehavior15xxRate.Metrics[1]" in e and "dimension 'PathPattern'" in e for e in errs), errs)


class Notifier(unittest.TestCase):
    """Issue 14: the alarm notifier (CFLOG_MODE=notify)."""

    def test_notifier_grants_exactly_query_and_publish(self):
        tpl = copy.deepcopy(TPL)
        sts = statements(tpl, "NotifierRole")
        sts[1]["Action"] = ["dynamodb:Query", "dynamodb:Scan"]
        del sts[2]  # sns:Publish
        errs = check(tpl)
        self.assertTrue(any("grants dynamodb:Scan, which NotifierFunction never calls" in e for e in errs), errs)
        self.assertTrue(any("NotifierFunction needs sns:Publish on ['NotificationTopic'], not granted" in e for e in errs), errs)

    def test_only_the_alarm_topic_may_invoke_it(self):
        tpl = copy.deepcopy(TPL)
        del tpl["Resources"]["NotifierInvokePermission"]["Properties"]["SourceArn"]
        errs = check(tpl)
        self.assertTrue(any("needs an AWS::Lambda::Permission for sns.amazonaws.com with SourceArn AlarmTopic" in e for e in errs), errs)
        self.assertTrue(any("without a SourceArn of its topic" in e for e in errs), errs)

    def test_publishing_to_the_invoking_topic_is_a_loop(self):
        tpl = copy.deepcopy(TPL)
        env(tpl, "NotifierFunction")["CFLOG_NOTIFY_TOPIC"] = {"Ref": "AlarmTopic"}
        statements(tpl, "NotifierRole")[2]["Resource"] = {"Ref": "AlarmTopic"}
        errs = check(tpl)
        self.assertTrue(any("must not be the topic that invokes it (a loop)" in e for e in errs), errs)

    def test_notifier_without_subscription(self):
        tpl = copy.deepcopy(TPL)
        del tpl["Resources"]["NotifierSubscription"]
        errs = check(tpl)
        self.assertTrue(any("needs an SNS subscription (Protocol lambda)" in e for e in errs), errs)


class SamConfig(unittest.TestCase):
    def test_the_shipped_samconfig_is_complete(self):
        self.assertEqual([e for e in check() if "samconfig" in e], [])

    def test_samconfig_drift(self):
        cfg = copy.deepcopy(SAMCONFIG)
        del cfg["default"]["build"]["parameters"]["beta_features"]
        deploy = cfg["default"]["deploy"]["parameters"]
        deploy["confirm_changeset"] = True
        deploy["capabilities"] = ""
        del deploy["resolve_s3"]
        del cfg["default"]["global"]
        errs = check(samconfig=cfg)
        for needle in (
            "[default.build.parameters] beta_features = true is missing",
            "capabilities must include CAPABILITY_IAM",
            "needs resolve_s3 = true",
            "confirm_changeset = false",
            "no stack_name",
        ):
            self.assertTrue(any(needle in e for e in errs), (needle, errs))

    def test_named_iam_only_when_needed(self):
        cfg = copy.deepcopy(SAMCONFIG)
        cfg["default"]["deploy"]["parameters"]["capabilities"] = "CAPABILITY_IAM CAPABILITY_NAMED_IAM"
        errs = check(samconfig=cfg)
        self.assertTrue(any("CAPABILITY_NAMED_IAM is not needed" in e for e in errs), errs)
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["ProcessorRole"]["Properties"]["RoleName"] = "cflog-processor"
        errs = check(tpl)
        self.assertTrue(any("must include CAPABILITY_NAMED_IAM (ProcessorRole" in e for e in errs), errs)

    def test_missing_samconfig(self):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(TEMPLATE, Path(tmp) / "template.yaml")
            errs = ct.run(Path(tmp) / "template.yaml", NAMES, SRC, CRATE)
            self.assertTrue(any("samconfig.toml: missing" in e for e in errs), errs)


class Mapping(unittest.TestCase):
    def test_unbounded_retries_and_no_partial_failures(self):
        tpl = copy.deepcopy(TPL)
        props = tpl["Resources"]["ProcessorEventSourceMapping"]["Properties"]
        props["MaximumRetryAttempts"] = -1
        props["FunctionResponseTypes"] = []
        props["BisectBatchOnFunctionError"] = False
        del props["DestinationConfig"]
        errs = check(tpl)
        for needle in ("MaximumRetryAttempts must be bounded", "ReportBatchItemFailures", "BisectBatchOnFunctionError", "OnFailure.Destination"):
            self.assertTrue(any(needle in e for e in errs), (needle, errs))

    def test_record_age_parameter_must_be_bounded(self):
        tpl = copy.deepcopy(TPL)
        del tpl["Parameters"]["MaximumRecordAgeSeconds"]["MaxValue"]
        errs = check(tpl)
        self.assertTrue(any("MaximumRecordAgeInSeconds parameter MaximumRecordAgeSeconds must be bounded" in e for e in errs), errs)

    def test_build_properties(self):
        tpl = copy.deepcopy(TPL)
        fn = tpl["Resources"]["ProcessorFunction"]
        fn["Metadata"]["BuildProperties"]["Binary"] = "cflog-lambda"
        fn["Properties"]["Architectures"] = ["x86_64"]
        fn["Properties"]["CodeUri"] = "../host-lambda"
        errs = check(tpl)
        for needle in ("Binary must be 'bootstrap'", "Architectures must be [arm64]", "CodeUri '../host-lambda' must be the Cargo workspace root"):
            self.assertTrue(any(needle in e for e in errs), (needle, errs))


class Helpers(unittest.TestCase):
    def test_sub_placeholders(self):
        text = '{"a": "${X}", "b": ${Y}, "c": "p ${Z.Attr} q", "d": "${!Literal}"}'
        self.assertEqual(
            json.loads(ct.sub_placeholders(text)),
            {"a": "__SUB_X__", "b": 0, "c": "p __SUB_Z.Attr__ q", "d": "${!Literal}"},
        )

    def test_build_output(self):
        def elf(machine: int) -> bytes:
            return b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + (2).to_bytes(2, "little") + machine.to_bytes(2, "little") + bytes(44)

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "lambda" / "bootstrap"
            out.mkdir(parents=True)
            errs = ct.check_build_output(TPL, Path(tmp), BIN)
            self.assertTrue(any("neither bootstrap nor bootstrap.zip" in e for e in errs), errs)
            for machine, ok in ((0x3E, False), (0xB7, True)):  # x86-64, AArch64
                with zipfile.ZipFile(out / "bootstrap.zip", "w") as z:
                    info = zipfile.ZipInfo("bootstrap")
                    info.external_attr = 0o755 << 16
                    z.writestr(info, elf(machine))
                errs = ct.check_build_output(TPL, Path(tmp), BIN)
                self.assertEqual(errs == [], ok, errs)


if __name__ == "__main__":
    unittest.main()
