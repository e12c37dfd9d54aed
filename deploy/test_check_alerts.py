"""Tests of the deploy checker's alert rules (issue 14): every alarm on a traffic rate or
percentile is gated on the Requests floor, AlarmThresholds never leaves a traffic metric
without an alarm, and 404Rate (which only the 404-excluding 4xx alarms use) stays on the
dashboard. The helpers are deploy/test_check_template.py's.

    CFLOG_NAMES_JSON=path/to/names.json .venv/bin/python -m unittest deploy/test_check_alerts.py
"""

from __future__ import annotations

import collections
import copy
import json
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_template as ct  # noqa: E402
import template_model as tm  # noqa: E402
from test_check_template import TPL, check_scenarios, dashboard_parts  # noqa: E402


class AlarmOnlyParameters(unittest.TestCase):
    def test_the_alarm_switches_are_cycled_not_multiplied(self):
        self.assertEqual(tm.metrics_only_params(TPL), {"AlarmThresholds", "AlarmRatesExclude404"})
        seen = collections.Counter((s["AlarmThresholds"], s["AlarmRatesExclude404"]) for s in ct.scenarios(TPL))
        self.assertEqual(set(seen), {(t, x) for t in ("both", "anomaly", "static") for x in ("true", "false")})
        # ...each meeting every value of the others, e.g. every OpenSearchMode.
        modes = {(s["AlarmThresholds"], s["AlarmRatesExclude404"], s["OpenSearchMode"]) for s in ct.scenarios(TPL)}
        self.assertEqual(len(modes), 6 * 4)

    def test_a_parameter_that_also_switches_a_function_is_multiplied(self):
        tpl = copy.deepcopy(TPL)
        env = tpl["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
        env["CFLOG_LOG_LEVEL"] = {"Fn::If": ["Excludes404", "debug", "info"]}
        self.assertEqual(tm.metrics_only_params(tpl), {"AlarmThresholds"})
        self.assertEqual(len(ct.scenarios(tpl)), 2 * len(ct.scenarios(TPL)))


class AlarmSwitch(unittest.TestCase):
    def test_the_real_template_has_both_kinds_and_the_404_switch(self):
        params = TPL["Parameters"]
        self.assertEqual(sorted(params["AlarmThresholds"]["AllowedValues"]), ["anomaly", "both", "static"])
        self.assertEqual(TPL["Resources"]["Anomaly5xxRate"]["Condition"], "HasAnomalyAlarms")
        self.assertEqual(TPL["Resources"]["Alarm5xxRate"]["Condition"], "HasStaticAlarms")
        self.assertIn('"MetricName": "404Rate"', json.dumps(TPL["Resources"]["Alarm4xxRate"]["Properties"]["Metrics"]))

    def test_an_ungated_rate_alarm(self):
        tpl = copy.deepcopy(TPL)
        gated = tpl["Resources"]["Anomaly5xxRate"]["Properties"]["Metrics"][2]
        self.assertEqual(gated["Id"], "gated")
        gated["Expression"] = "rate"
        errs = check_scenarios(tpl)
        self.assertTrue(any("Anomaly5xxRate" in e and "IF(req >= ${AlarmMinRequestsPerMinute}" in e for e in errs), errs)

    def test_a_static_rate_alarm_without_the_requests_metric(self):
        tpl = copy.deepcopy(TPL)
        props = tpl["Resources"]["AlarmLatencyP95"]["Properties"]
        props["Metrics"] = [q for q in props["Metrics"] if q["Id"] != "req"]
        errs = check_scenarios(tpl)
        self.assertTrue(any("AlarmLatencyP95" in e and "over the Requests metric" in e for e in errs), errs)

    def test_a_switch_value_that_leaves_a_metric_unwatched(self):
        # The static latency alarm made anomaly-only: with AlarmThresholds=static nothing
        # watches Latency any more.
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["AlarmLatencyP95"]["Condition"] = "HasAnomalyAlarms"
        errs = check_scenarios(tpl)
        found = {e: s for e, s in errs.items() if "no alarm watches Latency" in e}
        self.assertTrue(found, errs)
        self.assertTrue(all("AlarmThresholds=static" in s for s in found.values()), found)

    def test_404_rate_shown_nowhere_when_the_alarms_count_every_4xx(self):
        tpl = copy.deepcopy(TPL)
        body = dashboard_parts(tpl)[0]
        line = '["${MetricsNamespace}", "404Rate", "Distribution", "${DistributionDomain}", {"label": "404 % (part of 4xx)"}]'
        self.assertIn(line, body["Fn::Sub"])
        body["Fn::Sub"] = re.sub(r",\s*" + re.escape(line), "", body["Fn::Sub"])
        errs = check_scenarios(tpl)
        found = {e: s for e, s in errs.items() if "emits '404Rate', but no dashboard widget or alarm shows it" in e}
        self.assertTrue(found, errs)
        self.assertTrue(all("AlarmRatesExclude404=false" in s or "AlarmThresholds" in s for s in found.values()), found)



def waf_statement(tpl):
    sts = tpl["Resources"]["ProcessorRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    return next(st for st in sts if isinstance(st, dict) and "Fn::If" in st and st["Fn::If"][0] == "HasWafSink")["Fn::If"][1]


def waf_only(errs: dict) -> dict:
    return {e: s for e, s in errs.items() if "EnableWafSink=true" in s}


class WafSink(unittest.TestCase):
    def test_the_real_template_grants_exactly_the_two_ip_sets(self):
        st = waf_statement(TPL)
        self.assertEqual(sorted(st["Action"]), ["wafv2:GetIPSet", "wafv2:UpdateIPSet"])
        self.assertEqual(st["Resource"], [{"Fn::GetAtt": ["SuspiciousIpSetV4", "Arn"]}, {"Fn::GetAtt": ["SuspiciousIpSetV6", "Arn"]}])
        rule = TPL["Rules"]["WafSinkNeedsUsEast1"]
        self.assertIn("us-east-1", json.dumps(rule["Assertions"]))

    def test_a_grant_on_one_set_only_or_wider(self):
        tpl = copy.deepcopy(TPL)
        waf_statement(tpl)["Resource"] = [{"Fn::GetAtt": ["SuspiciousIpSetV4", "Arn"]}]
        errs = waf_only(check_scenarios(tpl))
        self.assertTrue(any("wafv2:UpdateIPSet granted on ['SuspiciousIpSetV4']" in e and "SuspiciousIpSetV6" in e for e in errs), errs)
        tpl = copy.deepcopy(TPL)
        waf_statement(tpl)["Resource"] = "*"
        errs = check_scenarios(tpl)
        self.assertTrue(any('Resource "*" for wafv2:GetIPSet' in e for e in errs), errs)

    def test_a_missing_grant_and_an_extra_action(self):
        tpl = copy.deepcopy(TPL)
        waf_statement(tpl)["Action"] = ["wafv2:GetIPSet", "wafv2:UpdateIPSet", "wafv2:DeleteIPSet"]
        errs = waf_only(check_scenarios(tpl))
        self.assertTrue(any("grants wafv2:DeleteIPSet, which ProcessorFunction never calls" in e for e in errs), errs)
        tpl = copy.deepcopy(TPL)
        waf_statement(tpl)["Action"] = ["wafv2:GetIPSet"]
        errs = waf_only(check_scenarios(tpl))
        self.assertTrue(any("needs wafv2:UpdateIPSet on ['SuspiciousIpSetV4', 'SuspiciousIpSetV6'], not granted" in e for e in errs), errs)

    def test_a_regional_ip_set(self):
        tpl = copy.deepcopy(TPL)
        tpl["Resources"]["SuspiciousIpSetV6"]["Properties"]["Scope"] = "REGIONAL"
        errs = waf_only(check_scenarios(tpl))
        self.assertTrue(any("SuspiciousIpSetV6, which is not a CloudFront-scope" in e for e in errs), errs)

    def test_the_sink_metrics_are_on_the_dashboard_exactly_with_the_sink(self):
        tpl = copy.deepcopy(TPL)
        parts = dashboard_parts(tpl)
        waf = next(i for i, p in enumerate(parts) if isinstance(p, dict) and p.get("Fn::If", [None])[0] == "HasWafSink")
        parts[waf]["Fn::If"][1] = ""
        errs = check_scenarios(tpl)
        found = {e: s for e, s in errs.items() if "emits 'WouldBlock', but no dashboard widget" in e}
        self.assertTrue(found and all("EnableWafSink=true" in s for s in found.values()), errs)
        tpl = copy.deepcopy(TPL)
        parts = dashboard_parts(tpl)
        parts[waf] = parts[waf]["Fn::If"][1]  # shown without the sink too
        errs = check_scenarios(tpl)
        self.assertTrue(any("shows 'WouldBlock', which the function emits only with CFLOG_WAF_IP_SET set" in e for e in errs), errs)


if __name__ == "__main__":
    unittest.main()
