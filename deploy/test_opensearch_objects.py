"""Tests of deploy/opensearch/: the Dashboards saved objects reference only fields that
index-template.json maps, with types their aggregations accept; the lifecycle policy has
the shape OpenSearch's ISM plugin takes; install.sh sends them as the APIs expect.

No OpenSearch server can run here: install.sh is run against a small recording HTTP server
on 127.0.0.1 that answers as the OpenSearch and Dashboards APIs document (its answers are
written below), with CFLOG_OPENSEARCH_CLIENT="curl -sS" in place of awscurl.

    .venv/bin/python -m unittest deploy/test_opensearch_objects.py
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

HERE = Path(__file__).resolve().parent / "opensearch"
sys.path.insert(0, str(HERE))
import saved_objects  # noqa: E402

TEMPLATE = json.loads((HERE / "index-template.json").read_text())
OBJECTS = [json.loads(line) for line in (HERE / "saved-objects.ndjson").read_text().splitlines()]
POLICY = json.loads((HERE / "ism-policy.json").read_text())

NUMERIC = {"long", "integer", "short", "byte", "double", "float"}
# Aggregation -> the mapping types it takes.
AGG_TYPES = {
    "terms": {"keyword", "ip", "boolean", *NUMERIC},
    "date_histogram": {"date"},
    "percentiles": NUMERIC,
    "sum": NUMERIC,
    "avg": NUMERIC,
    "max": NUMERIC,
    "cardinality": {"keyword", "ip", *NUMERIC},
    "geohash_grid": {"geo_point"},
}


def mapped_type(path: str) -> str | None:
    """The mapping type of a field path (`a.b`, `x.keyword`, `_cflog.tags.KEY`), or None."""
    mappings = TEMPLATE["template"]["mappings"]
    for rule in mappings.get("dynamic_templates", []):
        (spec,) = rule.values()
        if re.fullmatch(re.escape(spec["path_match"]).replace(r"\*", "[^.]+"), path):
            return spec["mapping"]["type"]
    node = {"properties": mappings["properties"]}
    parts = path.split(".")
    i = 0
    while i < len(parts):
        props = node.get("properties", {})
        if parts[i] in props:
            node = props[parts[i]]
        elif parts[i] in node.get("fields", {}):
            node = node["fields"][parts[i]]
        else:
            return None
        i += 1
    return node.get("type")


def field_problems(objects: list[dict]) -> list[str]:
    """Every field an object uses, checked against the mapping; problems as text."""
    out = []

    def need(obj, field, types=None, what="uses"):
        t = mapped_type(field)
        if t is None:
            out.append(f"{obj['id']}: {what} {field!r}, which index-template.json does not map")
        elif types is not None and t not in types:
            out.append(f"{obj['id']}: {what} {field!r} ({t}), not one of {sorted(types)}")

    def query_fields(obj, source: str):
        q = json.loads(source).get("query", {}).get("query", "")
        for f in re.findall(r"([A-Za-z_@][\w@.\-]*)\s*:", q):
            need(obj, f, what="filters on")

    for obj in objects:
        a = obj["attributes"]
        if obj["type"] == "index-pattern":
            need(obj, a["timeFieldName"], {"date"}, "has time field")
            for spec in json.loads(a["fields"]):
                if not spec["name"].startswith("_") or "." in spec["name"]:
                    need(obj, spec["name"], what="lists")
        if obj["type"] == "visualization":
            state = json.loads(a["visState"])
            for agg in state["aggs"]:
                field = agg["params"].get("field")
                if agg["type"] == "count":
                    continue
                if field is None:
                    out.append(f"{obj['id']}: aggregation {agg['type']} without a field")
                    continue
                need(obj, field, AGG_TYPES.get(agg["type"], set()), f"aggregates ({agg['type']}) on")
        if obj["type"] == "search":
            for c in a["columns"]:
                need(obj, c, what="shows")
            for f, _ in a["sort"]:
                need(obj, f, {"date", "keyword", *NUMERIC}, "sorts on")
        source = a.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
        if source:
            query_fields(obj, source)
    return out


def reference_problems(objects: list[dict]) -> list[str]:
    out = []
    ids = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for ref in obj.get("references", []):
            if (ref["type"], ref["id"]) not in ids:
                out.append(f"{obj['id']}: reference {ref} to no object of the export")
        a = obj["attributes"]
        names = {r["name"] for r in obj.get("references", [])}
        source = a.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
        if source and obj["type"] != "dashboard" and json.loads(source).get("indexRefName") not in names:
            out.append(f"{obj['id']}: searchSourceJSON names no index pattern reference")
        if obj["type"] == "dashboard":
            for panel in json.loads(a["panelsJSON"]):
                if panel["panelRefName"] not in names:
                    out.append(f"{obj['id']}: panel {panel['panelIndex']} refers to nothing")
    return out


class SavedObjects(unittest.TestCase):
    def test_the_export_is_generated_from_the_index_template(self):
        self.assertEqual((HERE / "saved-objects.ndjson").read_text(), saved_objects.render(TEMPLATE), "run python3 deploy/opensearch/saved_objects.py")

    def test_what_the_issue_asks_for_is_there(self):
        by_type: dict[str, list] = {}
        for o in OBJECTS:
            by_type.setdefault(o["type"], []).append(o)
        self.assertEqual([o["attributes"]["title"] for o in by_type["index-pattern"]], TEMPLATE["index_patterns"])
        fields = {}
        for o in by_type["visualization"]:
            state = json.loads(o["attributes"]["visState"])
            fields[o["id"]] = (state["type"], [(g["type"], g["params"].get("field")) for g in state["aggs"]])
        self.assertIn(("date_histogram", "@timestamp"), fields["cflog-status-over-time"][1])
        self.assertIn(("terms", "_cflog.status_class"), fields["cflog-status-over-time"][1])
        self.assertIn(("percentiles", "time-taken"), fields["cflog-latency-percentiles"][1])
        self.assertIn(("terms", "_cflog.cache_hit"), fields["cflog-cache-hit-ratio"][1])
        for vid, field in [("cflog-top-uris", "cs-uri-stem.keyword"), ("cflog-top-clients", "c-ip"), ("cflog-top-referers", "cs-referer.keyword"), ("cflog-top-user-agents", "cs-user-agent.keyword")]:
            self.assertIn(("terms", field), fields[vid][1], vid)
        self.assertIn(("terms", "x-edge-location"), fields["cflog-errors-by-edge"][1])
        self.assertEqual(fields["cflog-edge-map"][0], "tile_map")
        self.assertIn(("geohash_grid", "_cflog.edge_point"), fields["cflog-edge-map"][1])
        (search,) = by_type["search"]
        self.assertEqual(json.loads(search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"], '_cflog.status_class : "5xx"')
        (dash,) = by_type["dashboard"]
        self.assertEqual(len(json.loads(dash["attributes"]["panelsJSON"])), len(by_type["visualization"]) + 1)

    def test_every_field_is_mapped_with_a_fitting_type(self):
        self.assertEqual(field_problems(OBJECTS), [])
        self.assertEqual(reference_problems(OBJECTS), [])

    def test_the_field_check_fails_on_mistakes(self):
        objs = copy.deepcopy(OBJECTS)
        uris = next(o for o in objs if o["id"] == "cflog-top-uris")
        state = json.loads(uris["attributes"]["visState"])
        state["aggs"][1]["params"]["field"] = "cs-uri-stem"  # text: not aggregatable
        uris["attributes"]["visState"] = json.dumps(state)
        lat = next(o for o in objs if o["id"] == "cflog-latency-percentiles")
        lat["attributes"]["visState"] = lat["attributes"]["visState"].replace('"time-taken"', '"latency"')
        search = next(o for o in objs if o["type"] == "search")
        search["attributes"]["columns"].append("x-edge-pop")
        search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"] = search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"].replace("_cflog.status_class", "_cflog.status")
        errs = field_problems(objs)
        self.assertIn("cflog-top-uris: aggregates (terms) on 'cs-uri-stem' (text), not one of", "\n".join(errs))
        self.assertIn("cflog-latency-percentiles: aggregates (percentiles) on 'latency', which index-template.json does not map", errs)
        self.assertIn("cflog-5xx: shows 'x-edge-pop', which index-template.json does not map", errs)
        self.assertIn("cflog-5xx: filters on '_cflog.status', which index-template.json does not map", errs)
        dash = next(o for o in objs if o["type"] == "dashboard")
        dash["references"][0]["id"] = "gone"
        self.assertTrue(any("to no object of the export" in e for e in reference_problems(objs)))

    def test_rule_tags_resolve_through_the_dynamic_template(self):
        self.assertEqual(mapped_type("_cflog.tags.bot"), "keyword")
        self.assertEqual(mapped_type("_cflog.labels.bot_score"), "double")
        self.assertIsNone(mapped_type("_cflog.tags.bot.kind"))  # why tag keys lose their dots


class LifecyclePolicy(unittest.TestCase):
    def test_shape(self):
        p = POLICY["policy"]
        states = {s["name"]: s for s in p["states"]}
        self.assertIn(p["default_state"], states)
        (transition,) = states[p["default_state"]]["transitions"]
        self.assertRegex(transition["conditions"]["min_index_age"], r"^[1-9][0-9]*d$")
        final = states[transition["state_name"]]
        self.assertEqual(final["actions"], [{"delete": {}}])
        self.assertEqual(final["transitions"], [])
        self.assertEqual(p["ism_template"][0]["index_patterns"], TEMPLATE["index_patterns"])


class Recorder(BaseHTTPRequestHandler):
    """Answers as OpenSearch / Dashboards document; records every request."""

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        srv = self.server
        srv.requests.append((self.command, unquote(self.path), body, dict(self.headers)))
        path = unquote(self.path).split("?")[0]
        if path == "/_index_template/cflog":
            return self.answer(*srv.template_answer)
        if path == "/_plugins/_ism/policies/cflog-retention":
            if self.command == "GET":
                if srv.policy_exists:
                    return self.answer(200, {"_id": "cflog-retention", "_version": 3, "_seq_no": 7, "_primary_term": 2, "policy": POLICY["policy"]})
                return self.answer(404, {"error": {"type": "status_exception", "reason": "Policy not found"}, "status": 404})
            return self.answer(200 if srv.policy_exists else 201, {"_id": "cflog-retention", "_version": 1, "_seq_no": 0, "_primary_term": 1, "policy": body})
        if path in ("/_plugins/_ism/add/cflog-*", "/_plugins/_ism/change_policy/cflog-*"):
            return self.answer(200, {"updated_indices": 0, "failures": False, "failed_indices": []})
        if path == "/_dashboards/api/saved_objects/_bulk_create":
            return self.answer(200, {"saved_objects": [dict(o, version="WzEsMV0=") for o in body]})
        return self.answer(404, {"error": f"no such API {path}"})

    do_GET = do_PUT = do_POST = handle_any


class Install(unittest.TestCase):
    def setUp(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        self.server.requests = []
        self.server.policy_exists = False
        self.server.template_answer = (200, {"acknowledged": True})
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def run_install(self, *args):
        env = dict(os.environ, CFLOG_OPENSEARCH_CLIENT="curl -sS")
        url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return subprocess.run(["bash", str(HERE / "install.sh"), "--endpoint", url, *args], capture_output=True, text=True, env=env, timeout=120)

    def test_first_install(self):
        out = self.run_install("--retention-days", "30")
        self.assertEqual(out.returncode, 0, out.stderr)
        calls = [(m, p) for m, p, _, _ in self.server.requests]
        self.assertEqual(
            calls,
            [
                ("PUT", "/_index_template/cflog"),
                ("GET", "/_plugins/_ism/policies/cflog-retention"),
                ("PUT", "/_plugins/_ism/policies/cflog-retention"),
                ("POST", "/_plugins/_ism/change_policy/cflog-*"),
                ("POST", "/_plugins/_ism/add/cflog-*"),
                ("POST", "/_dashboards/api/saved_objects/_bulk_create?overwrite=true"),
            ],
        )
        bodies = [b for _, _, b, _ in self.server.requests]
        self.assertEqual(bodies[0], TEMPLATE)
        self.assertEqual(bodies[2]["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"], "30d")
        self.assertEqual(bodies[3], {"policy_id": "cflog-retention"})
        self.assertEqual([(o["type"], o["id"]) for o in bodies[5]], [(o["type"], o["id"]) for o in OBJECTS])
        self.assertEqual(bodies[5][1]["attributes"], OBJECTS[1]["attributes"])
        # Dashboards refuses API writes without its XSRF header.
        self.assertEqual(self.server.requests[5][3].get("osd-xsrf"), "true")

    def test_update_uses_the_policy_sequence_number(self):
        self.server.policy_exists = True
        out = self.run_install()
        self.assertEqual(out.returncode, 0, out.stderr)
        puts = [p for m, p, _, _ in self.server.requests if m == "PUT" and "ism" in p]
        self.assertEqual(puts, ["/_plugins/_ism/policies/cflog-retention?if_seq_no=7&if_primary_term=2"])
        policy = next(b for m, p, b, _ in self.server.requests if m == "PUT" and "ism" in p)
        self.assertEqual(policy["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"], "14d")

    def test_a_refused_request_stops_it(self):
        self.server.template_answer = (400, {"error": {"type": "mapper_parsing_exception", "reason": "unknown type [geo_pointt]"}, "status": 400})
        out = self.run_install()
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("index template cflog failed", out.stderr)
        self.assertIn("geo_pointt", out.stderr)
        self.assertEqual(len(self.server.requests), 1)

    def test_serverless_gets_the_template_only(self):
        out = self.run_install("--serverless")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual([(m, p) for m, p, _, _ in self.server.requests], [("PUT", "/_index_template/cflog")])

    def test_bad_arguments(self):
        out = self.run_install("--retention-days", "0")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("--retention-days must be a positive number", out.stderr)
        self.assertEqual(self.server.requests, [])


if __name__ == "__main__":
    unittest.main()
