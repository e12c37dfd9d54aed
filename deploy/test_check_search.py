"""Tests of deploy/check_search.py (search and history in the template): the real template
passes in every OpenSearch mode, each kind of mistake the checks exist for is reported when
planted in a copy, the archive's partition query (jq) gives the partitions the Glue table
projects, and cfn-lint passes with each OpenSearch mode as the default.

    CFLOG_NAMES_JSON=path/to/names.json .venv/bin/python -m unittest deploy/test_check_search.py
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_search as cs  # noqa: E402
import check_template as ct  # noqa: E402
from test_check_template import TPL, check  # noqa: E402

MODES = ["off", "new-domain", "existing-domain", "serverless"]
# Parameters that do not touch search or history, pinned so a planted mistake is checked in
# the 2 x 2 x 4 combinations of the archive and OpenSearch switches only (fast).
PINNED = {
    "StreamMode": "ON_DEMAND",
    "MetricsOutput": "cloudwatch",
    "MetricDimensions": "none",
    "AlarmEmail": "",
    "BundleRules": "false",
    "RulesLayerArn": "",
}


def narrow(tpl=None, **more) -> dict:
    tpl = copy.deepcopy(tpl if tpl is not None else TPL)
    for name, value in {**PINNED, **more}.items():
        if name in tpl["Parameters"]:
            tpl["Parameters"][name]["AllowedValues"] = [value]
            tpl["Parameters"][name]["Default"] = value
    return tpl


def res(tpl, lid):
    return tpl["Resources"][lid]["Properties"]


def role_statements(tpl, role="SearchDeliveryRole"):
    return res(tpl, role)["Policies"][0]["PolicyDocument"]["Statement"]


def conditional(st):
    """The statement inside `!If [cond, statement, NoValue]`."""
    return st["Fn::If"][1] if "Fn::If" in st else st


def has(errs, *parts):
    return any(all(p in e for p in parts) for e in errs)


class RealTemplate(unittest.TestCase):
    def test_every_mode_is_checked_and_clean(self):
        values = {s.get("OpenSearchMode") for s in ct.scenarios(TPL)}
        self.assertEqual(values, set(MODES))
        self.assertEqual(check(narrow()), [])

    def test_each_mode_deploys_its_resources(self):
        def deployed(mode):
            inst = ct.instantiate(TPL, {"EnableEnrichedStream": "true", "OpenSearchMode": mode})
            return {lid for lid in inst["Resources"] if lid.startswith("Search")}

        self.assertEqual(deployed("off"), set())
        self.assertEqual(deployed("new-domain"), {"SearchDomain", "SearchLogStream", "SearchDeliveryRole", "SearchDomainDelivery"})
        self.assertEqual(deployed("existing-domain"), {"SearchLogStream", "SearchDeliveryRole", "SearchDomainDelivery"})
        self.assertEqual(
            deployed("serverless"),
            {"SearchLogStream", "SearchDeliveryRole", "SearchServerlessDelivery", "SearchCollectionAccess", "SearchCollectionRetention"},
        )
        # Without the enriched stream there is nothing to deliver (and a Rule fails the deploy).
        inst = ct.instantiate(TPL, {"EnableEnrichedStream": "false", "OpenSearchMode": "new-domain"})
        self.assertFalse({lid for lid in inst["Resources"] if lid.startswith("Search")})
        self.assertIn("OpenSearchNeedsTheEnrichedStream", TPL["Rules"])


class Domain(unittest.TestCase):
    def test_open_access_policy(self):
        # The recipe's policy: anyone, from anywhere.
        tpl = narrow()
        st = res(tpl, "SearchDomain")["AccessPolicies"]["Statement"][0]
        st["Principal"] = {"AWS": "*"}
        st["Condition"] = {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}
        errs = check(tpl)
        self.assertTrue(has(errs, "SearchDomain.AccessPolicies.Statement[0]", 'Principal "*"'), errs)
        self.assertTrue(has(errs, "SearchDomain.AccessPolicies.Statement[0]", "Condition"), errs)
        st["Principal"] = "*"
        self.assertTrue(has(check(tpl), "SearchDomain", 'Principal "*"'))

    def test_foreign_principal(self):
        tpl = narrow()
        res(tpl, "SearchDomain")["AccessPolicies"]["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::999999999999:root"}
        self.assertTrue(has(check(tpl), "SearchDomain", "neither this account", "nor a role of this template"))

    def test_encryption_and_tls(self):
        tpl = narrow()
        p = res(tpl, "SearchDomain")
        p["EncryptionAtRestOptions"]["Enabled"] = False
        del p["NodeToNodeEncryptionOptions"]
        p["DomainEndpointOptions"] = {"EnforceHTTPS": False, "TLSSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"}
        errs = check(tpl)
        for what in ("EncryptionAtRestOptions", "NodeToNodeEncryptionOptions", "EnforceHTTPS", "TLSSecurityPolicy"):
            self.assertTrue(has(errs, "Resources.SearchDomain", what), (what, errs))

    def test_no_access_control_at_all(self):
        tpl = narrow()
        del res(tpl, "SearchDomain")["AccessPolicies"]
        self.assertTrue(has(check(tpl), "SearchDomain", "neither fine-grained access control nor an IAM access policy"))


class DeliveryRole(unittest.TestCase):
    def test_extra_action_and_wildcard(self):
        tpl = narrow()
        conditional(role_statements(tpl)[2])["Action"] = ["es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]
        conditional(role_statements(tpl)[1])["Action"] = ["es:*"]
        errs = check(tpl)
        self.assertTrue(has(errs, "SearchDeliveryRole: grants es:ESHttpDelete, which its delivery stream never uses"), errs)
        self.assertTrue(has(errs, "wildcard action es:*"), errs)
        self.assertTrue(has(errs, "SearchDeliveryRole: its delivery stream needs es:DescribeDomain, not granted"), errs)

    def test_get_on_the_whole_domain(self):
        tpl = narrow()
        st = conditional(role_statements(tpl)[3])
        st["Resource"] = copy.deepcopy(conditional(role_statements(tpl)[2])["Resource"])  # "${Domain}/*"
        self.assertTrue(has(check(tpl), "SearchDeliveryRole: es:ESHttpGet granted on", "domain-get?"))

    def test_objects_of_the_whole_bucket(self):
        tpl = narrow()
        role_statements(tpl)[6]["Resource"] = {"Fn::Sub": "${ArchiveBucket.Arn}/*"}
        errs = check(tpl)
        self.assertTrue(has(errs, "SearchDeliveryRole: s3:PutObject granted on"), errs)

    def test_star_resource(self):
        tpl = narrow()
        conditional(role_statements(tpl)[2])["Resource"] = "*"
        errs = check(tpl)
        self.assertTrue(has(errs, 'Resource "*" for es:ESHttpPost, es:ESHttpPut'), errs)

    def test_missing_logs_and_existing_archive_roles_checked_too(self):
        tpl = narrow()
        del role_statements(tpl)[7]
        role_statements(tpl, "EnrichedArchiveRole")[1]["Action"].append("s3:DeleteObject")
        errs = check(tpl)
        self.assertTrue(has(errs, "SearchDeliveryRole: its delivery stream needs logs:PutLogEvents, not granted"), errs)
        self.assertTrue(has(errs, "EnrichedArchiveRole: grants s3:DeleteObject"), errs)

    def test_external_domain_of_another_account(self):
        tpl = narrow()
        st = conditional(role_statements(tpl)[1])
        st["Resource"]["Fn::If"][2] = {"Fn::Sub": "arn:aws:es:us-east-1:999999999999:domain/${OpenSearchDomainName}"}
        self.assertTrue(has(check(tpl), "must be arn:${AWS::Partition}:es:${AWS::Region}:${AWS::AccountId}:"))

    def test_foreign_action_on_the_collection(self):
        tpl = narrow()
        conditional(role_statements(tpl)[4])["Action"] = ["aoss:APIAccessAll", "s3:GetObject"]
        self.assertTrue(has(check(tpl), "s3:GetObject on a resource named by OpenSearchCollectionId"))


class Serverless(unittest.TestCase):
    def policy(self, tpl):
        return res(tpl, "SearchCollectionAccess")

    def test_open_data_access_policy(self):
        tpl = narrow()
        p = self.policy(tpl)
        text = p["Policy"]["Fn::Sub"]
        text = text.replace('"${SearchDeliveryRole.Arn}"', '"*"').replace('"aoss:WriteDocument"', '"aoss:*"')
        p["Policy"]["Fn::Sub"] = text.replace("cflog-*", "*")
        errs = check(tpl)
        self.assertTrue(has(errs, "SearchCollectionAccess", "principal '*'"), errs)
        self.assertTrue(has(errs, "SearchCollectionAccess", "permission 'aoss:*'"), errs)
        self.assertTrue(has(errs, "SearchCollectionAccess", "only index/COLLECTION/cflog-*"), errs)


class Destination(unittest.TestCase):
    def test_rotation_index_name_and_failed_documents(self):
        tpl = narrow()
        d = res(tpl, "SearchDomainDelivery")["AmazonopensearchserviceDestinationConfiguration"]
        d["IndexRotationPeriod"] = "NoRotation"
        d["IndexName"] = "logs"
        d["S3BackupMode"] = "None"
        errs = check(tpl)
        self.assertTrue(has(errs, "SearchDomainDelivery", "IndexRotationPeriod must be OneDay"), errs)
        self.assertTrue(has(errs, "SearchDomainDelivery", "'logs-2026-12-03' is not matched"), errs)
        self.assertTrue(has(errs, "SearchDomainDelivery", "failed documents"), errs)
        s = res(tpl, "SearchServerlessDelivery")["AmazonOpenSearchServerlessDestinationConfiguration"]
        s["IndexName"] = "cflog"
        self.assertTrue(has(check(tpl), "SearchServerlessDelivery", "'cflog' is not matched"))


class Table(unittest.TestCase):
    def table(self, tpl):
        return res(tpl, "ArchiveTable")["TableInput"]

    def test_columns_follow_the_index_template(self):
        tpl = narrow()
        sd = self.table(tpl)["StorageDescriptor"]
        sd["Columns"] = [c for c in sd["Columns"] if c["Name"] != "sc_bytes"]
        next(c for c in sd["Columns"] if c["Name"] == "time_taken")["Type"] = "string"
        sd["Columns"].append({"Name": "bogus", "Type": "string"})
        del sd["SerdeInfo"]["Parameters"]["mapping.cs_uri_stem"]
        errs = check(tpl)
        self.assertTrue(has(errs, "ArchiveTable: no column sc_bytes for the document field 'sc-bytes'"), errs)
        self.assertTrue(has(errs, "ArchiveTable: column time_taken is string, the field 'time-taken' is mapped as double"), errs)
        self.assertTrue(has(errs, "ArchiveTable: column bogus is not a document field"), errs)
        self.assertTrue(has(errs, "ArchiveTable: column cs_uri_stem needs SerDe mapping.cs_uri_stem = 'cs-uri-stem'"), errs)

    def test_a_new_document_field_needs_a_column(self):
        # The field list grows (the index template is regenerated from it): the table must follow.
        idx = copy.deepcopy(cs.load_index_template())
        idx["template"]["mappings"]["properties"]["x-new-field"] = {"type": "long"}
        idx["template"]["mappings"]["properties"]["_cflog"]["properties"]["verdict"] = {"type": "keyword"}
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "index-template.json"
            path.write_text(json.dumps(idx))
            old = cs.INDEX_TEMPLATE
            cs.INDEX_TEMPLATE = path
            try:
                errs = check(narrow())
            finally:
                cs.INDEX_TEMPLATE = old
        self.assertTrue(has(errs, "no column x_new_field for the document field 'x-new-field'"), errs)
        self.assertTrue(has(errs, "column cflog is struct<", "verdict:string"), errs)

    def test_partitions_match_the_delivery_stream(self):
        tpl = narrow()
        params = self.table(tpl)["Parameters"]
        params["projection.enabled"] = "false"
        del params["projection.hour.type"]
        errs = check(tpl)
        self.assertTrue(has(errs, "ArchiveTable: partition projection must be on"), errs)
        self.assertTrue(has(errs, "ArchiveTable: partition hour has no projection.hour.type"), errs)

        tpl = narrow()
        s3 = res(tpl, "EnrichedArchive")["ExtendedS3DestinationConfiguration"]
        s3["Prefix"] = s3["Prefix"].replace("/dt=", "/day=")
        self.assertTrue(has(check(tpl), "ArchiveTable: no delivery stream of this template writes"))

        tpl = narrow()
        s3 = res(tpl, "EnrichedArchive")["ExtendedS3DestinationConfiguration"]
        s3["CompressionFormat"] = "UNCOMPRESSED"
        query = s3["ProcessingConfiguration"]["Processors"][0]["Parameters"][0]
        query["ParameterValue"] = query["ParameterValue"].replace("hour:", "hr:")
        errs = check(tpl)
        self.assertTrue(has(errs, "EnrichedArchive: the archive must be GZIP"), errs)
        self.assertTrue(has(errs, "EnrichedArchive: the MetadataExtractionQuery yields"), errs)


class NamedQueries(unittest.TestCase):
    def set_query(self, text):
        tpl = narrow()
        res(tpl, "Query5xxByUri")["QueryString"] = {"Fn::Sub": text}
        return check(tpl)

    def test_every_query_parses_and_names_table_columns(self):
        queries = [lid for lid, r in TPL["Resources"].items() if r["Type"] == "AWS::Athena::NamedQuery"]
        self.assertEqual(len(queries), 5)
        for lid in queries:
            text = cs.sub_text(res(TPL, lid)["QueryString"])
            parsed = cs.parse_query(re.sub(r"\$\{[^}!]+\}", "x", text))
            self.assertIsInstance(parsed, tuple, (lid, parsed))
            self.assertEqual(parsed[0], ["records"], lid)

    def test_bad_queries(self):
        self.assertTrue(has(self.set_query("SELEC cs_uri_stem FROM records"), "Query5xxByUri: the query does not parse"))
        errs = self.set_query("SELECT cs_uri, count(*) AS n FROM records WHERE distribution = '${DistributionDomain}' GROUP BY cs_uri ORDER BY n")
        self.assertTrue(has(errs, "Query5xxByUri: column cs_uri is not in records"), errs)
        errs = self.set_query("SELECT cflog.cache_miss FROM records WHERE distribution = 'x'")
        self.assertTrue(has(errs, "Query5xxByUri: cflog.cache_miss: cflog has no field cache_miss"), errs)
        errs = self.set_query("SELECT count(*) FROM records")
        self.assertTrue(has(errs, "Query5xxByUri: the query must name its distribution"), errs)
        errs = self.set_query("SELECT count(*) FROM logs WHERE distribution = 'x'")
        self.assertTrue(has(errs, "Query5xxByUri: reads ['logs'], not a table of this template"), errs)


class PartitionQuery(unittest.TestCase):
    """The MetadataExtractionQuery Firehose runs (JQ-1.6), run by jq on documents as the
    processor writes them (host-lambda/src/process.rs: `enrich`, `bad_line_record`)."""

    def partitions(self, doc: dict) -> dict:
        s3 = res(TPL, "EnrichedArchive")["ExtendedS3DestinationConfiguration"]
        query = s3["ProcessingConfiguration"]["Processors"][0]["Parameters"][0]["ParameterValue"]
        self.assertEqual(query, res(TPL, "TransformArchive")["ExtendedS3DestinationConfiguration"]["ProcessingConfiguration"]["Processors"][1]["Parameters"][0]["ParameterValue"])
        self.assertIsNotNone(shutil.which("jq"), "jq is not installed (make setup-deploy installs it)")
        out = subprocess.run(["jq", "-c", query], input=json.dumps(doc), capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    def test_a_record_lands_in_its_own_hour(self):
        ts = "2026-12-03T23:59:59.999Z"
        doc = {"sc-status": 200, "@timestamp": ts, "_cflog": {"distribution": "d111111abcdef8.cloudfront.net", "status_class": "2xx"}}
        when = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
        self.assertEqual(
            self.partitions(doc),
            {"distribution": "d111111abcdef8.cloudfront.net", "dt": when.strftime("%Y-%m-%d"), "hour": when.strftime("%H")},
        )
        # ...and the table's projection accepts those values.
        params = res(TPL, "ArchiveTable")["TableInput"]["Parameters"]
        self.assertEqual(params["projection.dt.format"], "yyyy-MM-dd")
        lo, hi = (int(x) for x in params["projection.hour.range"].split(","))
        self.assertTrue(lo <= int(when.strftime("%H")) <= hi and len(when.strftime("%H")) == int(params["projection.hour.digits"]))

    def test_a_bad_line_has_no_time(self):
        doc = {"_cflog": {"error": "line 1: field 2 (c-ip): not an IP address", "line": "x\ty", "source": {"shard": "s", "seq": "1"}}}
        self.assertEqual(self.partitions(doc), {"distribution": "unknown", "dt": "unknown", "hour": "unknown"})


class Lint(unittest.TestCase):
    """cfn-lint with each OpenSearch mode as the default (cfn-lint reads parameter
    defaults), the enriched stream on and a collection given."""

    def test_cfn_lint_in_every_mode(self):
        lint = Path(sys.executable).parent / "cfn-lint"
        if not lint.exists():
            self.skipTest("cfn-lint is not in this venv (make setup-deploy)")
        text = ct.HERE.joinpath("template.yaml").read_text()

        def default(t, name, value):
            new, n = re.subn(rf"(\n  {name}:\n(?:    .*\n)*?    Default: )[^\n]*", lambda m: m.group(1) + value, t)
            self.assertEqual(n, 1, name)
            return new

        with tempfile.TemporaryDirectory() as d:
            paths = []
            for mode in MODES[1:]:
                t = default(text, "OpenSearchMode", mode)
                t = default(t, "EnableEnrichedStream", '"true"')
                t = default(t, "OpenSearchCollectionId", "a1b2c3d4e5")
                t = default(t, "OpenSearchCollectionName", "cflog-logs")
                paths.append(Path(d) / f"template-{mode}.yaml")
                paths[-1].write_text(t)
            out = subprocess.run([str(lint), *map(str, paths)], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
