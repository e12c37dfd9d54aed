"""Checks of the metrics in the template's alarms and dashboard for deploy/check_template.py:
each is one the function emits (names::metric, with its dimensions) or a known AWS metric,
in the MetricsNamespace parameter; every emitted metric is shown. A mixin of
check_template.Checker (it reports through self.e).
"""

from __future__ import annotations

import functools
import json
import re

from template_model import AWS_METRICS, FUNCTION_TYPES, METRIC_NEEDS_ENV, as_list


# Metrics that are rates or percentiles of the logged requests: their alarms must be gated
# on the Requests floor (the parameter below), and each but 404Rate keeps an alarm in every
# configuration.
TRAFFIC_METRICS = {"5xxErrorRate", "4xxErrorRate", "404Rate", "Latency", "CacheMissRate"}
TRAFFIC_ALARMED = TRAFFIC_METRICS - {"404Rate"}
GATE_PARAMETER = "AlarmMinRequestsPerMinute"
BEHAVIOR_GATE_PARAMETER = "AlarmBehaviorMinRequestsPerMinute"


class MetricChecks:
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
        self.check_traffic_alarms(inst)
        for m in sorted(self.code.metrics_used - self.seen_metrics):
            needs = METRIC_NEEDS_ENV.get(m)
            if needs and needs not in self.active_env:
                continue  # not emitted in this configuration
            self.e(f"Resources: the function emits {m!r}, but no dashboard widget or alarm shows it")

    def check_traffic_alarms(self, inst):
        """Issue 14: every alarm on a traffic metric (a rate or a percentile of the logged
        requests) ignores quiet minutes, gated on the Requests floor with metric math, and
        whichever AlarmThresholds is chosen, each such metric keeps an alarm."""
        alarmed: set[str] = set()
        for lid, r in inst["Resources"].items():
            if r.get("Type") != "AWS::CloudWatch::Alarm":
                continue
            props = r.get("Properties", {})
            names = {props.get("MetricName")} | {q.get("MetricStat", {}).get("Metric", {}).get("MetricName") for q in props.get("Metrics", [])}
            traffic = names & TRAFFIC_METRICS
            if not traffic:
                continue
            alarmed |= traffic
            w = f"Resources.{lid}"
            ids = {q.get("MetricStat", {}).get("Metric", {}).get("MetricName"): q.get("Id") for q in props.get("Metrics", [])}
            req = ids.get("Requests")
            # A per-behavior alarm (issue 14) is gated on its behavior's own requests.
            req_dims = {d.get("Name") for q in props.get("Metrics", []) if q.get("Id") == req
                        for d in q.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])}
            floor = BEHAVIOR_GATE_PARAMETER if "CacheBehavior" in req_dims else GATE_PARAMETER
            gate = re.compile(r"^IF\(" + re.escape(str(req)) + r" >= \$\{" + floor + r"\}, ")
            gated = [q for q in props.get("Metrics", []) if q.get("ReturnData") and "Expression" in q
                     and not str(self.sub_text(q["Expression"])).startswith("ANOMALY_DETECTION_BAND")]
            if req is None or len(gated) != 1 or not gate.match(self.sub_text(gated[0]["Expression"]) or ""):
                self.e(f"{w}: an alarm on {', '.join(sorted(traffic))} must return IF({req or 'requests'} >= ${{{floor}}}, ...) "
                       "over the Requests metric, so a quiet minute's few requests cannot page")
        for m in sorted(TRAFFIC_ALARMED - alarmed):
            self.e(f"Resources: no alarm watches {m} in this configuration (AlarmThresholds must leave one)")

    @staticmethod
    def sub_text(expr) -> str | None:
        """The text of a literal or !Sub expression."""
        return sub_text(expr)

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


def sub_text(expr) -> str | None:
    """The text of a literal or !Sub expression (the template of a !Sub with variables)."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, dict) and set(expr) == {"Fn::Sub"}:
        s = expr["Fn::Sub"]
        s = s[0] if isinstance(s, list) and s else s
        return s if isinstance(s, str) else None
    return None


def dashboard_text(body) -> str | None:
    """The dashboard JSON of a string, !Sub or !Join of those (after Fn::If is resolved)."""
    text = sub_text(body)
    if text is not None:
        return text
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
