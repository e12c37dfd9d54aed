#!/usr/bin/env python3
"""The OpenSearch Dashboards objects for the cflog-* indices: writes saved-objects.ndjson.

    python3 deploy/opensearch/saved_objects.py            # rewrites saved-objects.ndjson
    python3 deploy/opensearch/saved_objects.py --check    # exit 1 if the file differs

saved-objects.ndjson is a saved-objects export (one object per line), importable in
Dashboards (Dashboards Management -> Saved objects -> Import) or by install.sh. It holds the
index pattern `cflog-*` (its field list derived from index-template.json), the
visualizations, the saved search of 5xx responses and the dashboard that lays them out.
deploy/test_opensearch_objects.py checks the file against index-template.json: every field a
visualization aggregates on, filters on or shows is mapped, with a type the aggregation
accepts.

Visualization states are those of OpenSearch Dashboards 1.x/2.x (the Kibana 7.10 formats),
with `migrationVersion` saying so, so an import does not migrate them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "saved-objects.ndjson"
INDEX_TEMPLATE = HERE / "index-template.json"

INDEX_PATTERN_ID = "cflog"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
MIGRATION = {"index-pattern": "7.6.0", "visualization": "7.10.0", "search": "7.9.3", "dashboard": "7.9.3"}

# OpenSearch mapping type -> Dashboards field type.
FIELD_TYPES = {
    "keyword": "string",
    "text": "string",
    "ip": "ip",
    "date": "date",
    "geo_point": "geo_point",
    "boolean": "boolean",
    "long": "number",
    "integer": "number",
    "short": "number",
    "byte": "number",
    "double": "number",
    "float": "number",
}


def leaf_fields(props: dict, prefix: str = ""):
    """(path, mapping) of every mapped leaf field, multi-fields included."""
    for name, m in props.items():
        path = prefix + name
        if "properties" in m:
            yield from leaf_fields(m["properties"], path + ".")
        elif m.get("type") in FIELD_TYPES:
            yield path, m
            for sub, sm in m.get("fields", {}).items():
                yield f"{path}.{sub}", dict(sm, parent=path)


def index_pattern(template: dict) -> dict:
    fields = [
        {"name": n, "type": t, "esTypes": [t], "searchable": True, "aggregatable": a, "readFromDocValues": a, "count": 0, "scripted": False}
        for n, t, a in (("_id", "string", True), ("_index", "string", True), ("_score", "number", False), ("_source", "_source", False))
    ]
    fields[3]["esTypes"] = ["_source"]
    fields[0]["esTypes"] = ["_id"]
    fields[1]["esTypes"] = ["_index"]
    fields[2]["esTypes"] = []
    for path, m in leaf_fields(template["template"]["mappings"]["properties"]):
        es = m["type"]
        spec = {
            "name": path,
            "type": FIELD_TYPES[es],
            "esTypes": [es],
            "searchable": True,
            "aggregatable": es != "text",
            "readFromDocValues": es not in ("text", "geo_point"),
            "count": 0,
            "scripted": False,
        }
        if "parent" in m:
            spec["subType"] = {"multi": {"parent": m["parent"]}}
        fields.append(spec)
    return {
        "id": INDEX_PATTERN_ID,
        "type": "index-pattern",
        "attributes": {"title": template["index_patterns"][0], "timeFieldName": "@timestamp", "fields": json.dumps(fields)},
        "references": [],
        "migrationVersion": {"index-pattern": MIGRATION["index-pattern"]},
    }


def search_source(query: str = "") -> str:
    return json.dumps({"query": {"query": query, "language": "kuery"}, "filter": [], "indexRefName": INDEX_REF})


def count(id_="1", label="Requests"):
    return {"id": id_, "enabled": True, "type": "count", "schema": "metric", "params": {"customLabel": label}}


def over_time(id_="2"):
    return {
        "id": id_,
        "enabled": True,
        "type": "date_histogram",
        "schema": "segment",
        "params": {"field": "@timestamp", "useNormalizedOpenSearchInterval": True, "interval": "auto", "drop_partials": False, "min_doc_count": 1, "extended_bounds": {}},
    }


def terms(id_, field, size, schema, label, order_by="1"):
    return {
        "id": id_,
        "enabled": True,
        "type": "terms",
        "schema": schema,
        "params": {"field": field, "orderBy": order_by, "order": "desc", "size": size, "otherBucket": False, "missingBucket": False, "customLabel": label},
    }


def xy_params(chart: str, mode: str, y_title: str) -> dict:
    return {
        "type": chart,
        "grid": {"categoryLines": False},
        "categoryAxes": [{"id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": True, "style": {}, "scale": {"type": "linear"}, "labels": {"show": True, "filter": True, "truncate": 100}, "title": {}}],
        "valueAxes": [{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left", "show": True, "style": {}, "scale": {"type": "linear", "mode": "normal"}, "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100}, "title": {"text": y_title}}],
        "seriesParams": [{"show": True, "type": chart, "mode": mode, "data": {"label": y_title, "id": "1"}, "valueAxis": "ValueAxis-1", "drawLinesBetweenPoints": True, "lineWidth": 2, "showCircles": True}],
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
        "labels": {"show": False},
        "thresholdLine": {"show": False, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
    }


TABLE_PARAMS = {"perPage": 20, "showPartialRows": False, "showMetricsAtAllLevels": False, "sort": {"columnIndex": None, "direction": None}, "showTotal": False, "totalFunc": "sum", "percentageCol": ""}


def vis(id_: str, title: str, vis_type: str, aggs: list, params: dict, query: str = "", description: str = "") -> dict:
    return {
        "id": id_,
        "type": "visualization",
        "attributes": {
            "title": title,
            "description": description,
            "visState": json.dumps({"title": title, "type": vis_type, "aggs": aggs, "params": params}),
            "uiStateJSON": "{}",
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": search_source(query)},
        },
        "references": [{"name": INDEX_REF, "type": "index-pattern", "id": INDEX_PATTERN_ID}],
        "migrationVersion": {"visualization": MIGRATION["visualization"]},
    }


def visualizations() -> list[dict]:
    def top(id_, title, field, label, extra=()):
        return vis(id_, title, "table", [count(), terms("2", field, 20, "bucket", label), *extra], TABLE_PARAMS)

    bytes_sum = {"id": "3", "enabled": True, "type": "sum", "schema": "metric", "params": {"field": "sc-bytes", "customLabel": "Bytes"}}
    return [
        vis(
            "cflog-status-over-time",
            "cflog: requests by status class",
            "histogram",
            [count(), over_time(), terms("3", "_cflog.status_class", 10, "group", "Status class", order_by="_key")],
            xy_params("histogram", "stacked", "Requests"),
        ),
        vis(
            "cflog-latency-percentiles",
            "cflog: latency percentiles (time-taken, s)",
            "line",
            [
                {"id": "1", "enabled": True, "type": "percentiles", "schema": "metric", "params": {"field": "time-taken", "percents": [50, 95, 99], "customLabel": "time-taken"}},
                over_time(),
            ],
            xy_params("line", "normal", "Seconds"),
        ),
        vis(
            "cflog-cache-hit-ratio",
            "cflog: cache hit ratio (Hit and RefreshHit)",
            "pie",
            [count(), terms("2", "_cflog.cache_hit", 2, "segment", "Cache hit")],
            {"type": "pie", "addTooltip": True, "addLegend": True, "legendPosition": "right", "isDonut": True, "labels": {"show": True, "values": True, "last_level": True, "truncate": 100}},
        ),
        top("cflog-top-uris", "cflog: top URIs", "cs-uri-stem.keyword", "URI", [bytes_sum]),
        top("cflog-top-clients", "cflog: top clients", "c-ip", "Client", [bytes_sum]),
        top("cflog-top-referers", "cflog: top referers", "cs-referer.keyword", "Referer"),
        top("cflog-top-user-agents", "cflog: top user agents", "cs-user-agent.keyword", "User agent", [terms("3", "_cflog.ua_class", 5, "bucket", "Class")]),
        vis(
            "cflog-errors-by-edge",
            "cflog: 4xx and 5xx by edge location",
            "histogram",
            [count(), terms("2", "x-edge-location", 20, "segment", "Edge location"), terms("3", "_cflog.status_class", 2, "group", "Status class", order_by="_key")],
            xy_params("histogram", "stacked", "Errors"),
            query='_cflog.status_class : "4xx" or _cflog.status_class : "5xx"',
        ),
        vis(
            "cflog-edge-map",
            "cflog: requests by edge location",
            "tile_map",
            [
                count(),
                {"id": "2", "enabled": True, "type": "geohash_grid", "schema": "segment", "params": {"field": "_cflog.edge_point", "autoPrecision": True, "precision": 2, "useGeocentroid": True, "isFilteredByCollar": True}},
            ],
            {"mapType": "Scaled Circle Markers", "isDesaturated": True, "addTooltip": True, "heatClusterSize": 1.5, "legendPosition": "bottomright", "mapZoom": 2, "mapCenter": [20, 0], "wms": {"enabled": False, "selectedTmsLayer": {}}},
            description="Edge locations placed at their airport's coordinates (_cflog.edge_point).",
        ),
    ]


def saved_search() -> dict:
    return {
        "id": "cflog-5xx",
        "type": "search",
        "attributes": {
            "title": "cflog: 5xx responses",
            "description": "Requests answered with a server error, newest first.",
            "columns": ["cs-method", "cs-uri-stem", "sc-status", "x-edge-detailed-result-type", "c-ip", "x-edge-location", "time-taken", "_cflog.distribution"],
            "sort": [["@timestamp", "desc"]],
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": '_cflog.status_class : "5xx"', "language": "kuery"}, "filter": [], "highlightAll": True, "version": True, "indexRefName": INDEX_REF})},
        },
        "references": [{"name": INDEX_REF, "type": "index-pattern", "id": INDEX_PATTERN_ID}],
        "migrationVersion": {"search": MIGRATION["search"]},
    }


def dashboard(panels: list[dict]) -> dict:
    grid, refs = [], []
    for i, obj in enumerate(panels):
        w, h = (48, 15) if obj["type"] == "search" else (24, 15)
        x = 0 if (i % 2 == 0 or w == 48) else 24
        grid.append({"version": "7.10.2", "gridData": {"x": x, "y": (i // 2) * 15, "w": w, "h": h, "i": str(i + 1)}, "panelIndex": str(i + 1), "embeddableConfig": {}, "panelRefName": f"panel_{i}"})
        refs.append({"name": f"panel_{i}", "type": obj["type"], "id": obj["id"]})
    return {
        "id": "cflog-dashboard",
        "type": "dashboard",
        "attributes": {
            "title": "cflog: CloudFront requests",
            "description": "Enriched CloudFront real-time log records (cflog). Counts are of logged requests (the sampling rate's share of all).",
            "panelsJSON": json.dumps(grid),
            "optionsJSON": json.dumps({"hidePanelTitles": False, "useMargins": True}),
            "version": 1,
            "timeRestore": True,
            "timeTo": "now",
            "timeFrom": "now-24h",
            "refreshInterval": {"pause": False, "value": 60000},
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"}, "filter": []})},
        },
        "references": refs,
        "migrationVersion": {"dashboard": MIGRATION["dashboard"]},
    }


def objects(template: dict) -> list[dict]:
    panels = visualizations() + [saved_search()]
    return [index_pattern(template), *panels, dashboard(panels)]


def render(template: dict) -> str:
    return "".join(json.dumps(o, sort_keys=True) + "\n" for o in objects(template))


def main(argv: list[str]) -> int:
    text = render(json.loads(INDEX_TEMPLATE.read_text()))
    if "--check" in argv:
        if not OUT.is_file() or OUT.read_text() != text:
            print(f"{OUT} is stale: run python3 {Path(__file__).relative_to(HERE.parent.parent)}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
